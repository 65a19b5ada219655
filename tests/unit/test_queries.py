"""The read side's logic with an in-memory store: counts, reasons, invoice-log grouping, cursors, 404s."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from tracker.api.cursors import CursorCodec, LazyCursorCodec
from tracker.bootstrap.api import read_dependencies
from tracker.domain.errors import InvalidCursorError, InvalidRequestError, NotFoundError
from tracker.domain.events import EventKind
from tracker.domain.facts import Detail, RecipientFacts
from tracker.domain.status import Status
from tracker.domain.timeline import TimelineEntry
from tracker.domain.views import (
    SES_SUPPRESSION_REASON,
    LogRecord,
    MessageRecord,
    Page,
    RecipientRecord,
    dropped_reason,
    group_invoice_log,
)
from tracker.logic.queries import ReadQueries
from tracker.models.api import Bounce, Message
from tracker.models.histories import InvoiceLogMessage

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
    message_id: str = "m1",
    recipient_id: str = "r0",
    status: Status = Status.DELIVERED,
    *,
    header: MessageRecord | None = None,
    **facts: Any,
) -> RecipientRecord:
    return RecipientRecord(
        message_id=message_id,
        recipient_id=recipient_id,
        customer_id=f"cust-{recipient_id}",
        email=f"{recipient_id}@example.com",
        name=None,
        kind="invoice",
        message_created_at=T0,
        ses_message_id=f"ses-{recipient_id}",
        status=status,
        facts=RecipientFacts(**facts),
        message=header,
    )


def entry(minute: int, kind: EventKind = EventKind.OPEN, info: str = "") -> TimelineEntry:
    return TimelineEntry(T0 + timedelta(minutes=minute), f"e{minute:011d}", kind, info or _INFO.get(kind, ""))


_INFO = {EventKind.OPEN: "browser", EventKind.BOUNCE: "Permanent/General"}


def timeline(*entries: TimelineEntry) -> tuple[TimelineEntry, ...]:
    return tuple(sorted(entries))


@dataclass
class FakeStore:
    """Returns canned pages and records what it was asked."""

    page: Page[Any] = field(default_factory=lambda: Page([], None, 0))
    found: MessageRecord | None = None
    exists: bool = True
    kept: tuple[TimelineEntry, ...] = ()
    applied: int = 0
    asked: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def _answer(self, name: str, **kwargs: Any) -> Page[Any]:
        self.asked.append((name, kwargs))
        return self.page

    def messages(self, tenant_id: str, **kwargs: Any) -> Page[MessageRecord]:
        return self._answer("messages", tenant_id=tenant_id, **kwargs)

    def message(self, tenant_id: str, message_id: str) -> MessageRecord | None:
        self.asked.append(("message", {"tenant_id": tenant_id, "message_id": message_id}))
        return self.found

    def recipients(self, tenant_id: str, message_id: str, **kwargs: Any) -> Page[RecipientRecord]:
        return self._answer("recipients", tenant_id=tenant_id, message_id=message_id, **kwargs)

    def recipient(self, tenant_id: str, message_id: str, recipient_id: str) -> RecipientRecord | None:
        self.asked.append(("recipient", {"tenant_id": tenant_id}))
        if not self.exists:
            return None
        return recipient(message_id, recipient_id, timeline=self.kept, applied=self.applied or len(self.kept))

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


def test_detail_counts_and_rates_are_the_headers() -> None:
    header = {Status.QUEUED: 2, Status.OPENED: 1, Status.BOUNCED: 1}
    store = FakeStore(found=message(counts=header))
    detail = Message.of(queries(store).get_message("t", "m1"))
    assert detail.recipients == 4
    assert (detail.counts.queued, detail.counts.opened, detail.counts.bounced) == (2, 1, 1)
    assert detail.delivery_rate == pytest.approx(1 / 4)
    assert detail.open_rate == 1
    assert detail.bounce_rate == pytest.approx(1 / 4)
    assert [name for name, _ in store.asked] == ["message"]


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


def test_invoice_log_groups_a_page_into_messages_and_recipients_with_their_time_ordered_events() -> None:
    r0_events = timeline(entry(1, EventKind.SEND), entry(9), entry(5, EventKind.DELIVERY))
    records: list[LogRecord] = [
        message("m1"),
        recipient("m1", "r0", Status.OPENED, open_count=1, timeline=r0_events),
        recipient("m1", "r1", Status.BOUNCED, timeline=timeline(entry(2, EventKind.BOUNCE))),
        message("m2"),
        recipient("m2", "r0", Status.QUEUED),
    ]
    first, second = invoice_log_messages(records)
    assert (first.message_id, first.kind, first.subject, first.sent_at) == ("m1", "invoice", "Subject m1", T0)
    r0, r1 = first.recipients
    assert (r0.recipient_id, r0.status, r0.open_count, r0.customer_id) == ("r0", Status.OPENED, 1, "cust-r0")
    assert [e.kind for e in r0.events] == [EventKind.SEND, EventKind.DELIVERY, EventKind.OPEN]
    assert r0.events[-1].details == {"fetch_class": "browser"}
    assert r1.status is Status.BOUNCED
    assert [(e.kind, e.details) for e in r1.events] == [
        (EventKind.BOUNCE, {"bounce_type": "Permanent", "bounce_subtype": "General"})
    ]
    assert second.message_id == "m2"
    assert [(r.recipient_id, r.status, r.events) for r in second.recipients] == [("r0", Status.QUEUED, [])]


def test_an_invoice_log_page_that_starts_inside_a_message_has_its_header_from_the_batch_read() -> None:
    (tail,) = invoice_log_messages([recipient("m1", "r3", Status.OPENED, header=message("m1"))])
    assert (tail.message_id, tail.kind, tail.subject, tail.sent_at) == ("m1", "invoice", "Subject m1", T0)
    assert tail.recipients[0].status is Status.OPENED
    # A message whose header is gone (deleted with its data) still lists its recipients.
    (orphan,) = invoice_log_messages([recipient("m9", "r0", Status.SENT)])
    assert (orphan.kind, orphan.subject, orphan.sent_at) == (None, None, None)
    assert [r.recipient_id for r in orphan.recipients] == ["r0"]


def test_the_latest_bounce_keeps_its_full_details_and_a_click_its_link() -> None:
    bounce = entry(3, EventKind.BOUNCE, "Permanent/General")
    click = entry(4, EventKind.CLICK, "browser|ab12cd34")
    record = recipient(
        "m1",
        "r0",
        Status.BOUNCED,
        timeline=timeline(bounce, click),
        links={"ab12cd34": "https://pay.example/inv/1"},
        bounce=Detail(
            bounce.at, bounce.event_id, {"bounce_type": "Permanent", "diagnostic_code": "550 5.1.1"}
        ),
    )
    bounced, clicked = record.events
    assert bounced.details["diagnostic_code"] == "550 5.1.1"
    assert bounced.details["bounce_subtype"] == "General"
    assert clicked.details == {
        "fetch_class": "browser",
        "link_id": "ab12cd34",
        "link": "https://pay.example/inv/1",
    }


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
    store = FakeStore(kept=timeline(entry(1), entry(2)))
    cursor = queries(store).recipient_timeline("t", "a:b", "c", limit=1, cursor=None).events.next_cursor
    assert cursor is not None
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


def test_a_timeline_page_is_one_read_of_the_recipient_and_an_unknown_recipient_is_not_found() -> None:
    kept = timeline(entry(1, EventKind.SEND), entry(2, EventKind.DELIVERY), entry(3))
    store = FakeStore(kept=kept, applied=40)
    first = queries(store).recipient_timeline("t", "m1", "r0", limit=2, cursor=None)
    assert [e.kind for e in first.events.items] == [EventKind.SEND, EventKind.DELIVERY]
    assert first.omitted == 40 - 3  # counted, not kept
    assert [name for name, _ in store.asked] == ["recipient"]
    second = queries(store).recipient_timeline("t", "m1", "r0", limit=2, cursor=first.events.next_cursor)
    assert [e.kind for e in second.events.items] == [EventKind.OPEN]
    assert second.events.next_cursor is None
    forged = CursorCodec(SECRET).encode("t", ("events", "m1", "r0"), {"offset": -1})
    with pytest.raises(InvalidCursorError):
        queries(store).recipient_timeline("t", "m1", "r0", limit=2, cursor=forged)
    store.exists = False
    with pytest.raises(NotFoundError):
        queries(store).recipient_timeline("t", "m1", "r0", limit=5, cursor=None)


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
