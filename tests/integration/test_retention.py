"""Retention (docs/data-model.md "Retention"): the items POST /messages writes carry their expiry,
and a recipient the table's TTL removes leaves its message's counts as they were."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.factories import CREATED_AT, seed_message
from tests.projection import default_projector, project
from tracker.dal import keys
from tracker.dal.messages import NewMessage, NewRecipient, put_message
from tracker.dal.models import MessageContentItem, MessageItem, RecipientItem
from tracker.domain.messages import MessageContent
from tracker.domain.retention import Retention
from tracker.domain.status import Status
from tracker.handlers.projector import process_batch

pytestmark = pytest.mark.usefixtures("table")

# What DynamoDB Streams writes into the record of an item its TTL deleted.
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def test_header_recipients_and_content_expire_after_their_retention() -> None:
    retention = Retention(
        messages=timedelta(days=90), recipients=timedelta(days=60), content=timedelta(days=7)
    )
    message = NewMessage("tenant-a", "msg-ttl", "email", "Hello", CREATED_AT)
    put_message(
        message, [NewRecipient("r0", "cust-0", "a@example.com")], MessageContent("Hello", "Hi"), retention
    )
    pk = keys.message_pk("tenant-a", "msg-ttl")
    assert MessageItem.get(pk, keys.MESSAGE_SK).expires_at == CREATED_AT + timedelta(days=90)
    assert RecipientItem.get(pk, keys.recipient_sk("r0")).expires_at == CREATED_AT + timedelta(days=60)
    assert MessageContentItem.get(pk, keys.CONTENT_SK).expires_at == CREATED_AT + timedelta(days=7)


def test_retention_refuses_parts_that_outlive_their_message() -> None:
    with pytest.raises(ValueError, match="longer than their message"):
        Retention(messages=timedelta(days=30), recipients=timedelta(days=60))
    with pytest.raises(ValueError, match="at least one day"):
        Retention(content=timedelta(0))


def _removed_by_ttl(event: dict[str, Any]) -> dict[str, Any]:
    for record in event["Records"]:
        if record.get("eventName") == "REMOVE":
            record["userIdentity"] = TTL_IDENTITY
    return event


def _counts(message_id: str) -> dict[str, int]:
    return MessageItem.get(keys.message_pk("tenant-a", message_id), keys.MESSAGE_SK).counts()


def test_a_recipient_removed_by_ttl_changes_no_count_and_one_deleted_otherwise_does() -> None:
    seed_message(message_id="msg-1", recipients=3, outcomes={0: Status.SENT, 1: Status.SENT})
    seed_message(message_id="msg-2", recipients=3, outcomes={0: Status.SENT, 1: Status.SENT})
    project()
    before = _counts("msg-1")
    assert before[Status.SENT] == 2

    RecipientItem.get(keys.message_pk("tenant-a", "msg-1"), keys.recipient_sk("r0")).delete()
    projector = default_projector()
    project(handler=lambda event: process_batch(_removed_by_ttl(event), projector))
    assert _counts("msg-1") == before, "the message keeps counting a recipient that expired"

    # A deletion by anyone else (an operator's) is a change like any other.
    RecipientItem.get(keys.message_pk("tenant-a", "msg-2"), keys.recipient_sk("r0")).delete()
    project()
    assert _counts("msg-2")[Status.SENT] == 1
