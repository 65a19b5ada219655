"""Recording suppression evidence on moto: one UpdateItem per address and no read, unless the
decision changes.

The evidence is a string set on the address's own item, and the UpdateItem that adds to it answers
(``ReturnValues=ALL_NEW``) with everything the rules need. Measured per call for one address, with
the former design (one evidence item per event, then a batch read of the records and a Query of
each address's evidence) beside it:

=============================================  ===============================  ==================
call                                           before (requests, rounds)        now
=============================================  ===============================  ==================
a bounce that decides nothing                  BatchWrite+BatchGet+Query: 3, 3  UpdateItem: 1, 1
the same bounce replayed                       3, 3                             1, 1
the bounce that suppresses                     + TransactWriteItems: 4, 4       2, 2
a bounce to a suppressed address, no change    3, 3                             1, 1
a bounce that changes the record's evidence    + GetItem + Transact: 5, 5       2 UpdateItems, 2
8 addresses, a non-deciding bounce each        1 + 1 + 8 Queries: 10, 3         8 UpdateItems, 1
=============================================  ===============================  ==================

Rounds are counted by dependency (which request waited for which), so the numbers do not depend on
how busy the machine is.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import suppression_samples as samples
from tests.aws_calls import ApiCall, intercepted, is_write
from tests.suppression_samples import evidence
from tracker.dal import keys
from tracker.dal.models import SuppressionItem
from tracker.dal.suppressions import DynamoSuppressionStore, encode_evidence
from tracker.domain.errors import ConflictError
from tracker.domain.suppression import (
    EVIDENCE_KEPT,
    Address,
    AddressState,
    Decision,
    Evidence,
    EvidenceKind,
    SuppressionRules,
    SuppressionState,
    SuppressionWrite,
    evaluate,
)
from tracker.logic.suppression import EVALUATE_ATTEMPTS, SuppressionService

pytestmark = pytest.mark.usefixtures("table")

NOW = samples.T0 + timedelta(days=120)
PERMANENT = EvidenceKind.PERMANENT_BOUNCE
TRANSIENT = EvidenceKind.TRANSIENT_BOUNCE
A = samples.address(0)


def clock() -> datetime:
    return NOW


def service(
    store: DynamoSuppressionStore | None = None, rules: SuppressionRules | None = None
) -> SuppressionService:
    return SuppressionService(store or DynamoSuppressionStore(), rules, clock=clock)


# --- the request recorder -----------------------------------------------------------------------------


@dataclass
class Recorder:
    """DynamoDB requests by operation, and the sequential rounds they took.

    Each thread of work carries the depth of the last request it waited for, a request is one
    deeper than that, and the calls of one ``_parallel`` section all start from the depth the
    section was entered at; after the section the caller is as deep as its deepest call. So two
    requests issued side by side are one round however the scheduler interleaves them, and two
    issued one after the other are two."""

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


def stored_entries(owner: Address) -> set[str]:
    try:
        item = SuppressionItem.get(keys.suppression_pk(*owner), keys.SUPPRESSION_SK, consistent_read=True)
    except SuppressionItem.DoesNotExist:
        return set()
    return set(item.observed or ())


def outcome(store: DynamoSuppressionStore, owner: Address) -> tuple[Any, ...]:
    """The record (without its tenant and version), the audit actions and the evidence set."""
    record = store.get(*owner)
    history = [(h.action, h.actor) for h in store.history(*owner)]
    kept = replace(record, tenant_id="", version=None) if record is not None else None
    return kept, history, stored_entries(owner)


def in_tenant(calls: Mapping[Address, Sequence[Evidence]], tenant_id: str) -> dict[Address, list[Evidence]]:
    return {Address(tenant_id, owner.email): list(items) for owner, items in calls.items()}


def fresh_tenant() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


# --- round trips -------------------------------------------------------------------------------------------


def test_evidence_costs_one_update_and_no_read_unless_the_decision_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    svc = service()
    steps = [
        ("a first permanent bounce decides nothing", [evidence(1, PERMANENT, 1)], Counter(UpdateItem=1), 1),
        ("the same bounce replayed", [evidence(1, PERMANENT, 1)], Counter(UpdateItem=1), 1),
        (
            "the second suppresses",
            [evidence(2, PERMANENT, 2)],
            Counter(UpdateItem=1, TransactWriteItems=1),
            2,
        ),
        ("a third changes nothing", [evidence(3, PERMANENT, 3)], Counter(UpdateItem=1), 1),
        (
            "an earlier one changes the record's evidence",
            [evidence(0, PERMANENT, 0)],
            Counter(UpdateItem=2),
            2,
        ),
    ]
    for label, items, operations, rounds in steps:
        with recording(monkeypatch) as recorder:
            assert svc.record_evidence({A: items}) == set()
        assert (recorder.operations, recorder.rounds) == (operations, rounds), label

    record = DynamoSuppressionStore().get(*A)
    assert record is not None
    assert (record.reason, [e.event_id for e in record.evidence]) == (
        "2 permanent bounces",
        [samples.evidence_id(0), samples.evidence_id(1)],
    )
    assert [h.action for h in DynamoSuppressionStore().history(*A)] == ["suppressed"], (
        "updated, not suppressed twice"
    )


def test_a_call_for_many_addresses_is_one_round_of_updates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Eight addresses: every third complains (suppressed), the others bounce once (not)."""
    calls = {
        samples.address(i): [evidence(i, EvidenceKind.COMPLAINT if i % 3 == 0 else PERMANENT, i)]
        for i in range(8)
    }
    with recording(monkeypatch) as recorder:
        assert service().record_evidence(calls) == set()
    assert recorder.operations == Counter(UpdateItem=8, TransactWriteItems=3)
    assert recorder.rounds == 2
    assert service().active_reasons(samples.TENANT, [samples.email(i) for i in range(8)]) == {
        samples.email(i): "1 complaint" for i in (0, 3, 6)
    }


