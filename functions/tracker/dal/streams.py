"""What the table's stream consumers share about a stream record, apart from the projection: the
events function (tracker.dal.status_events) needs this alone, not the projector's stores."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# What DynamoDB Streams names as the remover of an item the table's TTL deleted.
TTL_PRINCIPAL = "dynamodb.amazonaws.com"


def is_ttl_removal(record: Mapping[str, Any]) -> bool:
    """A recipient the table's TTL removed (RECIPIENT_RETENTION_DAYS) leaves its message's counts as
    they are: the message outlives it (MESSAGE_RETENTION_DAYS) and keeps counting it."""
    identity = record.get("userIdentity")
    return (
        record.get("eventName") == "REMOVE"
        and isinstance(identity, Mapping)
        and identity.get("type") == "Service"
        and identity.get("principalId") == TTL_PRINCIPAL
    )
