"""Response models of the attention queue (``GET /attention``, ``GET /attention/count``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tracker.domain.attention import AttentionRecord, Concern
from tracker.domain.reasons.records import reason_of_code
from tracker.domain.status import Status
from tracker.domain.views import Listing
from tracker.models.reasons import ReasonOut


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class AttentionRecipient(_Model):
    recipient_id: str
    customer_id: str
    email: str
    name: str | None
    status: Status
    reason: ReasonOut | None = Field(
        description="Failed recipients: why, in plain words, with the next step."
    )
    raw_reason: str | None = Field(
        description="The raw text the reason was read from (cut to 200 characters)."
    )
    since: datetime | None = Field(description="When it failed, or when it was sent (still pending).")

    @classmethod
    def of(cls, entry: Concern) -> AttentionRecipient:
        return cls(
            recipient_id=entry.recipient_id,
            customer_id=entry.customer_id,
            email=entry.email,
            name=entry.name,
            status=entry.status,
            reason=ReasonOut.of(reason_of_code(entry.code, entry.raw_reason)),
            raw_reason=entry.raw_reason,
            since=entry.since,
        )


class AttentionItem(_Model):
    """A document whose delivery failed or is stuck, with the recipients concerned."""

    message_id: str
    kind: Literal["email", "invoice", "receipt"]
    subject: str
    invoice_id: str | None
    payment_id: str | None
    created_at: datetime
    attention_at: datetime = Field(description="When it started needing attention.")
    problem: Literal["failed", "stuck"] = Field(
        description="`failed`: a recipient bounced, complained, was dropped, rejected or failed; "
        "`stuck`: a recipient has no Delivery long after the send (ATTENTION_STUCK_HOURS, 24 h)."
    )
    recipients: list[AttentionRecipient] = Field(
        description="The recipients concerned, failed first (neither resent nor dismissed)."
    )
    omitted_recipients: int = Field(
        ge=0, description="Recipients concerned beyond those listed (a message of more than 20 lists none)."
    )

    @classmethod
    def of(cls, record: AttentionRecord) -> AttentionItem:
        message = record.message
        return cls(
            message_id=message.message_id,
            kind=message.kind,
            subject=message.subject,
            invoice_id=message.invoice_id,
            payment_id=message.payment_id,
            created_at=message.created_at,
            attention_at=record.attention_at,
            problem=record.problem.value,
            recipients=[AttentionRecipient.of(entry) for entry in record.recipients],
            omitted_recipients=record.omitted,
        )


class AttentionPage(_Model):
    items: list[AttentionItem] = Field(description="Newest first (by `attention_at`).")
    next_cursor: str | None = Field(description="Opaque cursor for the next page, `null` on the last page.")

    @classmethod
    def of(cls, listing: Listing[AttentionRecord]) -> AttentionPage:
        return cls(items=[AttentionItem.of(r) for r in listing.items], next_cursor=listing.next_cursor)


class AttentionCount(_Model):
    count: int = Field(ge=0, description="Documents in the queue (the navigation badge).")
