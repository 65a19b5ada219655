"""Response models of the HTTP API (conventions: docs/domain.md, "API conventions").

snake_case fields, times as ISO-8601 UTC strings (``2026-11-01T09:00:00Z``), lowercase status
values, rates as fractions from 0 to 1 or ``null`` when their denominator is 0, and every list as
``{"items": [...], "next_cursor": "..." | null}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field

from tracker.domain.engagement import Engagement, Verdict
from tracker.domain.events import EventKind
from tracker.domain.facts import FETCH_CLASS_DETAIL, UNCLASSIFIED, RecipientFacts
from tracker.domain.ids import EXTERNAL_ID_PATTERN
from tracker.domain.reasons.records import event_reason
from tracker.domain.status import COUNTED, Status, compute_rates
from tracker.domain.tracking import Tracking, tracked_rates
from tracker.domain.views import (
    EventRecord,
    Listing,
    MessageRecord,
    RecipientRecord,
    Timeline,
)
from tracker.models.links import RecipientOutcome, ResentFrom
from tracker.models.reasons import ReasonOut

MessageKind = Literal["email", "invoice", "receipt"]
TrackingMode = Literal["on", "off", "clicks_only"]
TRACKING_DESCRIPTION = (
    "Open and click tracking, as decided when the message was created: `on`; `off` (its kind is "
    "sent untracked: no open pixel, no rewritten links, so the open and click rates are `null`, "
    "not 0); `clicks_only` (no HTML part, so no pixel: the open rates are `null`)."
)

# Ids that appear in paths are placed in DynamoDB keys: no '#', no '/', bounded length.
ID_PATTERN = EXTERNAL_ID_PATTERN


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def message_kind(value: str) -> MessageKind:
    return cast(MessageKind, value)


def tracking_mode(value: Tracking) -> TrackingMode:
    return value.value


def engagement_fields(facts: RecipientFacts) -> dict[str, Any]:
    """A recipient's opens and clicks as the API shows them: the customer's, and the automatic ones."""
    counts = facts.engagement_counts
    return {
        "open_count": counts.human_opens,
        "click_count": counts.human_clicks,
        "machine_open_count": counts.machine_opens,
        "machine_click_count": counts.machine_clicks,
        "engagement": facts.engagement,
    }


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
    machine_opened: int = Field(
        ge=0,
        description="Not a status: of the `delivered` recipients, those opened (or clicked) only "
        "automatically, e.g. by Apple Mail Privacy Protection (docs/engagement.md).",
    )
    machine_clicked: int = Field(
        ge=0, description="Not a status: delivered recipients whose clicks were all by link scanners."
    )

    @classmethod
    def of(cls, counts: Mapping[str, int]) -> StatusCounts:
        return cls(**{tally: counts.get(tally, 0) for tally in COUNTED})


class Message(ApiModel):
    """A message with its per-status counts and the rates derived from them."""

    message_id: str
    kind: MessageKind
    subject: str
    sent_at: datetime = Field(description="When the message was submitted for sending.")
    invoice_id: str | None = None
    payment_id: str | None = None
    recipients: int = Field(ge=0, description="All recipients (the sum of the statuses in `counts`).")
    counts: StatusCounts
    pending: int = Field(ge=0, description="Recipients without an outcome yet (queued, sent, delayed).")
    delivery_rate: float | None = Field(
        ge=0, le=1, description="Delivered, opened, clicked or complaint / all recipients."
    )
    open_rate: float | None = Field(
        ge=0, le=1, description="Customers who opened or clicked / delivered (automatic opens left out)."
    )
    open_rate_all: float | None = Field(
        ge=0,
        le=1,
        description="Every recipient with an open or click SES reported, machines' too / delivered.",
    )
    click_rate: float | None = Field(ge=0, le=1, description="Customers who clicked / delivered.")
    click_rate_all: float | None = Field(
        ge=0, le=1, description="Every recipient with a click SES reported, scanners' too / delivered."
    )
    bounce_rate: float | None = Field(ge=0, le=1, description="Bounced / recipients not dropped.")
    complaint_rate: float | None = Field(ge=0, le=1, description="Complaint / delivered.")
    resent_from: ResentFrom | None = Field(
        default=None, description="The recipient this message was resent in place of (a resend)."
    )
    tracking: TrackingMode = Field(default="on", description=TRACKING_DESCRIPTION)

    @classmethod
    def of(cls, record: MessageRecord) -> Message:
        rates = tracked_rates(compute_rates(record.counts), record.tracking)
        return cls(
            message_id=record.message_id,
            kind=message_kind(record.kind),
            subject=record.subject,
            sent_at=record.created_at,
            invoice_id=record.invoice_id,
            payment_id=record.payment_id,
            recipients=rates.recipients,
            counts=StatusCounts.of(record.counts),
            pending=rates.pending,
            delivery_rate=rates.delivery_rate,
            open_rate=rates.open_rate,
            open_rate_all=rates.open_rate_all,
            click_rate=rates.click_rate,
            click_rate_all=rates.click_rate_all,
            bounce_rate=rates.bounce_rate,
            complaint_rate=rates.complaint_rate,
            resent_from=ResentFrom.of(record.resent_from),
            tracking=tracking_mode(record.tracking),
        )


class MessagePage(ApiModel):
    items: list[Message]
    next_cursor: str | None = Field(description=NEXT_CURSOR_DESCRIPTION)

    @classmethod
    def of(cls, listing: Listing[MessageRecord]) -> MessagePage:
        return cls(items=[Message.of(r) for r in listing.items], next_cursor=listing.next_cursor)


class Bounce(ApiModel):
    type: str | None = Field(description="SES bounce type: Permanent, Transient or Undetermined.")
    subtype: str | None = Field(description="SES bounce subtype, e.g. General, NoEmail, MailboxFull.")
    reason: str | None = Field(
        description="The diagnostic from the recipient's server (else type / subtype)."
    )
    at: datetime

    @classmethod
    def of(cls, facts: RecipientFacts) -> Bounce | None:
        if facts.bounce is None:
            return None
        values = facts.bounce.values
        return cls(
            type=_text(values.get("bounce_type")),
            subtype=_text(values.get("bounce_subtype")),
            reason=facts.bounce_reason,
            at=facts.bounce.at,
        )


class Complaint(ApiModel):
    feedback_type: str | None = Field(description="e.g. abuse, not-spam (when the provider says).")
    at: datetime

    @classmethod
    def of(cls, facts: RecipientFacts) -> Complaint | None:
        if facts.complaint is None:
            return None
        return cls(feedback_type=_text(facts.complaint.values.get("feedback_type")), at=facts.complaint.at)


class Recipient(RecipientOutcome):
    """One row of a message's Recipients tab."""

    recipient_id: str
    customer_id: str
    email: str
    name: str | None
    status: Status
    open_count: int = Field(ge=0, description="Opens by the customer.")
    click_count: int = Field(ge=0, description="Clicks by the customer.")
    machine_open_count: int = Field(
        ge=0, description="Automatic opens (Apple Mail Privacy Protection, prefetch)."
    )
    machine_click_count: int = Field(ge=0, description="Clicks by link scanners.")
    engagement: Engagement = Field(
        description="`human`, `machine_only` (automatic opens or clicks only) or `none`."
    )
    sent_at: datetime | None = Field(description="When SES accepted it.")
    delivered_at: datetime | None
    first_opened_at: datetime | None
    last_opened_at: datetime | None
    bounce: Bounce | None
    complaint: Complaint | None
    dropped_reason: str | None = Field(description="Why it was not sent (status `dropped` only).")
    ses_message_id: str | None

    @classmethod
    def of(cls, record: RecipientRecord) -> Recipient:
        facts = record.facts
        return cls(
            recipient_id=record.recipient_id,
            customer_id=record.customer_id,
            email=record.email,
            name=record.name,
            status=record.status,
            **engagement_fields(facts),
            sent_at=facts.sent_at,
            delivered_at=facts.delivered_at,
            first_opened_at=facts.first_opened_at,
            last_opened_at=facts.last_opened_at,
            bounce=Bounce.of(facts),
            complaint=Complaint.of(facts),
            dropped_reason=record.dropped_reason,
            **RecipientOutcome.outcome_fields(record),
            ses_message_id=record.ses_message_id,
        )


