"""Response models of the histories: an invoice's Logs tab and a customer's Messages tab (the
conventions of tracker.models.api)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from tracker.domain.engagement import Engagement
from tracker.domain.status import Status
from tracker.domain.tracking import Tracking
from tracker.domain.views import InvoiceLogGroup, Listing, RecipientRecord
from tracker.models.api import (
    NEXT_CURSOR_DESCRIPTION,
    TRACKING_DESCRIPTION,
    ApiModel,
    MessageKind,
    TimelineEvent,
    TrackingMode,
    engagement_fields,
    message_kind,
    tracking_mode,
)
from tracker.models.links import RecipientOutcome


class InvoiceLogRecipient(RecipientOutcome):
    """A recipient of a message that carried the invoice, with its events in time order."""

    recipient_id: str
    email: str
    customer_id: str
    name: str | None
    status: Status = Field(description="Current status.")
    open_count: int = Field(ge=0, description="Opens by the customer.")
    click_count: int = Field(ge=0, description="Clicks by the customer.")
    machine_open_count: int = Field(ge=0)
    machine_click_count: int = Field(ge=0)
    engagement: Engagement
    bounce_reason: str | None
    dropped_reason: str | None
    events: list[TimelineEvent]
    omitted_events: int = Field(ge=0, description="Events of a long history counted but not kept.")

    @classmethod
    def of(cls, record: RecipientRecord) -> InvoiceLogRecipient:
        return cls(
            recipient_id=record.recipient_id,
            email=record.email,
            customer_id=record.customer_id,
            name=record.name,
            status=record.status,
            **engagement_fields(record.facts),
            bounce_reason=record.facts.bounce_reason,
            dropped_reason=record.dropped_reason,
            **RecipientOutcome.outcome_fields(record),
            events=[TimelineEvent.of(e, record.facts) for e in record.events],
            omitted_events=record.facts.omitted_events,
        )


class InvoiceLogMessage(ApiModel):
    """A message that carried the invoice.

    A page can split a message's recipients: the same `message_id` can end one page and start
    the next; merge them by id. The message's fields are `null` only when its header no longer
    exists."""

    message_id: str
    kind: MessageKind | None
    subject: str | None
    sent_at: datetime | None
    invoice_id: str | None
    payment_id: str | None
    tracking: TrackingMode | None = Field(description=TRACKING_DESCRIPTION)
    recipients: list[InvoiceLogRecipient]

    @classmethod
    def of(cls, group: InvoiceLogGroup) -> InvoiceLogMessage:
        recipients = [InvoiceLogRecipient.of(r) for r in group.recipients_in_order]
        h = group.header
        return cls(
            message_id=group.message_id,
            kind=message_kind(h.kind) if h is not None else None,
            subject=h.subject if h is not None else None,
            sent_at=h.created_at if h is not None else None,
            invoice_id=h.invoice_id if h is not None else None,
            payment_id=h.payment_id if h is not None else None,
            tracking=tracking_mode(h.tracking) if h is not None else None,
            recipients=recipients,
        )


class InvoiceLogPage(ApiModel):
    invoice_id: str
    items: list[InvoiceLogMessage] = Field(description="Oldest message first.")
    next_cursor: str | None = Field(description=NEXT_CURSOR_DESCRIPTION)

    @classmethod
    def of(cls, invoice_id: str, listing: Listing[InvoiceLogGroup]) -> InvoiceLogPage:
        return cls(
            invoice_id=invoice_id,
            items=[InvoiceLogMessage.of(g) for g in listing.items],
            next_cursor=listing.next_cursor,
        )


class CustomerMessage(RecipientOutcome):
    """One row of a customer's Messages tab: a message and this customer's status in it."""

    message_id: str
    kind: MessageKind
    subject: str
    sent_at: datetime
    invoice_id: str | None
    payment_id: str | None
    tracking: TrackingMode = Field(description=TRACKING_DESCRIPTION)
    recipient_id: str
    email: str
    status: Status
    open_count: int = Field(ge=0, description="Opens by the customer.")
    click_count: int = Field(ge=0, description="Clicks by the customer.")
    machine_open_count: int = Field(ge=0)
    machine_click_count: int = Field(ge=0)
    engagement: Engagement
    bounce_reason: str | None
    dropped_reason: str | None

    @classmethod
    def of(cls, record: RecipientRecord) -> CustomerMessage:
        message = record.message
        return cls(
            message_id=record.message_id,
            kind=message_kind(record.kind),
            subject=message.subject if message is not None else "",
            sent_at=record.message_created_at,
            invoice_id=message.invoice_id if message is not None else None,
            payment_id=message.payment_id if message is not None else None,
            tracking=tracking_mode(message.tracking if message is not None else Tracking.ON),
            recipient_id=record.recipient_id,
            email=record.email,
            status=record.status,
            **engagement_fields(record.facts),
            bounce_reason=record.facts.bounce_reason,
            dropped_reason=record.dropped_reason,
            **RecipientOutcome.outcome_fields(record),
        )


class CustomerMessagePage(ApiModel):
    items: list[CustomerMessage] = Field(description="Newest first.")
    next_cursor: str | None = Field(description=NEXT_CURSOR_DESCRIPTION)

    @classmethod
    def of(cls, listing: Listing[RecipientRecord]) -> CustomerMessagePage:
        return cls(items=[CustomerMessage.of(r) for r in listing.items], next_cursor=listing.next_cursor)
