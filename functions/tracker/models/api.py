"""Response models of the HTTP API (PRODUCT.md, "API conventions").

snake_case fields, times as ISO-8601 UTC strings (``2026-11-01T09:00:00Z``), lowercase status
values, rates as fractions from 0 to 1 or ``null`` when their denominator is 0, and every list as
``{"items": [...], "next_cursor": "..." | null}``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tracker.domain.events import EventKind
from tracker.domain.status import Status

MessageKind = Literal["email", "invoice", "receipt"]

# Ids that appear in paths are placed in DynamoDB keys: no '#', no '/', bounded length.
ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,128}$"

NEXT_CURSOR_DESCRIPTION = (
    "Opaque cursor for the next page (pass it back as `cursor`), `null` on the last page. "
    "A page may hold fewer than `limit` items (even none) while `next_cursor` is set: keep paging "
    "until it is `null`."
)


class ApiModel(BaseModel):
    # defer_build: a model's validator and serializer are built when a request first uses it, so a
    # cold start pays for the one route it serves, not for every model of the API at import.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class ErrorDetail(ApiModel):
    code: str = Field(description="Machine-readable error code, e.g. `not_found`, `invalid_cursor`.")
    message: str
    field: str | None = Field(default=None, description="The offending input, when known.")


class ErrorResponse(ApiModel):
    error: ErrorDetail


class StatusCounts(ApiModel):
    """Recipients per status; every status is present."""

    queued: int = Field(ge=0)
    sent: int = Field(ge=0)
    delayed: int = Field(ge=0)
    delivered: int = Field(ge=0)
    opened: int = Field(ge=0)
    clicked: int = Field(ge=0)
    bounced: int = Field(ge=0)
    dropped: int = Field(ge=0)
    complaint: int = Field(ge=0)
    rejected: int = Field(ge=0)
    failed: int = Field(ge=0)


class Message(ApiModel):
    """A message with its per-status counts and the rates derived from them."""

    message_id: str
    kind: MessageKind
    subject: str
    sent_at: datetime = Field(description="When the message was submitted for sending.")
    invoice_id: str | None = None
    payment_id: str | None = None
    recipients: int = Field(ge=0, description="All recipients (the sum of `counts`).")
    counts: StatusCounts
    pending: int = Field(ge=0, description="Recipients without an outcome yet (queued, sent, delayed).")
    delivery_rate: float | None = Field(
        ge=0, le=1, description="Delivered, opened, clicked or complaint / all recipients."
    )
    open_rate: float | None = Field(ge=0, le=1, description="Opened or clicked / delivered.")
    click_rate: float | None = Field(ge=0, le=1, description="Clicked / delivered.")
    bounce_rate: float | None = Field(ge=0, le=1, description="Bounced / recipients not dropped.")
    complaint_rate: float | None = Field(ge=0, le=1, description="Complaint / delivered.")


class MessagePage(ApiModel):
    items: list[Message]
    next_cursor: str | None = Field(description=NEXT_CURSOR_DESCRIPTION)


class Bounce(ApiModel):
    type: str | None = Field(description="SES bounce type: Permanent, Transient or Undetermined.")
    subtype: str | None = Field(description="SES bounce subtype, e.g. General, NoEmail, MailboxFull.")
    reason: str | None = Field(
        description="The diagnostic from the recipient's server (else type / subtype)."
    )
    at: datetime


class Complaint(ApiModel):
    feedback_type: str | None = Field(description="e.g. abuse, not-spam (when the provider says).")
    at: datetime


class Recipient(ApiModel):
    """One row of a message's Recipients tab."""

    recipient_id: str
    customer_id: str
    email: str
    name: str | None
    status: Status
    open_count: int = Field(ge=0)
    click_count: int = Field(ge=0)
    sent_at: datetime | None = Field(description="When SES accepted it.")
    delivered_at: datetime | None
    first_opened_at: datetime | None
    last_opened_at: datetime | None
    bounce: Bounce | None
    complaint: Complaint | None
    dropped_reason: str | None = Field(description="Why it was not sent (status `dropped` only).")
    ses_message_id: str | None


class RecipientPage(ApiModel):
    items: list[Recipient]
    next_cursor: str | None = Field(description=NEXT_CURSOR_DESCRIPTION)


class TimelineEvent(ApiModel):
    """One SES event of a recipient, as recorded in the event log."""

    event_id: str
    kind: EventKind
    at: datetime
    details: dict[str, Any] = Field(
        description="Type-specific details, e.g. bounce_type, bounce_subtype, diagnostic_code, link."
    )


class TimelinePage(ApiModel):
    items: list[TimelineEvent] = Field(description="Oldest first.")
    next_cursor: str | None = Field(description=NEXT_CURSOR_DESCRIPTION)


class InvoiceLogRecipient(ApiModel):
    """A recipient of a message that carried the invoice, with its events in time order.

    Fields read from the recipient's own item are `null` when that item is on another page."""

    recipient_id: str
    email: str | None
    customer_id: str | None
    name: str | None
    status: Status | None = Field(description="Current status; `null` when it is on another page.")
    open_count: int | None
    click_count: int | None
    bounce_reason: str | None
    dropped_reason: str | None
    events: list[TimelineEvent]


class InvoiceLogMessage(ApiModel):
    """A message that carried the invoice.

    A page can split a message: the same `message_id` (and `recipient_id`) can end one page and
    start the next; merge them by id. Fields whose item is on another page are `null`."""

    message_id: str
    kind: MessageKind | None
    subject: str | None
    sent_at: datetime | None
    invoice_id: str | None
    payment_id: str | None
    recipients: list[InvoiceLogRecipient]


class InvoiceLogPage(ApiModel):
    invoice_id: str
    items: list[InvoiceLogMessage] = Field(description="Oldest message first.")
    next_cursor: str | None = Field(description=NEXT_CURSOR_DESCRIPTION)


class CustomerMessage(ApiModel):
    """One row of a customer's Messages tab: a message and this customer's status in it."""

    message_id: str
    kind: MessageKind
    subject: str
    sent_at: datetime
    invoice_id: str | None
    payment_id: str | None
    recipient_id: str
    email: str
    status: Status
    open_count: int = Field(ge=0)
    click_count: int = Field(ge=0)
    bounce_reason: str | None
    dropped_reason: str | None


class CustomerMessagePage(ApiModel):
    items: list[CustomerMessage] = Field(description="Newest first.")
    next_cursor: str | None = Field(description=NEXT_CURSOR_DESCRIPTION)
