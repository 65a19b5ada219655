"""The suppression observer on moto, batched: a constant number of DynamoDB rounds per batch.

``SuppressionService.observe`` records the evidence of every address of a batch in one round of
BatchWriteItem requests, reads all their records with one BatchGetItem, queries all their evidence
concurrently and writes the suppressions concurrently. These tests count the requests (and the
sequential rounds, by which request waited for which, so the count does not depend on how busy the
machine is) for one and for eight addresses, and check that the outcome is exactly the
one-address-at-a-time one.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.aws_calls import ApiCall, intercepted
from tracker.dal import keys
from tracker.dal.models import SuppressionEvidenceItem
from tracker.dal.suppressions import DynamoSuppressionStore
from tracker.domain.errors import TransientStoreError
from tracker.domain.events import EventKind, RecipientEvent
from tracker.domain.facts import RecipientFacts
from tracker.domain.records import LogEntry, RecipientKey, StoredRecipient
from tracker.domain.suppression import (
    Address,
    Decision,
    Evidence,
    EvidenceKind,
    SuppressionRecord,
    SuppressionRules,
    SuppressionWrite,
    evaluate,
    evidence_from_event,
)
from tracker.logic.suppression import EVALUATE_ATTEMPTS, SuppressionService

pytestmark = pytest.mark.usefixtures("table")

T0 = datetime(2026, 3, 1, tzinfo=UTC)
NOW = T0 + timedelta(days=120)


def clock() -> datetime:
    return NOW


# --- events -----------------------------------------------------------------------------------------


def bounce(event_id: str, email: str, day: float, permanent: bool = True) -> RecipientEvent:
    return RecipientEvent(
        event_id=event_id,
        kind=EventKind.BOUNCE,
        at=T0 + timedelta(days=day),
        ses_message_id=f"ses-{event_id}",
        email=email,
        mail_sent_at=T0,
        details={
            "bounce_type": "Permanent" if permanent else "Transient",
            "bounce_subtype": "General",
            "diagnostic_code": f"smtp; 550 {event_id}",
        },
    )


def complaint(event_id: str, email: str, day: float) -> RecipientEvent:
    return RecipientEvent(
        event_id=event_id,
        kind=EventKind.COMPLAINT,
        at=T0 + timedelta(days=day),
        ses_message_id=f"ses-{event_id}",
        email=email,
        mail_sent_at=T0,
        details={"feedback_type": "abuse"},
    )


def delivery(event_id: str, email: str) -> RecipientEvent:
    return RecipientEvent(
        event_id=event_id, kind=EventKind.DELIVERY, at=T0, ses_message_id=f"ses-{event_id}", email=email, mail_sent_at=T0
    )  # fmt: skip


def entry(event: RecipientEvent, tenant_id: str) -> LogEntry:
    key = RecipientKey(tenant_id, f"m-{event.event_id}", "r0000")
    return LogEntry(StoredRecipient(key, event.email, RecipientFacts(), version=1), event)


def address(i: int) -> str:
    return f"person{i}@example.com"


# --- the request recorder -----------------------------------------------------------------------------


@dataclass
class Recorder:
    """DynamoDB requests by operation, and the sequential rounds they took.

    Rounds are counted by dependency, not by the clock: each thread of work carries the depth of
    the last request it waited for, a request is one deeper than that, and the calls of one
    ``_parallel`` section all start from the depth the section was entered at; after the section
    the caller is as deep as its deepest call. So two requests issued side by side are one round
    however the scheduler interleaves them, and two issued one after the other are two."""

    operations: Counter[str] = field(default_factory=Counter)
    rounds: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _chain: threading.local = field(default_factory=threading.local)

    @property
    def depth(self) -> int:
        return getattr(self._chain, "depth", 0)

    @depth.setter
    def depth(self, value: int) -> None:
        self._chain.depth = value

    def request(self, operation: str) -> None:
        with self._lock:
            self.operations[operation] += 1
            self.depth += 1
            self.rounds = max(self.rounds, self.depth)

    @property
    def calls(self) -> int:
        return sum(self.operations.values())


@contextmanager
def recording(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    recorder = Recorder()
    original_parallel = DynamoSuppressionStore._parallel

    def count(call: ApiCall, perform: Callable[[], Any]) -> Any:
        recorder.request(call.operation)
        return perform()

    def parallel(self: DynamoSuppressionStore, func: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        entered_at = recorder.depth
        reached: list[int] = []

        def one(item: Any) -> Any:
            recorder.depth = entered_at
            try:
                return func(item)
            finally:
                reached.append(recorder.depth)

        try:
            return original_parallel(self, one, items)
        finally:
            recorder.depth = max([entered_at, *reached])

    with intercepted(count), monkeypatch.context() as patch:
        patch.setattr(DynamoSuppressionStore, "_parallel", parallel)
        yield recorder


# --- the stored outcome ---------------------------------------------------------------------------------


def stored_evidence(tenant_id: str, email: str) -> list[tuple[str, str, str, str | None]]:
    return sorted(
        (item.event_id, item.kind, item.at, item.detail)
        for item in SuppressionEvidenceItem.query(keys.suppression_pk(tenant_id, email))
    )


def outcome(store: DynamoSuppressionStore, tenant_id: str, emails: Sequence[str]) -> dict[str, Any]:
    """Records (without their tenant), audit history and evidence of each address."""
    result: dict[str, Any] = {}
    for email in emails:
        record = store.get(tenant_id, email)
        history = [(h.action, h.actor, h.reason, h.evidence) for h in store.history(tenant_id, email)]
        result[email] = (
            replace(record, tenant_id="") if record is not None else None,
            history,
            stored_evidence(tenant_id, email),
        )
    return result


def batch_of(n: int, tenant_id: str) -> list[LogEntry]:
    """n fresh addresses, each suppressed by one complaint or two permanent bounces, or not (one
    bounce), with a redelivered copy and an uninteresting delivery; at most 25 evidence items."""
    events: list[RecipientEvent] = []
    for i in range(n):
        email = address(i)
        events.append(delivery(f"d{i}", email))
        if i % 3 == 0:
            events.append(complaint(f"c{i}", email, day=i))
        elif i % 3 == 1:
            events += [bounce(f"p{i}a", email, day=i), bounce(f"p{i}b", email, day=i + 1)]
        else:
            events.append(bounce(f"p{i}", email, day=i))
    events.append(events[-1])  # the same SES event delivered twice
    return [entry(event, tenant_id) for event in events]


# --- round trips -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("addresses", [1, 8])
def test_a_batch_costs_the_same_rounds_however_many_addresses_it_carries(
    monkeypatch: pytest.MonkeyPatch, addresses: int
) -> None:
    store = DynamoSuppressionStore()
    entries = batch_of(addresses, "tenant-a")
    with recording(monkeypatch) as recorder:
        SuppressionService(store, clock=clock).observe(entries)

    suppressed = sum(1 for i in range(addresses) if i % 3 != 2)
    # One round each: the evidence (BatchWriteItem), the records (BatchGetItem), the evidence
    # Queries (concurrent), the suppress transactions (concurrent); no GetItem, no re-read.
    assert recorder.operations == Counter(
        BatchWriteItem=1, BatchGetItem=1, Query=addresses, TransactWriteItems=suppressed
    )
    assert recorder.rounds == 4

    emails = [address(i) for i in range(addresses)]
    reasons = SuppressionService(store).active_reasons("tenant-a", emails)
    assert reasons == {
        address(i): "1 complaint" if i % 3 == 0 else "2 permanent bounces"
        for i in range(addresses)
        if i % 3 != 2
    }


def test_evidence_beyond_25_items_is_written_in_concurrent_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    store = DynamoSuppressionStore()
    entries = [
        entry(bounce(f"p{i}-{k}", address(i), day=k, permanent=False), "tenant-a")
        for i in range(3)
        for k in range(20)
    ]
    with recording(monkeypatch) as recorder:
        SuppressionService(store, clock=clock).observe(entries)

    # 60 evidence items: three BatchWriteItem requests side by side, in one round.
    assert recorder.operations == Counter(BatchWriteItem=3, BatchGetItem=1, Query=3, TransactWriteItems=3)
    assert recorder.rounds == 4
    assert all(len(stored_evidence("tenant-a", address(i))) == 20 for i in range(3))


def test_a_batch_without_bounces_or_complaints_costs_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    with recording(monkeypatch) as recorder:
        SuppressionService(DynamoSuppressionStore()).observe([entry(delivery("d0", address(0)), "tenant-a")])
    assert recorder.calls == 0


# --- the same outcome as one address at a time ----------------------------------------------------------


def prepare(service: SuppressionService, store: DynamoSuppressionStore, tenant_id: str) -> None:
    """Addresses that already have a record: person3 active (2 bounces), person4 lifted at day 50."""
    service.observe(
        [entry(e, tenant_id) for e in (bounce("p3a", address(3), 10), bounce("p3b", address(3), 12))]
    )
    service.observe([entry(complaint("c4", address(4), 20), tenant_id)])
    record = store.get(tenant_id, address(4))
    assert record is not None
    SuppressionService(store, clock=lambda: T0 + timedelta(days=50)).lift(tenant_id, address(4), "owner")


def mixed_batch(tenant_id: str) -> list[LogEntry]:
    events = [
        complaint("c0", address(0), 1),
        bounce("p1a", address(1), 2),
        bounce("p1b", address(1), 3),
        bounce("p2", address(2), 4),  # one permanent bounce: not suppressed
        bounce("p3c", address(3), 5),  # earlier than the active record's evidence: evidence changes
        complaint("c4", address(4), 20),  # before the lift: no longer counts
        bounce("p4a", address(4), 60),  # after the lift: counts, but one is not enough
        *(bounce(f"t5{k}", address(5), 30 + 5 * k, permanent=False) for k in range(5)),  # 5 in 20 days
        bounce("t6", address(6), 7, permanent=False),
        complaint("c7", address(7), 8),
        complaint("c7", address(7), 8),  # redelivered
    ]
    return [entry(e, tenant_id) for e in events]


def test_the_batch_outcome_equals_one_address_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    store = DynamoSuppressionStore()
    service = SuppressionService(store, clock=clock)
    emails = [address(i) for i in range(8)]
    for tenant_id in ("tenant-batch", "tenant-sequential"):
        prepare(service, store, tenant_id)

    with recording(monkeypatch) as recorder:
        service.observe(mixed_batch("tenant-batch"))
    # person0, 1, 5, 7 are suppressed and person3's record is updated (GetItem + transaction, so
    # the suppress round takes two round trips); still no per-address sequence of requests.
    assert recorder.operations == Counter(
        BatchWriteItem=1, BatchGetItem=1, Query=8, GetItem=1, TransactWriteItems=5
    )
    assert recorder.rounds == 5

    # The way it was done before: per address add the evidence, then re-evaluate it.
    by_address: dict[str, dict[str, Evidence]] = {}
    for item in mixed_batch("tenant-sequential"):
        key = item.recipient.key
        evidence = evidence_from_event(item.event, key.message_id, key.recipient_id)
        by_address.setdefault(item.event.email, {})[evidence.event_id] = evidence
    for email, evidence_by_id in sorted(by_address.items()):
        store.add_evidence("tenant-sequential", email, list(evidence_by_id.values()))
        service.reevaluate("tenant-sequential", email)

    batched = outcome(store, "tenant-batch", emails)
    assert batched == outcome(store, "tenant-sequential", emails)
    reasons = {email: record.reason for email, (record, _, _) in batched.items() if record and record.active}
    assert reasons == {
        address(0): "1 complaint",
        address(1): "2 permanent bounces",
        address(3): "2 permanent bounces",
        address(5): "5 transient bounces within 30 days",
        address(7): "1 complaint",
    }
    record3 = batched[address(3)][0]
    assert [e.event_id for e in record3.evidence] == ["p3c", "p3a"]
    assert [h[0] for h in batched[address(3)][1]] == ["suppressed"], "updated, not suppressed twice"
    assert batched[address(4)][0].state.value == "lifted"


# --- conflicts -----------------------------------------------------------------------------------------------


class Interfering(DynamoSuppressionStore):
    """Before each suppress round, another writer suppresses ``victim`` (so its write conflicts)."""

    def __init__(self, victim: Address, times: int) -> None:
        super().__init__()
        self.victim = victim
        self.times = times
        self.loaded: list[set[Address]] = []

    def load_records(self, addresses: Any) -> dict[Address, SuppressionRecord]:
        self.loaded.append(set(addresses))
        return super().load_records(addresses)

    def suppress_many(self, writes: Sequence[SuppressionWrite], at: datetime) -> set[Address]:
        if self.times > 0:
            self.times -= 1
            current = self.get(*self.victim)
            other = Decision(f"concurrent {uuid.uuid4().hex}", ())
            self.suppress(self.victim.tenant_id, self.victim.email, other, at, current)
        return super().suppress_many(writes, at)


def test_only_the_conflicted_addresses_are_read_and_written_again() -> None:
    victim = Address("tenant-a", address(0))
    store = Interfering(victim, times=1)
    SuppressionService(store, clock=clock).observe(batch_of(5, "tenant-a"))

    assert store.loaded == [{Address("tenant-a", address(i)) for i in range(5)}, {victim}]
    record = store.get(*victim)
    assert record is not None
    assert record.reason == "1 complaint", "the evidence wins over the concurrent write"
    assert [e.event_id for e in record.evidence] == ["c0"]


def test_an_address_that_never_settles_is_a_transient_error() -> None:
    store = Interfering(Address("tenant-a", address(0)), times=EVALUATE_ATTEMPTS)
    with pytest.raises(TransientStoreError):
        SuppressionService(store, clock=clock).observe(batch_of(2, "tenant-a"))
    assert len(store.loaded) == EVALUATE_ATTEMPTS
    # The other address was suppressed in the first round all the same.
    assert SuppressionService(store).active_reasons("tenant-a", [address(1)]) == {
        address(1): "2 permanent bounces"
    }


# --- order, batch cuts and duplicates do not matter ----------------------------------------------------------

KINDS = st.sampled_from(["permanent", "transient", "complaint"])


@st.composite
def histories(draw: st.DrawFn) -> list[RecipientEvent]:
    """Events of up to four addresses (event ids unique per address)."""
    events = []
    for i in range(draw(st.integers(min_value=0, max_value=10))):
        email = address(draw(st.integers(min_value=0, max_value=3)))
        day = draw(st.integers(min_value=0, max_value=60))
        kind = draw(KINDS)
        if kind == "complaint":
            events.append(complaint(f"e{i}", email, day))
        else:
            events.append(bounce(f"e{i}", email, day, permanent=kind == "permanent"))
    return events


def kind_of(event: RecipientEvent) -> EvidenceKind:
    if event.kind is EventKind.COMPLAINT:
        return EvidenceKind.COMPLAINT
    if event.details["bounce_type"] == "Permanent":
        return EvidenceKind.PERMANENT_BOUNCE
    return EvidenceKind.TRANSIENT_BOUNCE


@settings(
    max_examples=30,
    deadline=None,
    # One table for every example; each example has a tenant of its own.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_batches_in_any_order_with_duplicates_give_the_records_the_rules_say(data: st.DataObject) -> None:
    events = data.draw(histories())
    rules = SuppressionRules(
        permanent_bounces=data.draw(st.integers(min_value=1, max_value=3)),
        complaints=data.draw(st.integers(min_value=0, max_value=2)),
        transient_bounces=data.draw(st.integers(min_value=1, max_value=4)),
        transient_window=timedelta(days=data.draw(st.integers(min_value=1, max_value=45))),
    )
    copies = [e for e in events for _ in range(data.draw(st.integers(min_value=1, max_value=3)))]
    shuffled = data.draw(st.permutations(copies))
    cuts = sorted(data.draw(st.lists(st.integers(min_value=0, max_value=len(shuffled)), max_size=3)))
    bounds = [0, *cuts, len(shuffled)]
    tenant_id = f"t{uuid.uuid4().hex[:12]}"

    store = DynamoSuppressionStore()
    service = SuppressionService(store, rules, clock=clock)
    for start, end in itertools.pairwise(bounds):
        service.observe([entry(e, tenant_id) for e in shuffled[start:end]])

    for i in range(4):
        email = address(i)
        mine = [e for e in events if e.email == email]
        assert {row[0] for row in stored_evidence(tenant_id, email)} == {e.event_id for e in mine}
        expected = evaluate([Evidence(e.event_id, kind_of(e), e.at) for e in mine], rules)
        record = store.get(tenant_id, email)
        if expected is None:
            assert record is None
            continue
        assert record is not None
        assert record.active
        assert record.reason == expected.reason
        assert [e.event_id for e in record.evidence] == [e.event_id for e in expected.evidence]
        assert [h.action for h in store.history(tenant_id, email)] == ["suppressed"]
