"""The read side's records: what the store hands back for the four views, and the derivations the
views share (exact counts of one message, why a recipient was dropped, an invoice log's groups)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from tracker.domain.events import EventKind
from tracker.domain.facts import FETCH_CLASS_DETAIL, RecipientFacts
from tracker.domain.links import Dismissal, MessageLink, ResendLink
from tracker.domain.status import Status
from tracker.domain.timeline import TimelineEntry
from tracker.domain.tracking import Tracking

T = TypeVar("T")

# What the Recipients tab shows for an address SES itself refused to send to.
SES_SUPPRESSION_REASON = "SES account suppression list"


@dataclass(frozen=True)
class MessageRecord:
    message_id: str
    kind: str
    subject: str
    created_at: datetime
    invoice_id: str | None
    payment_id: str | None
    counts: Mapping[str, int]
    resent_from: MessageLink | None = None
    tracking: Tracking = Tracking.ON


@dataclass(frozen=True)
class RecipientRecord:
    message_id: str
    recipient_id: str
    customer_id: str
    email: str
    name: str | None
    kind: str  # the message's
    message_created_at: datetime
    ses_message_id: str | None
    # The stored status (what the counts and the status filter use) and the facts behind it.
    status: Status
    facts: RecipientFacts
    # Its message's header, when the view reads it too (a customer's messages, an invoice log).
    message: MessageRecord | None = None
    resent_as: ResendLink | None = None
    dismissed: Dismissal | None = None

    @property
    def dropped_reason(self) -> str | None:
        return dropped_reason(self.status, self.facts)

    @property
    def events(self) -> list[EventRecord]:
        """The recipient's kept events, oldest first (tracker.domain.timeline)."""
        return [event_record(self, entry) for entry in self.facts.timeline]


@dataclass(frozen=True)
class EventRecord:
    message_id: str
    recipient_id: str
    email: str
    event_id: str
    kind: EventKind
    at: datetime
    details: Mapping[str, Any]


LogRecord = MessageRecord | RecipientRecord

# The latest event of these kinds keeps its full details in the facts (tracker.domain.facts).
_DETAILED = {
    EventKind.BOUNCE: "bounce",
    EventKind.COMPLAINT: "complaint",
    EventKind.DELIVERY_DELAY: "delay",
    EventKind.REJECT: "reject",
    EventKind.RENDERING_FAILURE: "rendering_failure",
    EventKind.SUBSCRIPTION: "subscription",
}


def entry_details(entry: TimelineEntry, facts: RecipientFacts) -> dict[str, Any]:
    """What a view shows of one kept event: its entry's detail, and the full details SES sent for
    the latest event of its kind."""
    details: dict[str, Any] = {}
    match entry.kind:
        case EventKind.OPEN:
            details[FETCH_CLASS_DETAIL] = entry.info
        case EventKind.CLICK:
            code, _, link = entry.info.partition("|")
            details[FETCH_CLASS_DETAIL] = code
            if link:
                details["link_id"] = link
                if link in facts.links:
                    details["link"] = facts.links[link]
        case EventKind.BOUNCE:
            bounce_type, _, subtype = entry.info.partition("/")
            details.update(bounce_type=bounce_type or None, bounce_subtype=subtype or None)
        case EventKind.COMPLAINT:
            details["feedback_type"] = entry.info or None
        case EventKind.DELIVERY_DELAY:
            details["delay_type"] = entry.info or None
        case EventKind.REJECT:
            details["reason"] = entry.info or None
    field_name = _DETAILED.get(entry.kind)
    latest = getattr(facts, field_name) if field_name else None
    if latest is not None and latest.event_id == entry.event_id:
        details.update(latest.values)
    return {key: value for key, value in details.items() if value is not None}


def event_record(recipient: RecipientRecord, entry: TimelineEntry) -> EventRecord:
    return EventRecord(
        message_id=recipient.message_id,
        recipient_id=recipient.recipient_id,
        email=recipient.email,
        event_id=entry.event_id,
        kind=entry.kind,
        at=entry.at,
        details=entry_details(entry, recipient.facts),
    )


@dataclass(frozen=True)
class Page(Generic[T]):
    """One store page of records.

    ``next_key`` is where the next page starts (None: this was the last page). ``evaluated`` is
    how many items the key condition matched before any filter: 0 on a first page means that
    nothing with this key exists for the tenant.
    """

    items: Sequence[T]
    next_key: dict[str, Any] | None
    evaluated: int


@dataclass(frozen=True)
class Listing(Generic[T]):
    """One page of a list as the API serves it: the items and the cursor of the next page."""

    items: Sequence[T]
    next_cursor: str | None


@dataclass(frozen=True)
class Timeline:
    """A page of one recipient's kept events, and the recipient (whose facts decide each open's
    and click's verdict); ``omitted`` events of a long history are counted, not kept."""

    events: Listing[EventRecord]
    recipient: RecipientRecord
    omitted: int = 0


def dropped_reason(status: Status, facts: RecipientFacts) -> str | None:
    """Why a dropped recipient was not sent: our suppression check's reason, or SES's own list."""
    if status is not Status.DROPPED:
        return None
    if facts.send_outcome is Status.DROPPED and facts.send_outcome_reason:
        return facts.send_outcome_reason
    if facts.ses_suppressed_at is not None:
        return SES_SUPPRESSION_REASON
    return facts.send_outcome_reason


@dataclass
class InvoiceLogGroup:
    """One message of an invoice log page: its header and those of its recipients on this page."""

    message_id: str
    header: MessageRecord | None = None
    recipients: list[RecipientRecord] = field(default_factory=list)

    @property
    def recipients_in_order(self) -> list[RecipientRecord]:
        return sorted(self.recipients, key=lambda record: record.recipient_id)


def group_invoice_log(records: Sequence[LogRecord]) -> list[InvoiceLogGroup]:
    """Group one page of the invoice's index partition (each message's header, then its
    recipients; oldest message first) into messages → recipients (each with its events).

    A page may end inside a message: the next page starts with the rest of its recipients (and
    its header again), and the client merges groups with the same message id across pages.
    """
    groups: dict[str, InvoiceLogGroup] = {}
    for record in records:
        group = groups.setdefault(record.message_id, InvoiceLogGroup(record.message_id))
        if isinstance(record, MessageRecord):
            group.header = record
        else:
            group.header = group.header or record.message
            group.recipients.append(record)
    return list(groups.values())
