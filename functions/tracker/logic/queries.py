"""The read side: what the four views show, computed from what the store returns.

Pure orchestration (no AWS SDK): a :class:`ReadStore` hands back plain records, one DynamoDB
page at a time, and :class:`ReadQueries` turns them into the API's response models. Cursors are
decoded before the store is asked anything and bound to the tenant and to the list (route and
fixed filters), so a cursor is only ever replayed on the list it came from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from tracker.domain.errors import InvalidRequestError, NotFoundError
from tracker.domain.events import EventKind
from tracker.domain.facts import RecipientFacts
from tracker.domain.status import ALL_STATUSES, Status, compute_rates
from tracker.models.api import (
    Bounce,
    Complaint,
    CustomerMessage,
    CustomerMessagePage,
    InvoiceLogMessage,
    InvoiceLogPage,
    InvoiceLogRecipient,
    Message,
    MessageKind,
    MessagePage,
    Recipient,
    RecipientPage,
    StatusCounts,
    TimelineEvent,
    TimelinePage,
)

T = TypeVar("T")

# What the Recipients tab shows for an address SES itself refused to send to.
SES_SUPPRESSION_REASON = "SES account suppression list"


# --- what the store returns -------------------------------------------------------------------


@dataclass(frozen=True)
class MessageRecord:
    message_id: str
    kind: str
    subject: str
    created_at: datetime
    invoice_id: str | None
    payment_id: str | None
    counts: Mapping[Status, int]


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
    """One DynamoDB Query's worth of records.

    ``next_key`` is where the next page starts (None: this was the last page). ``evaluated`` is
    how many items the key condition matched before any filter: 0 on a first page means that
    nothing with this key exists for the tenant.
    """

    items: Sequence[T]
    next_key: dict[str, Any] | None
    evaluated: int


@dataclass(frozen=True)
class MessageWithPending:
    """A message header (folded counts) and the count deltas not folded into it yet."""

    message: MessageRecord
    pending_deltas: Sequence[Mapping[Status, int]] = field(default_factory=tuple)


class ReadStore(Protocol):
    """Every list method is exactly one Query for one page of at most ``limit`` items."""

    def messages(
        self,
        tenant_id: str,
        *,
        kind: str | None,
        since: datetime | None,
        until: datetime | None,
        limit: int,
        start: dict[str, Any] | None,
    ) -> Page[MessageRecord]: ...

    def message(self, tenant_id: str, message_id: str) -> MessageWithPending | None: ...

    def recipients(
        self,
        tenant_id: str,
        message_id: str,
        *,
        status: Status | None,
        limit: int,
        start: dict[str, Any] | None,
    ) -> Page[RecipientRecord]: ...

    def recipient_events(
        self, tenant_id: str, message_id: str, recipient_id: str, *, limit: int, start: dict[str, Any] | None
    ) -> Page[EventRecord]: ...

    def recipient_exists(self, tenant_id: str, message_id: str, recipient_id: str) -> bool: ...

    def invoice_log(
        self, tenant_id: str, invoice_id: str, *, limit: int, start: dict[str, Any] | None
    ) -> Page[LogRecord]: ...

    def customer_messages(
        self, tenant_id: str, customer_id: str, *, kind: str | None, limit: int, start: dict[str, Any] | None
    ) -> Page[RecipientRecord]: ...


class CursorSigner(Protocol):
    """tracker.api.cursors.CursorCodec's interface."""

    def encode(self, tenant_id: str, scope: str, position: dict[str, Any] | None) -> str | None: ...

    def decode(self, cursor: str | None, tenant_id: str, scope: str) -> dict[str, Any] | None: ...


# --- record → response model --------------------------------------------------------------------


def status_counts(counts: Mapping[Status, int]) -> StatusCounts:
    return StatusCounts(**{status.value: counts.get(status, 0) for status in ALL_STATUSES})


def sum_counts(header: Mapping[Status, int], deltas: Sequence[Mapping[Status, int]]) -> dict[Status, int]:
    """Folded counts plus pending deltas.

    A fold that commits while the detail Query is between a delta and the header can make one
    response count that delta twice (DynamoDB's Query is read-committed per item, not a snapshot);
    a count below zero is such a transient artefact and is shown as 0.
    """
    total = {status: header.get(status, 0) for status in ALL_STATUSES}
    for delta in deltas:
        for status in ALL_STATUSES:
            total[status] += delta.get(status, 0)
    return {status: max(0, n) for status, n in total.items()}


def message_model(record: MessageRecord, counts: Mapping[Status, int]) -> Message:
    rates = compute_rates(counts)
    return Message(
        message_id=record.message_id,
        kind=record.kind,
        subject=record.subject,
        sent_at=record.created_at,
        invoice_id=record.invoice_id,
        payment_id=record.payment_id,
        recipients=rates.recipients,
        counts=status_counts(counts),
        pending=rates.pending,
        delivery_rate=rates.delivery_rate,
        open_rate=rates.open_rate,
        click_rate=rates.click_rate,
        bounce_rate=rates.bounce_rate,
        complaint_rate=rates.complaint_rate,
    )


