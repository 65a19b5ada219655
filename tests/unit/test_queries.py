"""The read side's logic with an in-memory store: counts, reasons, invoice-log grouping, cursors, 404s."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from tracker.api.cursors import CursorCodec, LazyCursorCodec
from tracker.bootstrap.api import read_dependencies
from tracker.domain.engagement import Fetch
from tracker.domain.errors import InvalidCursorError, InvalidRequestError, NotFoundError
from tracker.domain.events import EventKind
from tracker.domain.facts import Detail, RecipientFacts
from tracker.domain.status import Status
from tracker.domain.views import (
    SES_SUPPRESSION_REASON,
    EventRecord,
    LogRecord,
    MessageRecord,
    MessageWithPending,
    Page,
    RecipientRecord,
    dropped_reason,
    group_invoice_log,
    sum_counts,
)
from tracker.logic.queries import ReadQueries
from tracker.models.api import Bounce, InvoiceLogMessage, Message

bounce_model = Bounce.of

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
SECRET = b"unit-test-cursor-secret-0123456789"


def message(message_id: str = "m1", counts: Mapping[Status, int] | None = None) -> MessageRecord:
    return MessageRecord(
        message_id=message_id,
        kind="invoice",
        subject=f"Subject {message_id}",
        created_at=T0,
        invoice_id="INV-1",
        payment_id=None,
        counts=counts or {Status.QUEUED: 2},
    )


def recipient(
    message_id: str = "m1", recipient_id: str = "r0", status: Status = Status.DELIVERED, **facts: Any
) -> RecipientRecord:
    return RecipientRecord(
        message_id=message_id,
        recipient_id=recipient_id,
        customer_id=f"cust-{recipient_id}",
        email=f"{recipient_id}@example.com",
        name=None,
        kind="invoice",
        subject=f"Subject {message_id}",
        message_created_at=T0,
        invoice_id="INV-1",
        payment_id=None,
        ses_message_id=f"ses-{recipient_id}",
        status=status,
        facts=RecipientFacts(**facts),
    )


def event(message_id: str, recipient_id: str, minute: int, kind: EventKind = EventKind.OPEN) -> EventRecord:
    return EventRecord(
        message_id=message_id,
        recipient_id=recipient_id,
        email=f"{recipient_id}@example.com",
        event_id=f"e-{recipient_id}-{minute}",
        kind=kind,
        at=T0 + timedelta(minutes=minute),
        details={"minute": minute},
    )


@dataclass
class FakeStore:
    """Returns canned pages and records what it was asked."""

    page: Page[Any] = field(default_factory=lambda: Page([], None, 0))
    found: MessageWithPending | None = None
    exists: bool = True
    asked: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def _answer(self, name: str, **kwargs: Any) -> Page[Any]:
        self.asked.append((name, kwargs))
        return self.page

    def messages(self, tenant_id: str, **kwargs: Any) -> Page[MessageRecord]:
        return self._answer("messages", tenant_id=tenant_id, **kwargs)

    def message(self, tenant_id: str, message_id: str) -> MessageWithPending | None:
        self.asked.append(("message", {"tenant_id": tenant_id, "message_id": message_id}))
        return self.found

    def recipients(self, tenant_id: str, message_id: str, **kwargs: Any) -> Page[RecipientRecord]:
        return self._answer("recipients", tenant_id=tenant_id, message_id=message_id, **kwargs)

    def recipient_events(
        self, tenant_id: str, message_id: str, recipient_id: str, **kwargs: Any
    ) -> Page[EventRecord]:
        return self._answer("events", tenant_id=tenant_id, **kwargs)

    def recipient(self, tenant_id: str, message_id: str, recipient_id: str) -> RecipientRecord | None:
        self.asked.append(("recipient", {"tenant_id": tenant_id}))
        return recipient(message_id, recipient_id) if self.exists else None

    def invoice_log(self, tenant_id: str, invoice_id: str, **kwargs: Any) -> Page[LogRecord]:
        return self._answer("invoice_log", tenant_id=tenant_id, **kwargs)

    def customer_messages(self, tenant_id: str, customer_id: str, **kwargs: Any) -> Page[RecipientRecord]:
        return self._answer("customer_messages", tenant_id=tenant_id, **kwargs)


def queries(store: FakeStore) -> ReadQueries:
    return ReadQueries(store, CursorCodec(SECRET))


def invoice_log_messages(records: Sequence[LogRecord]) -> list[InvoiceLogMessage]:
    """What the Logs route answers for one page of records."""
    return [InvoiceLogMessage.of(group) for group in group_invoice_log(records)]


# --- counts and reasons -----------------------------------------------------------------------------


def test_detail_counts_are_the_header_plus_every_pending_delta() -> None:
    header = {Status.QUEUED: 3, Status.DELIVERED: 1}
    deltas: Sequence[Mapping[Status, int]] = [
        {Status.QUEUED: -1, Status.SENT: 1},
        {Status.SENT: -1, Status.OPENED: 1},
        {Status.DELIVERED: -1, Status.BOUNCED: 1},
    ]
    total = sum_counts(header, deltas)
    assert {s: n for s, n in total.items() if n} == {Status.QUEUED: 2, Status.OPENED: 1, Status.BOUNCED: 1}
    store = FakeStore(found=MessageWithPending(message(counts=header), deltas))
    detail = Message.of(queries(store).get_message("t", "m1"))
    assert detail.recipients == 4
    assert (detail.counts.queued, detail.counts.opened, detail.counts.bounced) == (2, 1, 1)
    assert detail.delivery_rate == pytest.approx(1 / 4)
    assert detail.open_rate == 1
    assert detail.bounce_rate == pytest.approx(1 / 4)


def test_a_delta_read_twice_during_a_fold_never_shows_a_negative_count() -> None:
    total = sum_counts({Status.SENT: 0, Status.DELIVERED: 1}, [{Status.SENT: -1, Status.DELIVERED: 1}])
    assert total[Status.SENT] == 0


def test_a_missing_message_is_not_found() -> None:
    with pytest.raises(NotFoundError):
        queries(FakeStore(found=None)).get_message("t", "m1")


def test_dropped_reason_is_ours_or_ses_suppression_list_and_only_for_dropped() -> None:
    ours = RecipientFacts(send_outcome=Status.DROPPED, send_outcome_reason="bounced before")
    assert dropped_reason(Status.DROPPED, ours) == "bounced before"
    ses = RecipientFacts(send_outcome=Status.SENT, sent_at=T0, ses_suppressed_at=T0)
    assert dropped_reason(Status.DROPPED, ses) == SES_SUPPRESSION_REASON
    assert dropped_reason(Status.DROPPED, RecipientFacts(send_outcome=Status.DROPPED)) is None
    assert dropped_reason(Status.FAILED, RecipientFacts(send_outcome_reason="render error")) is None


def test_bounce_reason_is_the_diagnostic_else_type_and_subtype() -> None:
    with_diagnostic = RecipientFacts(
        bounce=Detail(
            T0, "e1", {"bounce_type": "Permanent", "bounce_subtype": "General", "diagnostic_code": "550"}
        )
    )
    bounce = bounce_model(with_diagnostic)
    assert bounce is not None
    assert (bounce.type, bounce.subtype, bounce.reason, bounce.at) == ("Permanent", "General", "550", T0)
    without = RecipientFacts(
        bounce=Detail(T0, "e1", {"bounce_type": "Transient", "bounce_subtype": "MailboxFull"})
    )
    assert bounce_model(without).reason == "Transient / MailboxFull"  # type: ignore[union-attr]
    assert bounce_model(RecipientFacts()) is None


# --- invoice logs -----------------------------------------------------------------------------------


def test_invoice_log_groups_a_page_into_messages_recipients_and_time_ordered_events() -> None:
    records: list[LogRecord] = [
        message("m1"),
        event("m1", "r0", 1, EventKind.SEND),
        event("m1", "r0", 9),
        event("m1", "r0", 5, EventKind.DELIVERY),
        event("m1", "r1", 2, EventKind.BOUNCE),
        recipient(
            "m1", "r0", Status.OPENED, open_count=1, fetches=(Fetch(T0, "open", "browser", event_id="o1"),)
        ),
        recipient("m1", "r1", Status.BOUNCED),
        message("m2"),
        recipient("m2", "r0", Status.QUEUED),
    ]
    first, second = invoice_log_messages(records)
    assert (first.message_id, first.kind, first.subject, first.sent_at) == ("m1", "invoice", "Subject m1", T0)
    r0, r1 = first.recipients
    assert (r0.recipient_id, r0.status, r0.open_count, r0.customer_id) == ("r0", Status.OPENED, 1, "cust-r0")
    assert [e.kind for e in r0.events] == [EventKind.SEND, EventKind.DELIVERY, EventKind.OPEN]
    assert r1.status is Status.BOUNCED
    assert [e.kind for e in r1.events] == [EventKind.BOUNCE]
    assert second.message_id == "m2"
    assert [(r.recipient_id, r.status, r.events) for r in second.recipients] == [("r0", Status.QUEUED, [])]


def test_an_invoice_log_page_that_starts_or_ends_inside_a_message_carries_what_it_holds() -> None:
    # This page ends after the first events of m1: the recipients' items are on the next page.
    (head,) = invoice_log_messages([message("m1"), event("m1", "r0", 1)])
    (partial,) = head.recipients
    assert (partial.recipient_id, partial.email, partial.status, partial.customer_id) == (
        "r0",
        "r0@example.com",
        None,
        None,
    )
    assert len(partial.events) == 1
    # The next page starts with more events and then the recipient items, without the header.
    (tail,) = invoice_log_messages([event("m1", "r0", 2), recipient("m1", "r0", Status.OPENED)])
    assert (tail.message_id, tail.kind, tail.subject) == ("m1", "invoice", "Subject m1")  # from the recipient
    assert tail.recipients[0].status is Status.OPENED
    # A page holding nothing but events knows only the ids.
    (events_only,) = invoice_log_messages([event("m1", "r3", 7)])
    assert (events_only.kind, events_only.subject, events_only.sent_at) == (None, None, None)


# --- cursors, filters and not-found ------------------------------------------------------------------


def test_the_store_gets_the_decoded_cursor_and_the_next_cursor_is_bound_to_tenant_and_list() -> None:
    position = {"pk": {"S": "T#t#M#m1"}, "sk": {"S": "R#r1"}}
    store = FakeStore(page=Page([recipient()], position, 2))
    page = queries(store).list_recipients("t", "m1", status=None, limit=1, cursor=None)
    assert page.next_cursor is not None
    store.page = Page([], None, 0)
    queries(store).list_recipients("t", "m1", status=None, limit=1, cursor=page.next_cursor)
    assert store.asked[-1][1]["start"] == position
    for tenant, message_id, status in (("u", "m1", None), ("t", "m2", None), ("t", "m1", Status.OPENED)):
        with pytest.raises(InvalidCursorError):
            queries(store).list_recipients(
                tenant, message_id, status=status, limit=1, cursor=page.next_cursor
            )


def test_ids_containing_the_scope_separator_of_another_list_cannot_share_a_cursor() -> None:
    store = FakeStore(page=Page([event("a:b", "c", 1)], {"pk": {"S": "x"}}, 1))
    cursor = queries(store).recipient_timeline("t", "a:b", "c", limit=1, cursor=None).events.next_cursor
    with pytest.raises(InvalidCursorError):
        queries(store).recipient_timeline("t", "a", "b:c", limit=1, cursor=cursor)


def test_empty_first_pages_are_404_but_empty_later_pages_and_filtered_pages_are_not() -> None:
    store = FakeStore(page=Page([], None, 0))
    with pytest.raises(NotFoundError):
        queries(store).list_recipients("t", "m1", status=None, limit=5, cursor=None)
    with pytest.raises(NotFoundError):
        queries(store).invoice_logs("t", "INV-1", limit=5, cursor=None)
    with pytest.raises(NotFoundError):
        queries(store).customer_messages("t", "c1", kind=None, limit=5, cursor=None)
    # Items were evaluated but none matched the filter: the message exists.
    store.page = Page([], None, 3)
    assert queries(store).list_recipients("t", "m1", status=Status.BOUNCED, limit=5, cursor=None).items == []
    assert queries(store).customer_messages("t", "c1", kind="receipt", limit=5, cursor=None).items == []
    # A later page may be empty (the previous one ended exactly at the last item).
    cursor = CursorCodec(SECRET).encode("t", ("invoice-logs", "INV-1"), {"pk": {"S": "x"}})
    store.page = Page([], None, 0)
    assert queries(store).invoice_logs("t", "INV-1", limit=5, cursor=cursor).items == []


def test_a_timeline_page_comes_with_its_recipient_and_an_unknown_recipient_is_not_found() -> None:
    """Two reads per page: the events, and the recipient whose facts decide each open's verdict."""
    store = FakeStore(page=Page([], None, 0), exists=True)
    timeline = queries(store).recipient_timeline("t", "m1", "r0", limit=5, cursor=None)
    assert timeline.events.items == []
    assert timeline.recipient is not None
    assert [name for name, _ in store.asked] == ["events", "recipient"]
    store.exists = False
    with pytest.raises(NotFoundError):
        queries(store).recipient_timeline("t", "m1", "r0", limit=5, cursor=None)
    store.asked.clear()
    store.page = Page([event("m1", "r0", 1)], None, 1)
    timeline = queries(store).recipient_timeline("t", "m1", "r0", limit=5, cursor=None)
    assert [name for name, _ in store.asked] == ["events", "recipient"]
    assert len(timeline.events.items) == 1  # events of a recipient removed since stay readable