def test_no_evidence_costs_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    with recording(monkeypatch) as recorder:
        assert service().record_evidence({}) == set()
        assert service().record_evidence({A: []}) == set()
    assert recorder.calls == 0


# --- an address with evidence only ------------------------------------------------------------------------


def test_an_address_with_evidence_only_is_no_suppression() -> None:
    store = DynamoSuppressionStore()
    assert service(store).record_evidence({A: [evidence(1, PERMANENT)]}) == set()
    assert stored_entries(A) == {encode_evidence(evidence(1, PERMANENT))}, "the evidence is kept"

    assert store.get(*A) is None
    assert store.get_many(A.tenant_id, [A.email]) == {}
    assert service(store).active_reasons(A.tenant_id, [A.email]) == {}
    for state in SuppressionState:
        assert store.list_page(A.tenant_id, state, 10, None) == ([], None)
    assert store.history(*A) == []


# --- the bound ---------------------------------------------------------------------------------------------

# Transient bounces ten days apart: never five within 30 days, so none of them decides anything.
SPREAD = samples.bounces(0, [10.0 * k for k in range(EVIDENCE_KEPT + 10)])


def test_the_set_keeps_the_latest_entries_and_prunes_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    oldest, newest = SPREAD[:EVIDENCE_KEPT], SPREAD[EVIDENCE_KEPT:]
    latest = {encode_evidence(e) for e in SPREAD[-EVIDENCE_KEPT:]}
    svc = service()
    with recording(monkeypatch) as recorder:
        svc.record_evidence({A: oldest})
    assert recorder.operations == Counter(UpdateItem=1)
    with recording(monkeypatch) as recorder:
        svc.record_evidence({A: newest})
    assert recorder.operations == Counter(UpdateItem=2), "the ADD, then the DELETE of the excess"
    assert recorder.rounds == 2
    assert stored_entries(A) == latest
    # The oldest once more (a replay): added and pruned again, the same set kept.
    svc.record_evidence({A: oldest[:3]})
    assert stored_entries(A) == latest
    assert DynamoSuppressionStore().get(*A) is None


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_the_kept_set_is_the_same_for_any_order_and_cuts(data: st.DataObject) -> None:
    owner = Address(fresh_tenant(), A.email)
    svc = service()
    for call in data.draw(samples.deliveries({owner: SPREAD}, max_calls=5)):
        assert svc.record_evidence(call) == set()
    assert stored_entries(owner) == {encode_evidence(e) for e in SPREAD[-EVIDENCE_KEPT:]}