def dropped_reason(status: Status, facts: RecipientFacts) -> str | None:
    """Why a dropped recipient was not sent: our suppression check's reason, or SES's own list."""
    if status is not Status.DROPPED:
        return None
    if facts.send_outcome is Status.DROPPED and facts.send_outcome_reason:
        return facts.send_outcome_reason
    if facts.ses_suppressed_at is not None:
        return SES_SUPPRESSION_REASON
    return facts.send_outcome_reason


def bounce_model(facts: RecipientFacts) -> Bounce | None:
    if facts.bounce is None:
        return None
    values = facts.bounce.values
    return Bounce(
        type=_text(values.get("bounce_type")),
        subtype=_text(values.get("bounce_subtype")),
        reason=facts.bounce_reason,
        at=facts.bounce.at,
    )


def complaint_model(facts: RecipientFacts) -> Complaint | None:
    if facts.complaint is None:
        return None
    return Complaint(feedback_type=_text(facts.complaint.values.get("feedback_type")), at=facts.complaint.at)


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def recipient_model(record: RecipientRecord) -> Recipient:
    facts = record.facts
    return Recipient(
        recipient_id=record.recipient_id,
        customer_id=record.customer_id,
        email=record.email,
        name=record.name,
        status=record.status,
        open_count=facts.open_count,
        click_count=facts.click_count,
        sent_at=facts.sent_at,
        delivered_at=facts.delivered_at,
        first_opened_at=facts.first_opened_at,
        last_opened_at=facts.last_opened_at,
        bounce=bounce_model(facts),
        complaint=complaint_model(facts),
        dropped_reason=dropped_reason(record.status, facts),
        ses_message_id=record.ses_message_id,
    )


def timeline_event(record: EventRecord) -> TimelineEvent:
    return TimelineEvent(
        event_id=record.event_id, kind=record.kind, at=record.at, details=dict(record.details)
    )


def customer_message_model(record: RecipientRecord) -> CustomerMessage:
    return CustomerMessage(
        message_id=record.message_id,
        kind=record.kind,
        subject=record.subject,
        sent_at=record.message_created_at,
        invoice_id=record.invoice_id,
        payment_id=record.payment_id,
        recipient_id=record.recipient_id,
        email=record.email,
        status=record.status,
        open_count=record.facts.open_count,
        click_count=record.facts.click_count,
        bounce_reason=record.facts.bounce_reason,
        dropped_reason=dropped_reason(record.status, record.facts),
    )


@dataclass
class _LogRecipient:
    recipient_id: str
    record: RecipientRecord | None = None
    email: str | None = None
    events: list[EventRecord] = field(default_factory=list)

    def model(self) -> InvoiceLogRecipient:
        record = self.record
        events = sorted(self.events, key=lambda e: (e.at, e.event_id))
        if record is None:
            return InvoiceLogRecipient(
                recipient_id=self.recipient_id,
                email=self.email,
                customer_id=None,
                name=None,
                status=None,
                open_count=None,
                click_count=None,
                bounce_reason=None,
                dropped_reason=None,
                events=[timeline_event(e) for e in events],
            )
        return InvoiceLogRecipient(
            recipient_id=self.recipient_id,
            email=record.email,
            customer_id=record.customer_id,
            name=record.name,
            status=record.status,
            open_count=record.facts.open_count,
            click_count=record.facts.click_count,
            bounce_reason=record.facts.bounce_reason,
            dropped_reason=dropped_reason(record.status, record.facts),
            events=[timeline_event(e) for e in events],
        )


@dataclass
class _LogMessage:
    message_id: str
    header: MessageRecord | None = None
    any_recipient: RecipientRecord | None = None
    recipients: dict[str, _LogRecipient] = field(default_factory=dict)

    def recipient(self, recipient_id: str) -> _LogRecipient:
        return self.recipients.setdefault(recipient_id, _LogRecipient(recipient_id))

    def model(self) -> InvoiceLogMessage:
        kind: str | None = None
        subject: str | None = None
        sent_at: datetime | None = None
        invoice_id: str | None = None
        payment_id: str | None = None
        if self.header is not None:
            h = self.header
            kind, subject, sent_at, invoice_id, payment_id = (
                h.kind,
                h.subject,
                h.created_at,
                h.invoice_id,
                h.payment_id,
            )
        elif self.any_recipient is not None:
            r = self.any_recipient
            kind, subject, sent_at, invoice_id, payment_id = (
                r.kind,
                r.subject,
                r.message_created_at,
                r.invoice_id,
                r.payment_id,
            )
        return InvoiceLogMessage(
            message_id=self.message_id,
            kind=kind,
            subject=subject,
            sent_at=sent_at,
            invoice_id=invoice_id,
            payment_id=payment_id,
            recipients=[self.recipients[key].model() for key in sorted(self.recipients)],
        )


