"""The events a tenant's software receives: one per recipient status (or engagement) change.

A change is what one write of a recipient did to it: its status before and after, and its
engagement (tracker.domain.engagement) before and after. Its id is derived from the change itself
(tenant, message, recipient, both statuses, both engagements, and the version the write gave the
item), so the same change always has the same id, however often it is read from the stream,
retried or replayed from the bus's archive, and a consumer de-duplicates by it. docs/events.md
has the schema of ``detail``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tracker.domain.reasons import Reason

EVENT_ID_HEX = 32  # 128 bits of SHA-256


def iso_time(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class StatusChange:
    tenant_id: str
    message_id: str
    recipient_id: str
    customer_id: str | None
    kind: str | None
    invoice_id: str | None
    payment_id: str | None
    previous_status: str | None  # None: the recipient was created in ``status``
    status: str
    previous_engagement: str | None
    engagement: str | None
    reason: Reason | None
    ses_message_id: str | None
    occurred_at: datetime  # the SES event (or send outcome) behind the change, when known
    recorded_at: datetime  # when the table recorded it
    version: str  # the recipient item's version after the write (the stream's sequence without one)
    test: bool = False  # POST /webhook/test

    @property
    def event_id(self) -> str:
        return change_id(
            self.tenant_id,
            self.message_id,
            self.recipient_id,
            self.previous_status,
            self.status,
            self.previous_engagement,
            self.engagement,
            self.version,
        )

    def detail(self) -> dict[str, Any]:
        """The event's ``detail`` (docs/events.md): plain JSON values only."""
        reason = (
            {"code": self.reason.code, "summary": self.reason.summary, "advice": self.reason.advice}
            if self.reason is not None
            else None
        )
        return {
            "event_id": self.event_id,
            "tenant_id": self.tenant_id,
            "message_id": self.message_id,
            "recipient_id": self.recipient_id,
            "customer_id": self.customer_id,
            "kind": self.kind,
            "invoice_id": self.invoice_id,
            "payment_id": self.payment_id,
            "previous_status": self.previous_status,
            "status": self.status,
            "previous_engagement": self.previous_engagement,
            "engagement": self.engagement,
            "reason": reason,
            "ses_message_id": self.ses_message_id,
            "occurred_at": iso_time(self.occurred_at),
            "recorded_at": iso_time(self.recorded_at),
            "version": self.version,
            "test": self.test,
        }


def change_id(*parts: str | None) -> str:
    """A stable id of a change from its parts (None and "" differ: a separator-safe encoding)."""
    text = "\x1f".join("\x00" if part is None else part for part in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:EVENT_ID_HEX]


def is_published(change: StatusChange) -> bool:
    """A recipient's creation as ``queued`` is no change (every recipient starts there); its
    creation in another status (dropped at creation, say) is one."""
    if change.previous_status is None:
        return change.status != "queued"
    return change.previous_status != change.status or change.previous_engagement != change.engagement