# --- writes are decided on the state they change --------------------------------------------------------


def test_evidence_stored_between_the_read_and_the_write_is_never_overlooked() -> None:
    """Another call stores an earlier bounce (and stops before settling, a crash) while this call is
    about to suppress: its write, decided without that bounce, must not go through."""
    store = DynamoSuppressionStore()
    svc = service(store)
    svc.record_evidence({A: [evidence(3, PERMANENT, 3)]})
    interfered: list[str] = []

    def interfere(call: ApiCall, perform: Callable[[], Any]) -> Any:
        if call.operation == "TransactWriteItems" and not interfered:
            interfered.append(call.operation)
            store.add_evidence({A: [evidence(1, PERMANENT, 1)]})
        return perform()

    with intercepted(interfere) as calls:
        assert svc.record_evidence({A: [evidence(5, PERMANENT, 5)]}) == set()
    assert [c.operation for c in calls] == [
        "UpdateItem",  # this call's evidence
        "TransactWriteItems",  # decided on {3, 5}: refused, the set grew meanwhile
        "UpdateItem",  # (the other call's evidence, stored before the refused write reached the table)
        "BatchGetItem",  # read again
        "TransactWriteItems",  # decided on {1, 3, 5}
    ]
    record = store.get(*A)
    assert record is not None
    assert [e.event_id for e in record.evidence] == [samples.evidence_id(1), samples.evidence_id(3)]


def test_a_prune_between_the_read_and_the_write_makes_the_write_conflict() -> None:
    """After a prune the set may have its old size with other entries: the version tells."""
    store = DynamoSuppressionStore()
    read = store.add_evidence({A: SPREAD[:EVIDENCE_KEPT]})[A]
    decision = Decision("made up", ())
    replayed = store.add_evidence({A: SPREAD[:1]})[A]
    assert replayed.revision == read.revision, "a replay changes nothing"
    store.add_evidence({A: SPREAD[EVIDENCE_KEPT : EVIDENCE_KEPT + 1]})  # one more: the oldest is pruned
    assert len(stored_entries(A)) == EVIDENCE_KEPT
    with pytest.raises(ConflictError):
        store.suppress(SuppressionWrite(read, decision), NOW)
    store.suppress(SuppressionWrite(store.load([A])[A], decision), NOW)
    assert store.get(*A) is not None


class Interfering(DynamoSuppressionStore):
    """Before each suppress round, another writer suppresses ``victim`` (so its write conflicts)."""

    def __init__(self, victim: Address, times: int) -> None:
        super().__init__()
        self.victim = victim
        self.times = times
        self.loaded: list[set[Address]] = []

    def load(self, addresses: Any) -> dict[Address, AddressState]:
        self.loaded.append(set(addresses))
        return super().load(addresses)

    def suppress_many(self, writes: Sequence[SuppressionWrite], at: datetime) -> set[Address]:
        if self.times > 0:
            self.times -= 1
            current = super().load([self.victim])[self.victim]
            self.suppress(SuppressionWrite(current, Decision(f"concurrent {uuid.uuid4().hex}", ())), at)
        return super().suppress_many(writes, at)


def complaints(n: int) -> dict[Address, list[Evidence]]:
    return {samples.address(i): [evidence(i, EvidenceKind.COMPLAINT, i)] for i in range(n)}


def test_only_the_conflicted_addresses_are_read_again() -> None:
    store = Interfering(A, times=1)
    assert service(store).record_evidence(complaints(5)) == set()
    assert store.loaded == [{A}], "nothing is read but the address that conflicted"
    record = store.get(*A)
    assert record is not None
    assert record.reason == "1 complaint", "the evidence wins over the concurrent write"
    assert [e.event_id for e in record.evidence] == [samples.evidence_id(0)]


