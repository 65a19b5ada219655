"""The normalized form of one SES event as it applies to one recipient.

Parsing (models.ses_events) turns every SES format into these; the state model
(domain.facts) only ever sees these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    SEND = "send"
    DELIVERY = "delivery"
    OPEN = "open"
    CLICK = "click"
    BOUNCE = "bounce"
    COMPLAINT = "complaint"
    REJECT = "reject"
    RENDERING_FAILURE = "rendering_failure"
    DELIVERY_DELAY = "delivery_delay"
    SUBSCRIPTION = "subscription"


@dataclass(frozen=True)
class RecipientEvent:
    """One SES event for one recipient address.

    ``event_id`` is a stable hash of the event's identifying content, so a
    redelivered or republished copy of the same SES event has the same id.
    ``details`` holds the type-specific fields a person needs (JSON-safe values,
    snake_case keys), e.g. ``bounce_type``, ``diagnostic_code``, ``link``.
    """

    event_id: str
    kind: EventKind
    at: datetime
    ses_message_id: str
    email: str
    mail_sent_at: datetime
    tags: Mapping[str, str] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)