def invoice_log_messages(records: Sequence[LogRecord]) -> list[InvoiceLogMessage]:
    """Group one page of the invoice's index partition (message header, then the events of its
    recipients, then its recipient items; oldest message first) into messages → recipients → events.

    A page may start or end inside a message: its groups then carry what this page holds, and
    the client merges groups with the same ids across pages.
    """
    messages: dict[str, _LogMessage] = {}
    for record in records:
        group = messages.setdefault(record.message_id, _LogMessage(record.message_id))
        if isinstance(record, MessageRecord):
            group.header = record
        elif isinstance(record, RecipientRecord):
            group.any_recipient = group.any_recipient or record
            group.recipient(record.recipient_id).record = record
        else:
            entry = group.recipient(record.recipient_id)
            entry.email = entry.email or record.email
            entry.events.append(record)
    return [group.model() for group in messages.values()]


# --- request normalization ----------------------------------------------------------------------


def utc(value: datetime | None, field_name: str) -> datetime | None:
    """ISO-8601 input without an offset is UTC."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (OverflowError, ValueError) as error:
        raise InvalidRequestError(f"{field_name}: out of range", field=field_name) from error


def _scope(*parts: str | None) -> str:
    """The list a cursor belongs to: route and fixed filters. '|' cannot occur in ids, kinds,
    statuses or ISO times, so two different lists never share a scope."""
    return "|".join(part or "" for part in parts)


# --- the queries ------------------------------------------------------------------------------


class ReadQueries:
    def __init__(self, store: ReadStore, cursors: CursorSigner) -> None:
        self._store = store
        self._cursors = cursors

    def list_messages(
        self,
        tenant_id: str,
        *,
        kind: MessageKind | None,
        since: datetime | None,
        until: datetime | None,
        limit: int,
        cursor: str | None,
    ) -> MessagePage:
        since, until = utc(since, "since"), utc(until, "until")
        if since is not None and until is not None and since > until:
            raise InvalidRequestError("since: must not be after until", field="since")
        scope = _scope(
            "messages", kind, since.isoformat() if since else None, until.isoformat() if until else None
        )
        start = self._cursors.decode(cursor, tenant_id, scope)
        page = self._store.messages(tenant_id, kind=kind, since=since, until=until, limit=limit, start=start)
        return MessagePage(
            items=[message_model(record, record.counts) for record in page.items],
            next_cursor=self._cursors.encode(tenant_id, scope, page.next_key),
        )

    def get_message(self, tenant_id: str, message_id: str) -> Message:
        found = self._store.message(tenant_id, message_id)
        if found is None:
            raise NotFoundError("message not found")
        return message_model(found.message, sum_counts(found.message.counts, found.pending_deltas))

    def list_recipients(
        self, tenant_id: str, message_id: str, *, status: Status | None, limit: int, cursor: str | None
    ) -> RecipientPage:
        scope = _scope("recipients", message_id, status.value if status else None)
        start = self._cursors.decode(cursor, tenant_id, scope)
        page = self._store.recipients(tenant_id, message_id, status=status, limit=limit, start=start)
        if start is None and page.evaluated == 0:
            raise NotFoundError("message not found")
        return RecipientPage(
            items=[recipient_model(record) for record in page.items],
            next_cursor=self._cursors.encode(tenant_id, scope, page.next_key),
        )

    def recipient_timeline(
        self, tenant_id: str, message_id: str, recipient_id: str, *, limit: int, cursor: str | None
    ) -> TimelinePage:
        scope = _scope("events", message_id, recipient_id)
        start = self._cursors.decode(cursor, tenant_id, scope)
        page = self._store.recipient_events(tenant_id, message_id, recipient_id, limit=limit, start=start)
        # A recipient without events yet is an empty timeline; an unknown one is a 404. Only an
        # empty first page costs the extra read that tells them apart.
        if (
            start is None
            and page.evaluated == 0
            and not self._store.recipient_exists(tenant_id, message_id, recipient_id)
        ):
            raise NotFoundError("recipient not found")
        return TimelinePage(
            items=[timeline_event(record) for record in page.items],
            next_cursor=self._cursors.encode(tenant_id, scope, page.next_key),
        )

    def invoice_logs(
        self, tenant_id: str, invoice_id: str, *, limit: int, cursor: str | None
    ) -> InvoiceLogPage:
        scope = _scope("invoice-logs", invoice_id)
        start = self._cursors.decode(cursor, tenant_id, scope)
        page = self._store.invoice_log(tenant_id, invoice_id, limit=limit, start=start)
        if start is None and page.evaluated == 0:
            raise NotFoundError("invoice not found")
        return InvoiceLogPage(
            invoice_id=invoice_id,
            items=invoice_log_messages(page.items),
            next_cursor=self._cursors.encode(tenant_id, scope, page.next_key),
        )

    def customer_messages(
        self, tenant_id: str, customer_id: str, *, kind: MessageKind | None, limit: int, cursor: str | None
    ) -> CustomerMessagePage:
        scope = _scope("customer-messages", customer_id, kind)
        start = self._cursors.decode(cursor, tenant_id, scope)
        page = self._store.customer_messages(tenant_id, customer_id, kind=kind, limit=limit, start=start)
        if start is None and page.evaluated == 0:
            raise NotFoundError("customer not found")
        return CustomerMessagePage(
            items=[customer_message_model(record) for record in page.items],
            next_cursor=self._cursors.encode(tenant_id, scope, page.next_key),
        )