def test_an_address_that_never_settles_is_returned_for_a_retry() -> None:
    store = Interfering(A, times=EVALUATE_ATTEMPTS)
    assert service(store).record_evidence(complaints(2)) == {A}
    assert len(store.loaded) == EVALUATE_ATTEMPTS
    # The other address was suppressed in the first round all the same.
    assert service(store).active_reasons(A.tenant_id, [samples.email(1)]) == {samples.email(1): "1 complaint"}


def test_a_failed_evidence_write_leaves_only_that_address_unsettled() -> None:
    failing = keys.suppression_pk(*samples.address(1))

    def fail_one(call: ApiCall, perform: Callable[[], Any]) -> Any:
        if call.operation == "UpdateItem" and call.params["Key"]["pk"]["S"] == failing:
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "boom"}}, call.operation)  # type: ignore[arg-type]
        return perform()

    with intercepted(fail_one):
        assert service().record_evidence(complaints(2)) == {samples.address(1)}
    assert service().active_reasons(samples.TENANT, [samples.email(0), samples.email(1)]) == {
        samples.email(0): "1 complaint"
    }
    assert service().record_evidence(complaints(2)) == set(), "the retry settles it"
    assert set(service().active_reasons(samples.TENANT, [samples.email(1)])) == {samples.email(1)}


# --- order, cuts, duplicates and crashes do not matter -------------------------------------------------------

PROPERTY = settings(
    max_examples=25,
    deadline=None,
    # One table for every example; each example has tenants of its own.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY
@given(data=st.data())
def test_any_order_cuts_and_duplicates_give_the_record_of_one_call_with_the_set(data: st.DataObject) -> None:
    history = data.draw(samples.histories())
    rules = data.draw(samples.rules())
    store = DynamoSuppressionStore()
    reference, tenant = fresh_tenant(), fresh_tenant()
    assert service(store, rules).record_evidence(in_tenant(history, reference)) == set()
    for call in data.draw(samples.deliveries(history)):
        assert service(store, rules).record_evidence(in_tenant(call, tenant)) == set()

    for owner, items in history.items():
        mine = Address(tenant, owner.email)
        assert outcome(store, mine) == outcome(store, Address(reference, owner.email))
        expected = evaluate(items, rules)
        record = store.get(*mine)
        if expected is None:
            assert record is None
            continue
        assert record is not None
        assert record.active
        assert (record.reason, record.evidence) == (expected.reason, expected.evidence)


class SimulatedCrash(BaseException):
    """The function stops: no error handling of ours runs."""


@contextmanager
def crash_at_write(number: int, after: bool) -> Iterator[list[str]]:
    """The function dies at its ``number``-th write, before it reaches the table or (``after``)
    once it did: that write's caller never hears back, and no later write (of any thread) happens."""
    writes: list[str] = []

    def crash(call: ApiCall, perform: Callable[[], Any]) -> Any:
        if not is_write(call):
            return perform()
        writes.append(call.operation)
        if len(writes) < number:
            return perform()
        if after and len(writes) == number:
            perform()
        raise SimulatedCrash(f"died at write {number}")

    with intercepted(crash):
        yield writes


@PROPERTY
@given(data=st.data())
def test_a_crash_after_any_write_is_repaired_by_replaying_the_call(data: st.DataObject) -> None:
    history = data.draw(samples.histories(addresses=2, max_size=8))
    calls = data.draw(samples.deliveries(history, max_calls=3))
    number, after = data.draw(st.integers(min_value=1, max_value=4)), data.draw(st.booleans())
    store = DynamoSuppressionStore()
    reference, tenant = fresh_tenant(), fresh_tenant()
    assert service(store).record_evidence(in_tenant(history, reference)) == set()

    *before, last = calls
    for call in before:
        assert service(store).record_evidence(in_tenant(call, tenant)) == set()
    with crash_at_write(number, after) as writes:
        try:
            service(store).record_evidence(in_tenant(last, tenant))
        except SimulatedCrash:
            assert len(writes) >= number
        else:
            assert len(writes) < number, "no crash only when the call made fewer writes"
    assert service(store).record_evidence(in_tenant(last, tenant)) == set(), "the replay"

    for owner in history:
        assert outcome(store, Address(tenant, owner.email)) == outcome(store, Address(reference, owner.email))