class RecipientPage(ApiModel):
    items: list[Recipient]
    next_cursor: str | None = Field(description=NEXT_CURSOR_DESCRIPTION)

    @classmethod
    def of(cls, listing: Listing[RecipientRecord]) -> RecipientPage:
        return cls(items=[Recipient.of(r) for r in listing.items], next_cursor=listing.next_cursor)


class TimelineEvent(ApiModel):
    """One SES event of a recipient, as its timeline keeps it."""

    event_id: str
    kind: EventKind
    at: datetime
    details: dict[str, Any] = Field(
        description="Type-specific details: `fetch_class` and, for a click, `link_id` and `link`; "
        "`bounce_type` and `bounce_subtype`; `feedback_type`; `delay_type`; and every detail SES "
        "sent for the latest event of its kind (e.g. `diagnostic_code`)."
    )
    verdict: Verdict | None = Field(
        default=None, description="Opens and clicks: `human`, `privacy_proxy`, `prefetch` or `scanner`."
    )
    verdict_reason: str | None = Field(default=None, description="Why, in a few words.")
    reason: ReasonOut | None = Field(
        default=None,
        description="Bounces, complaints, rejects and rendering failures: why, in plain words, with "
        "the next step (the raw text stays in `details`).",
    )

    @classmethod
    def of(cls, record: EventRecord, facts: RecipientFacts | None = None) -> TimelineEvent:
        """With the recipient's facts, an open's or click's verdict takes the timing rules into
        account; without them (its item on another page), it is the verdict of who fetched it."""
        verdict: Verdict | None = None
        reason: str | None = None
        if record.kind in (EventKind.OPEN, EventKind.CLICK):
            code = str(record.details.get(FETCH_CLASS_DETAIL) or UNCLASSIFIED)
            verdict_value, reason = (facts or RecipientFacts()).verdict_of(
                record.event_id, record.kind.value, code
            )
            verdict = Verdict(verdict_value)
        return cls(
            event_id=record.event_id,
            kind=record.kind,
            at=record.at,
            details=dict(record.details),
            verdict=verdict,
            verdict_reason=reason,
            reason=ReasonOut.of(event_reason(record.kind, record.details)),
        )


class TimelinePage(ApiModel):
    items: list[TimelineEvent] = Field(description="Oldest first.")
    next_cursor: str | None = Field(description=NEXT_CURSOR_DESCRIPTION)
    omitted_events: int = Field(
        ge=0,
        description="Events of a long history that are counted but not kept: a recipient keeps its "
        "first 24 and last 8 events, its earliest 20 opens and clicks, and every bounce, complaint, "
        "reject and rendering failure.",
    )

    @classmethod
    def of(cls, timeline: Timeline) -> TimelinePage:
        facts = timeline.recipient.facts
        return cls(
            items=[TimelineEvent.of(r, facts) for r in timeline.events.items],
            next_cursor=timeline.events.next_cursor,
            omitted_events=timeline.omitted,
        )
