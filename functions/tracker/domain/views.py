"""The read side's records: what the store hands back for the four views, and the derivations the
views share (exact counts of one message, why a recipient was dropped, an invoice log's groups)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from tracker.domain.events import EventKind
from tracker.domain.facts import RecipientFacts
from tracker.domain.status import COUNTED, Status

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


@dataclass(frozen=True)
class RecipientRecord:
    message_id: str
    recipient_id: str
    customer_id: str
    email: str
    name: str | None
    # Denormalized from the message.
    kind: str
    subject: str
    message_created_at: datetime
    invoice_id: str | None
    payment_id: str | None
    ses_message_id: str | None
    # The stored status (what the counts and the status filter use) and the facts behind it.
    status: Status
    facts: RecipientFacts

    @property
    def dropped_reason(self) -> str | None:
        return dropped_reason(self.status, self.facts)


@dataclass(frozen=True)
class EventRecord:
    message_id: str
    recipient_id: str
    email: str
    event_id: str
    kind: EventKind
    at: datetime
    details: Mapping[str, Any]


LogRecord = MessageRecord | RecipientRecord | EventRecord


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
    """A page of one recipient's events, and the recipient (whose facts decide each open's and
    click's verdict); None when the recipient no longer exists."""

    events: Listing[EventRecord]
    recipient: RecipientRecord | None


@dataclass(frozen=True)
class MessageWithPending:
    """A message header (folded counts) and the count deltas not folded into it yet."""

    message: MessageRecord
    pending_deltas: Sequence[Mapping[str, int]] = field(default_factory=tuple)

    @property
    def counts(self) -> dict[str, int]:
        return sum_counts(self.message.counts, self.pending_deltas)


def sum_counts(header: Mapping[str, int], deltas: Sequence[Mapping[str, int]]) -> dict[str, int]:
    """Folded counts plus pending deltas.

    A fold that commits while the detail Query is between a delta and the header can make one
    response count that delta twice (DynamoDB's Query is read-committed per item, not a snapshot);
    a count below zero is such a transient artefact and is shown as 0.
    """
    total = {tally: header.get(tally, 0) for tally in COUNTED}
    for delta in deltas:
        for tally in COUNTED:
            total[tally] += delta.get(tally, 0)
    return {status: max(0, n) for status, n in total.items()}


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
class InvoiceLogRecipientGroup:
    """One recipient of an invoice log page: its item (when on this page) and its events."""

    recipient_id: str
    record: RecipientRecord | None = None
    email: str | None = None
    events: list[EventRecord] = field(default_factory=list)

    @property
    def events_in_order(self) -> list[EventRecord]:
        return sorted(self.events, key=lambda e: (e.at, e.event_id))


@dataclass
class InvoiceLogGroup:
    """One message of an invoice log page: its header and a recipient item when on this page."""

    message_id: str
    header: MessageRecord | None = None
    any_recipient: RecipientRecord | None = None
    recipients: dict[str, InvoiceLogRecipientGroup] = field(default_factory=dict)

    def recipient(self, recipient_id: str) -> InvoiceLogRecipientGroup:
        return self.recipients.setdefault(recipient_id, InvoiceLogRecipientGroup(recipient_id))

    @property
    def recipients_in_order(self) -> list[InvoiceLogRecipientGroup]:
        return [self.recipients[key] for key in sorted(self.recipients)]


def group_invoice_log(records: Sequence[LogRecord]) -> list[InvoiceLogGroup]:
    """Group one page of the invoice's index partition (message header, then the events of its
    recipients, then its recipient items; oldest message first) into messages → recipients → events.

    A page may start or end inside a message: its groups then carry what this page holds, and
    the client merges groups with the same ids across pages.
    """
    groups: dict[str, InvoiceLogGroup] = {}
    for record in records:
        group = groups.setdefault(record.message_id, InvoiceLogGroup(record.message_id))
        if isinstance(record, MessageRecord):
            group.header = record
        elif isinstance(record, RecipientRecord):
            group.any_recipient = group.any_recipient or record
            group.recipient(record.recipient_id).record = record
        else:
            entry = group.recipient(record.recipient_id)
            entry.email = entry.email or record.email
            entry.events.append(record)
    return list(groups.values())