def test_message_list_times_are_utc_and_since_must_not_be_after_until() -> None:
    store = FakeStore()
    plus_two = timezone(timedelta(hours=2))
    queries(store).list_messages(
        "t",
        kind=None,
        since=datetime(2026, 11, 1, 11, 0, tzinfo=plus_two),
        until=datetime(2026, 11, 2),
        limit=5,
        cursor=None,
    )
    asked = store.asked[-1][1]
    assert asked["since"] == datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    assert asked["until"] == datetime(2026, 11, 2, tzinfo=UTC)
    with pytest.raises(InvalidRequestError) as error:
        queries(store).list_messages(
            "t", kind=None, since=datetime(2026, 11, 2), until=datetime(2026, 11, 1), limit=5, cursor=None
        )
    assert error.value.field == "since"
    with pytest.raises(InvalidRequestError):
        queries(store).list_messages(
            "t",
            kind=None,
            since=datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))),
            until=None,
            limit=5,
            cursor=None,
        )


def test_a_cursor_of_the_unfiltered_list_is_refused_by_the_filtered_one() -> None:
    store = FakeStore(page=Page([message()], {"pk": {"S": "x"}}, 1))
    cursor = (
        queries(store).list_messages("t", kind=None, since=None, until=None, limit=1, cursor=None).next_cursor
    )
    with pytest.raises(InvalidCursorError):
        queries(store).list_messages("t", kind="invoice", since=None, until=None, limit=1, cursor=cursor)


