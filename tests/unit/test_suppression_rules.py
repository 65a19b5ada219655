"""Suppression rules and the service's exactness, on an in-memory store (fast, no emulator).

The property tests hand the same evidence to ``record_evidence`` in any order, with duplicates, cut
into any calls, and check that the record is the one a single call with the set leaves: suppressed
or not, with the same reason and evidence, never a double count; within the bound and beyond it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import suppression_samples as samples
from tracker.bootstrap.suppression import suppression_rules
from tracker.dal.suppressions import decode_evidence, encode_evidence
from tracker.domain.errors import ConflictError, NotFoundError
from tracker.domain.events import EventKind, RecipientEvent
from tracker.domain.suppression import (
    EVIDENCE_KEPT,
    Address,
    AddressState,
    Evidence,
    EvidenceKind,
    HistoryEntry,
    SuppressionRecord,
    SuppressionRules,
    SuppressionState,
    SuppressionWrite,
    evaluate,
    latest_evidence,
)
from tracker.logic.suppression import SuppressionService
from tracker.settings import SendSettings, SettingError

T0 = datetime(2026, 1, 1, tzinfo=UTC)
EMAIL = "ann@example.com"
ANN = Address("tenant-a", EMAIL)


@dataclass
class _Address:
    observed: set[Evidence] = field(default_factory=set)
    record: SuppressionRecord | None = None
    version: int | None = None


class MemoryStore:
    """logic.ports.SuppressionStore in memory, with the same contract: the kept evidence is the
    latest of the set, a write is conditioned on the revision it was decided from."""

    def __init__(self) -> None:
        self.addresses: dict[Address, _Address] = {}
        self.history_entries: dict[Address, list[HistoryEntry]] = {}
        self.failing: set[Address] = set()
        self.writes = 0

    def _state(self, address: Address) -> AddressState:
        held = self.addresses.get(address, _Address())
        kept = latest_evidence(held.observed)
        return AddressState(address, held.record, kept, (held.version, len(held.observed)))

    def add_evidence(self, evidence: Mapping[Address, Sequence[Evidence]]) -> dict[Address, AddressState]:
        answer = {}
        for address, items in evidence.items():
            if address in self.failing:
                continue
            held = self.addresses.setdefault(address, _Address())
            held.observed.update(items)
            kept = set(latest_evidence(held.observed))
            if kept != held.observed:
                held.observed = kept
                held.version = (held.version or 0) + 1
            answer[address] = self._state(address)
        return answer

    def load(self, addresses: Collection[Address]) -> dict[Address, AddressState]:
        return {address: self._state(address) for address in addresses if address not in self.failing}

    def suppress_many(self, writes: Sequence[SuppressionWrite], at: datetime) -> set[Address]:
        conflicted = set()
        for write in writes:
            if self._state(write.address).revision != write.state.revision:
                conflicted.add(write.address)
                continue
            self._suppress(write, at)
        return conflicted

    def _suppress(self, write: SuppressionWrite, at: datetime) -> None:
        held = self.addresses[write.address]
        previous, decision = held.record, write.decision
        self.writes += 1
        held.version = (held.version or 0) + 1
        if previous is not None and previous.active:
            held.record = replace(
                previous, reason=decision.reason, evidence=decision.evidence, version=held.version
            )
            return
        held.record = SuppressionRecord(
            write.address.tenant_id, write.address.email, SuppressionState.ACTIVE, decision.reason, at,
            decision.evidence, counts_from=previous.counts_from if previous else None, version=held.version,
        )  # fmt: skip
        self.history_entries.setdefault(write.address, []).append(
            HistoryEntry("suppressed", at, "system", decision.reason, decision.evidence)
        )

    def get(self, tenant_id: str, email: str) -> SuppressionRecord | None:
        return self.addresses.get(Address(tenant_id, email), _Address()).record

    def get_many(self, tenant_id: str, emails: Collection[str]) -> dict[str, SuppressionRecord]:
        return {e: r for e in emails if (r := self.get(tenant_id, e)) is not None}

    def lift(self, record: SuppressionRecord, actor: str, at: datetime) -> SuppressionRecord:
        address = Address(record.tenant_id, record.email)
        held = self.addresses[address]
        if held.version != record.version:
            raise ConflictError([address])
        held.version = (held.version or 0) + 1
        lifted = replace(
            record,
            state=SuppressionState.LIFTED,
            lifted_at=at,
            lifted_by=actor,
            counts_from=at,
            version=held.version,
        )
        held.record = lifted
        self.history_entries.setdefault(address, []).append(HistoryEntry("lifted", at, actor, record.reason))
        return lifted

    def list_page(
        self, tenant_id: str, state: SuppressionState, limit: int, position: Mapping[str, Any] | None
    ) -> tuple[list[SuppressionRecord], dict[str, Any] | None]:
        records = [
            held.record
            for address, held in sorted(self.addresses.items())
            if address.tenant_id == tenant_id and held.record is not None and held.record.state is state
        ]
        return records[:limit], None

    def history(self, tenant_id: str, email: str) -> list[HistoryEntry]:
        return list(self.history_entries.get(Address(tenant_id, email), []))


def bounce(event_id: str, at: datetime, bounce_type: str = "Permanent", email: str = EMAIL) -> RecipientEvent:
    return RecipientEvent(
        event_id=event_id,
        kind=EventKind.BOUNCE,
        at=at,
        ses_message_id=f"ses-{event_id}",
        email=email,
        mail_sent_at=at,
        details={"bounce_type": bounce_type, "bounce_subtype": "General", "diagnostic_code": "smtp; 550"},
    )


def complaint(event_id: str, at: datetime, email: str = EMAIL) -> RecipientEvent:
    return RecipientEvent(
        event_id=event_id,
        kind=EventKind.COMPLAINT,
        at=at,
        ses_message_id=f"ses-{event_id}",
        email=email,
        mail_sent_at=at,
        details={"feedback_type": "abuse"},
    )


def entry(event: RecipientEvent, tenant_id: str = "tenant-a") -> tuple[Address, Evidence]:
    """The suppression evidence the projector makes of a bounce or complaint of this address."""
    if event.kind is EventKind.COMPLAINT:
        kind, detail = EvidenceKind.COMPLAINT, event.details.get("feedback_type")
    else:
        permanent = event.details.get("bounce_type") == "Permanent"
        kind = EvidenceKind.PERMANENT_BOUNCE if permanent else EvidenceKind.TRANSIENT_BOUNCE
        detail = event.details.get("bounce_type")
    found = Evidence(event.event_id, kind, event.at, f"m-{event.event_id}", "r0000", detail)
    return Address(tenant_id, event.email), found


def observe(svc: SuppressionService, entries: list[tuple[Address, Evidence]]) -> set[Address]:
    grouped: dict[Address, list[Evidence]] = {}
    for address, found in entries:
        grouped.setdefault(address, []).append(found)
    return svc.record_evidence(grouped)


def evidence(event_id: str, kind: EvidenceKind, day: float) -> Evidence:
    return Evidence(event_id, kind, T0 + timedelta(days=day))


# --- the rules ------------------------------------------------------------------------------------


def test_two_permanent_bounces_suppress_one_does_not() -> None:
    rules = SuppressionRules()
    one = [evidence("p1", EvidenceKind.PERMANENT_BOUNCE, 0)]
    assert evaluate(one, rules) is None
    decision = evaluate([*one, evidence("p2", EvidenceKind.PERMANENT_BOUNCE, 400)], rules)
    assert decision is not None
    assert decision.reason == "2 permanent bounces"
    assert [e.event_id for e in decision.evidence] == ["p1", "p2"]


def test_the_same_event_twice_counts_once() -> None:
    twice = [
        evidence("p1", EvidenceKind.PERMANENT_BOUNCE, 0),
        evidence("p1", EvidenceKind.PERMANENT_BOUNCE, 0),
    ]
    assert evaluate(twice, SuppressionRules()) is None


def test_one_complaint_suppresses_and_wins_over_bounces() -> None:
    items = [
        evidence("p1", EvidenceKind.PERMANENT_BOUNCE, 0),
        evidence("p2", EvidenceKind.PERMANENT_BOUNCE, 1),
        evidence("c1", EvidenceKind.COMPLAINT, 2),
    ]
    decision = evaluate(items, SuppressionRules())
    assert decision is not None
    assert decision.reason == "1 complaint"
    assert [e.event_id for e in decision.evidence] == ["c1"]


@pytest.mark.parametrize(
    ("days", "suppressed"),
    [
        ([0, 1, 2, 3], False),  # only four
        ([0, 1, 2, 3, 30], True),  # five within exactly 30 days
        ([0, 8, 16, 24, 40], False),  # five, but never five within 30 days
        ([5, 10, 16, 24, 38, 40], True),  # days 10..40
    ],
)
def test_transient_bounces_count_only_within_the_window(days: list[int], suppressed: bool) -> None:
    items = [evidence(f"t{i}", EvidenceKind.TRANSIENT_BOUNCE, day) for i, day in enumerate(days)]
    decision = evaluate(items, SuppressionRules())
    if not suppressed:
        assert decision is None
        return
    assert decision is not None
    assert decision.reason == "5 transient bounces within 30 days"
    span = decision.evidence[-1].at - decision.evidence[0].at
    assert len(decision.evidence) == 5
    assert span <= timedelta(days=30)


def test_thresholds_are_configurable_and_zero_switches_a_rule_off() -> None:
    rules = SuppressionRules(
        permanent_bounces=1, complaints=0, transient_bounces=2, transient_window=timedelta(days=1)
    )
    assert evaluate([evidence("c", EvidenceKind.COMPLAINT, 0)], rules) is None
    decision = evaluate([evidence("p", EvidenceKind.PERMANENT_BOUNCE, 0)], rules)
    assert decision is not None
    assert decision.reason == "1 permanent bounce"
    two_days_apart = [
        evidence("a", EvidenceKind.TRANSIENT_BOUNCE, 0),
        evidence("b", EvidenceKind.TRANSIENT_BOUNCE, 2),
    ]
    assert evaluate(two_days_apart, rules) is None


def test_evidence_before_a_lift_no_longer_counts() -> None:
    items = [
        evidence("p1", EvidenceKind.PERMANENT_BOUNCE, 0),
        evidence("p2", EvidenceKind.PERMANENT_BOUNCE, 5),
    ]
    assert evaluate(items, SuppressionRules(), counts_from=T0 + timedelta(days=1)) is None


def test_a_threshold_the_kept_evidence_cannot_reach_is_refused() -> None:
    assert SuppressionRules(transient_bounces=EVIDENCE_KEPT).transient_bounces == EVIDENCE_KEPT
    with pytest.raises(ValueError, match="transient_bounces=51"):
        SuppressionRules(transient_bounces=EVIDENCE_KEPT + 1)
    with pytest.raises(ValueError, match="complaints=99"):
        SuppressionRules(complaints=99)
    too_many = SendSettings(None, "set", None, permanent_bounces_to_suppress=EVIDENCE_KEPT + 1)
    with pytest.raises(SettingError, match="permanent_bounces=51"):
        suppression_rules(too_many)


def test_two_versions_of_one_event_id_resolve_the_same_in_any_order() -> None:
    early = evidence("x", EvidenceKind.PERMANENT_BOUNCE, 0)
    other = replace(early, detail="another rendering")
    second = evidence("y", EvidenceKind.PERMANENT_BOUNCE, 1)
    one, two = (
        evaluate([early, other, second], SuppressionRules()),
        evaluate([second, other, early], SuppressionRules()),
    )
    assert one is not None
    assert one == two


# --- the kept evidence and its stored form ---------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_the_kept_evidence_is_the_latest_of_the_set_in_any_order(data: st.DataObject) -> None:
    n = data.draw(st.integers(min_value=0, max_value=80))
    items = [
        samples.evidence(i, data.draw(st.sampled_from(samples.KINDS)), day=data.draw(st.integers(0, 9)))
        for i in range(n)
    ]
    shuffled = data.draw(st.permutations(items + items[: n // 3]))
    kept = latest_evidence(shuffled)
    assert kept == latest_evidence(items)
    assert len(kept) == min(n, EVIDENCE_KEPT)
    by_time = sorted(items, key=lambda e: (e.at, e.event_id))
    assert list(kept) == by_time[len(by_time) - len(kept) :], "the latest, oldest first"


@settings(max_examples=200, deadline=None)
@given(
    event_id=st.text(st.characters(blacklist_characters="|"), min_size=1, max_size=12),
    kind=st.sampled_from(samples.KINDS),
    at=st.datetimes(min_value=datetime(2000, 1, 1), timezones=st.just(UTC)),
    message_id=st.none() | st.text(st.characters(blacklist_characters="|"), min_size=1, max_size=40),
    detail=st.none() | st.text(min_size=1, max_size=500),
)
def test_an_evidence_entry_decodes_to_the_evidence_it_encodes(
    event_id: str, kind: EvidenceKind, at: datetime, message_id: str | None, detail: str | None
) -> None:
    item = Evidence(event_id, kind, at, message_id, "r0001", detail)
    entry = encode_evidence(item)
    assert decode_evidence(entry) == item
    assert encode_evidence(decode_evidence(entry)) == entry, "one string per value"


def test_an_evidence_id_holding_the_separator_is_refused() -> None:
    with pytest.raises(ValueError, match=r"contains '\|'"):
        encode_evidence(Evidence("a|b", EvidenceKind.COMPLAINT, T0))


# --- the service -----------------------------------------------------------------------------------


def service(store: MemoryStore, rules: SuppressionRules | None = None) -> SuppressionService:
    return SuppressionService(store, rules, clock=lambda: T0 + timedelta(days=1000))


def test_undetermined_bounces_count_as_transient() -> None:
    store = MemoryStore()
    svc = service(store)
    observe(svc, [entry(bounce(f"u{i}", T0 + timedelta(days=i), "Undetermined")) for i in range(5)])
    record = store.get("tenant-a", EMAIL)
    assert record is not None
    assert record.reason == "5 transient bounces within 30 days"


def test_suppressions_belong_to_one_tenant() -> None:
    store = MemoryStore()
    svc = service(store)
    observe(svc, [entry(complaint("c1", T0), tenant_id="tenant-a")])
    assert svc.active_reasons("tenant-a", ["ANN@example.com"]) == {EMAIL: "1 complaint"}
    assert svc.active_reasons("tenant-b", [EMAIL]) == {}


def test_evidence_is_recorded_under_the_normalized_address_and_answered_as_given() -> None:
    store = MemoryStore()
    svc = service(store)
    given = Address("tenant-a", " Ann@Example.COM")
    assert svc.record_evidence({given: [evidence("p1", EvidenceKind.PERMANENT_BOUNCE, 0)], ANN: []}) == set()
    assert svc.record_evidence({given: [evidence("p2", EvidenceKind.PERMANENT_BOUNCE, 1)]}) == set()
    assert svc.active_reasons("tenant-a", [EMAIL]) == {EMAIL: "2 permanent bounces"}
    store.failing.add(ANN)
    assert svc.record_evidence({given: [evidence("p3", EvidenceKind.PERMANENT_BOUNCE, 2)]}) == {given}
    assert svc.record_evidence({}) == set()


def test_an_address_with_evidence_only_is_not_suppressed() -> None:
    store = MemoryStore()
    svc = service(store)
    assert svc.record_evidence({ANN: [evidence("p1", EvidenceKind.PERMANENT_BOUNCE, 0)]}) == set()
    assert ANN in store.addresses, "the evidence is kept"
    assert svc.active_reasons("tenant-a", [EMAIL]) == {}
    assert svc.list_page("tenant-a", SuppressionState.ACTIVE, 10, None) == ([], None)
    with pytest.raises(NotFoundError, match="never been suppressed"):
        svc.get("tenant-a", EMAIL)
    with pytest.raises(NotFoundError, match="not suppressed"):
        svc.lift("tenant-a", EMAIL, "owner-1")


def test_an_address_that_cannot_be_settled_is_answered_for_a_retry() -> None:
    store = MemoryStore()
    store.failing.add(ANN)
    assert observe(service(store), [entry(complaint("c1", T0))]) == {ANN}


def test_lifting_is_audited_and_restarts_the_count() -> None:
    store = MemoryStore()
    svc = service(store)
    observe(svc, [entry(bounce("p1", T0)), entry(bounce("p2", T0 + timedelta(days=1)))])
    lifted = svc.lift("tenant-a", "Ann@Example.com", "owner-1")
    assert lifted.state is SuppressionState.LIFTED
    assert lifted.lifted_by == "owner-1"
    assert svc.active_reasons("tenant-a", [EMAIL]) == {}
    # The old bounces redelivered: they predate the lift and do not count again.
    observe(svc, [entry(bounce("p1", T0)), entry(bounce("p2", T0 + timedelta(days=1)))])
    assert svc.active_reasons("tenant-a", [EMAIL]) == {}
    record, history = svc.get("tenant-a", EMAIL)
    assert record.state is SuppressionState.LIFTED
    assert [h.action for h in history] == ["suppressed", "lifted"]
    with pytest.raises(NotFoundError):
        svc.lift("tenant-a", EMAIL, "owner-1")
    # New bounces after the lift suppress it again.
    later = T0 + timedelta(days=1001)
    observe(svc, [entry(bounce("p3", later)), entry(bounce("p4", later + timedelta(hours=1)))])
    assert svc.active_reasons("tenant-a", [EMAIL]) == {EMAIL: "2 permanent bounces"}
    assert [h.action for h in store.history("tenant-a", EMAIL)] == ["suppressed", "lifted", "suppressed"]


def test_lifting_an_address_that_is_not_suppressed_is_not_found() -> None:
    with pytest.raises(NotFoundError):
        service(MemoryStore()).lift("tenant-a", EMAIL, "owner-1")


def test_an_active_record_is_brought_in_line_without_a_second_suppression() -> None:
    store = MemoryStore()
    svc = service(store)
    svc.record_evidence(
        {
            ANN: [
                evidence("p3", EvidenceKind.PERMANENT_BOUNCE, 3),
                evidence("p5", EvidenceKind.PERMANENT_BOUNCE, 5),
            ]
        }
    )
    svc.record_evidence({ANN: [evidence("p1", EvidenceKind.PERMANENT_BOUNCE, 1)]})
    record = store.get(*ANN)
    assert record is not None
    assert [e.event_id for e in record.evidence] == ["p1", "p3"]
    assert [h.action for h in store.history(*ANN)] == ["suppressed"]
    writes = store.writes
    svc.record_evidence({ANN: [evidence("p9", EvidenceKind.PERMANENT_BOUNCE, 9)]})
    assert store.writes == writes, "a bounce that changes nothing writes no suppression"


# --- the property: any order, any duplicates, any cuts ----------------------------------------------


def one_call(history: Mapping[Address, Sequence[Evidence]], rules: SuppressionRules) -> MemoryStore:
    store = MemoryStore()
    assert service(store, rules).record_evidence(history) == set()
    return store


def assert_same_outcome(store: MemoryStore, reference: MemoryStore, addresses: Collection[Address]) -> None:
    for owner in addresses:
        got, expected = store.addresses.get(owner), reference.addresses.get(owner)
        assert (got.observed if got else set()) == (expected.observed if expected else set()), (
            "the same set kept"
        )
        record, wanted = store.get(*owner), reference.get(*owner)
        assert (replace(record, version=None) if record else None) == (
            replace(wanted, version=None) if wanted else None
        )
        assert [h.action for h in store.history(*owner)] == [h.action for h in reference.history(*owner)]


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_the_record_depends_only_on_the_set_of_evidence(data: st.DataObject) -> None:
    history = data.draw(samples.histories())
    rules = data.draw(samples.rules())
    store = MemoryStore()
    svc = service(store, rules)
    for call in data.draw(samples.deliveries(history)):
        assert svc.record_evidence(call) == set()

    assert_same_outcome(store, one_call(history, rules), history)
    for owner, items in history.items():
        expected = evaluate(items, rules)  # the de-duplicated set, in no particular order
        record = store.get(*owner)
        if expected is None:
            assert record is None
            continue
        assert record is not None
        assert record.active
        assert (record.reason, record.evidence) == (expected.reason, expected.evidence)
        assert len(store.history(*owner)) == 1, "suppressed once, however often it was re-evaluated"


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_beyond_the_bound_the_latest_evidence_decides_in_any_order(data: st.DataObject) -> None:
    """More transient bounces than are kept, one a day: the kept ones always fire the rule, and the
    record ends up in line with them however the history arrived."""
    n = data.draw(st.integers(min_value=EVIDENCE_KEPT + 1, max_value=EVIDENCE_KEPT + 20))
    history = {ANN: samples.bounces(0, [float(day) for day in range(n)])}
    rules = SuppressionRules()
    store = MemoryStore()
    svc = service(store, rules)
    for call in data.draw(samples.deliveries(history, max_calls=6)):
        assert svc.record_evidence(call) == set()

    assert_same_outcome(store, one_call(history, rules), [ANN])
    assert store.addresses[ANN].observed == set(history[ANN][-EVIDENCE_KEPT:])
    record = store.get(*ANN)
    assert record is not None
    assert [e.event_id for e in record.evidence] == [
        e.event_id for e in history[ANN][n - EVIDENCE_KEPT :][:5]
    ]