# --- production wiring ---------------------------------------------------------------------------


def test_the_cursor_secret_is_loaded_once_on_first_use_not_when_the_app_is_built() -> None:
    loads: list[int] = []

    def load() -> bytes:
        loads.append(1)
        return SECRET

    codec = LazyCursorCodec(load)
    assert loads == []
    cursor = codec.encode("t", ("messages",), {"pk": {"S": "x"}})
    assert codec.decode(cursor, "t", ("messages",)) == {"pk": {"S": "x"}}
    assert loads == [1]
    assert CursorCodec(SECRET).decode(cursor, "t", ("messages",)) == {"pk": {"S": "x"}}


def test_read_dependencies_need_no_secret_until_a_cursor_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CURSOR_SECRET", raising=False)
    monkeypatch.delenv("CURSOR_SECRET_ARN", raising=False)
    dependencies = read_dependencies()  # binds the table; no AWS call
    with pytest.raises(RuntimeError, match="CURSOR_SECRET"):
        dependencies.queries.list_messages("t", kind=None, since=None, until=None, limit=1, cursor="x.y")
    monkeypatch.setenv("CURSOR_SECRET", SECRET.decode())
    with pytest.raises(InvalidCursorError):
        read_dependencies().queries.list_messages(
            "t", kind=None, since=None, until=None, limit=1, cursor="x.y"
        )
