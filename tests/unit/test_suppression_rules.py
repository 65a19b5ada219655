"""Suppression rules and the service's exactness, on an in-memory store (fast, no emulator).

The property test feeds the same bounce/complaint events in any order, with duplicates, in any
batch cuts through the ingest observer hook, and checks that the outcome is what the rules say for
the de-duplicated set: suppressed or not, with the same reason and evidence, never a double count.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.domain.errors import ConflictError, NotFoundError
from tracker.domain.events import EventKind, RecipientEvent
from tracker.domain.facts import RecipientFacts
from tracker.domain.records import LogEntry, RecipientKey, StoredRecipient
from tracker.domain.suppression import (
    Decision,
    Evidence,
    EvidenceKind,
    HistoryEntry,
    SuppressionRecord,
    SuppressionRules,
    SuppressionState,
    evaluate,
)
from tracker.logic.suppression import SuppressionService

T0 = datetime(2026, 1, 1, tzinfo=UTC)
EMAIL = "ann@example.com"


class MemoryStore:
    """logic.suppression.SuppressionStore in memory, with the same versioning contract."""

    def __init__(self) -> None:
        self.evidence: dict[tuple[str, str], dict[str, Evidence]] = {}
        self.records: dict[tuple[str, str], SuppressionRecord] = {}
        self.history_entries: dict[tuple[str, str], list[HistoryEntry]] = {}
        self.writes = 0

    def add_evidence(self, tenant_id: str, email: str, evidence: Sequence[Evidence]) -> None:
        for item in evidence:
            self.evidence.setdefault((tenant_id, email), {})[item.event_id] = item

    def load_evidence(self, tenant_id: str, email: str, since: datetime | None) -> list[Evidence]:
        items = self.evidence.get((tenant_id, email), {}).values()
        return [e for e in items if since is None or e.at >= since]

    def get(self, tenant_id: str, email: str) -> SuppressionRecord | None:
        return self.records.get((tenant_id, email))

    def get_many(self, tenant_id: str, emails: Collection[str]) -> dict[str, SuppressionRecord]:
        return {e: r for e in emails if (r := self.records.get((tenant_id, e))) is not None}

    def _check(self, key: tuple[str, str], previous: SuppressionRecord | None) -> None:
        current = self.records.get(key)
        if (current.version if current else None) != (previous.version if previous else None):
            raise ConflictError([key])

    def suppress(
        self, tenant_id: str, email: str, decision: Decision, at: datetime, previous: SuppressionRecord | None
    ) -> None:
        key = (tenant_id, email)
        self._check(key, previous)
        self.writes += 1
        version = (previous.version or 0) + 1 if previous else 1
        if previous is not None and previous.active:
            self.records[key] = replace(
                previous, reason=decision.reason, evidence=decision.evidence, version=version
            )
            return
        self.records[key] = SuppressionRecord(
            tenant_id, email, SuppressionState.ACTIVE, decision.reason, at, decision.evidence,
            counts_from=previous.counts_from if previous else None, version=version,
        )  # fmt: skip
        self.history_entries.setdefault(key, []).append(
            HistoryEntry("suppressed", at, "system", decision.reason, decision.evidence)
        )

    def lift(self, record: SuppressionRecord, actor: str, at: datetime) -> SuppressionRecord:
        key = (record.tenant_id, record.email)
        self._check(key, record)
        lifted = replace(
            record,
            state=SuppressionState.LIFTED,
            lifted_at=at,
            lifted_by=actor,
            counts_from=at,
            version=(record.version or 0) + 1,
        )
        self.records[key] = lifted
        self.history_entries.setdefault(key, []).append(HistoryEntry("lifted", at, actor, record.reason))
        return lifted

    def list_page(
        self, tenant_id: str, state: SuppressionState, limit: int, position: Mapping[str, Any] | None
    ) -> tuple[list[SuppressionRecord], dict[str, Any] | None]:
        records = [r for (t, _), r in sorted(self.records.items()) if t == tenant_id and r.state is state]
        return records[:limit], None

    def history(self, tenant_id: str, email: str) -> list[HistoryEntry]:
        return list(self.history_entries.get((tenant_id, email), []))


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


def entry(event: RecipientEvent, tenant_id: str = "tenant-a") -> LogEntry:
    key = RecipientKey(tenant_id, f"m-{event.event_id}", "r0000")
    return LogEntry(StoredRecipient(key, event.email, RecipientFacts(), version=1), event)


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


# --- the service -----------------------------------------------------------------------------------


def service(store: MemoryStore, rules: SuppressionRules | None = None) -> SuppressionService:
    return SuppressionService(store, rules, clock=lambda: T0 + timedelta(days=1000))


def test_the_observer_only_wants_bounces_and_complaints() -> None:
    assert SuppressionService.interested(bounce("b", T0))
    assert SuppressionService.interested(complaint("c", T0))
    opened = replace(bounce("o", T0), kind=EventKind.OPEN)
    assert not SuppressionService.interested(opened)


def test_undetermined_bounces_count_as_transient() -> None:
    store = MemoryStore()
    svc = service(store)
    svc.observe([entry(bounce(f"u{i}", T0 + timedelta(days=i), "Undetermined")) for i in range(5)])
    record = store.get("tenant-a", EMAIL)
    assert record is not None
    assert record.reason == "5 transient bounces within 30 days"


def test_suppressions_belong_to_one_tenant() -> None:
    store = MemoryStore()
    svc = service(store)
    svc.observe([entry(complaint("c1", T0), tenant_id="tenant-a")])
    assert svc.active_reasons("tenant-a", ["ANN@example.com"]) == {EMAIL: "1 complaint"}
    assert svc.active_reasons("tenant-b", [EMAIL]) == {}


def test_lifting_is_audited_and_restarts_the_count() -> None:
    store = MemoryStore()
    svc = service(store)
    svc.observe([entry(bounce("p1", T0)), entry(bounce("p2", T0 + timedelta(days=1)))])
    lifted = svc.lift("tenant-a", "Ann@Example.com", "owner-1")
    assert lifted.state is SuppressionState.LIFTED
    assert lifted.lifted_by == "owner-1"
    assert svc.active_reasons("tenant-a", [EMAIL]) == {}
    # The old bounces redelivered: they predate the lift and do not count again.
    svc.observe([entry(bounce("p1", T0)), entry(bounce("p2", T0 + timedelta(days=1)))])
    assert svc.active_reasons("tenant-a", [EMAIL]) == {}
    record, history = svc.get("tenant-a", EMAIL)
    assert record.state is SuppressionState.LIFTED
    assert [h.action for h in history] == ["suppressed", "lifted"]
    with pytest.raises(NotFoundError):
        svc.lift("tenant-a", EMAIL, "owner-1")
    # New bounces after the lift suppress it again.
    later = T0 + timedelta(days=1001)
    svc.observe([entry(bounce("p3", later)), entry(bounce("p4", later + timedelta(hours=1)))])
    assert svc.active_reasons("tenant-a", [EMAIL]) == {EMAIL: "2 permanent bounces"}
    assert [h.action for h in store.history("tenant-a", EMAIL)] == ["suppressed", "lifted", "suppressed"]


def test_lifting_an_address_that_is_not_suppressed_is_not_found() -> None:
    with pytest.raises(NotFoundError):
        service(MemoryStore()).lift("tenant-a", EMAIL, "owner-1")


# --- the property: any order, any duplicates, any batching --------------------------------------

EVENT_KINDS = st.sampled_from(["permanent", "transient", "complaint"])


@st.composite
def histories(draw: st.DrawFn) -> list[RecipientEvent]:
    n = draw(st.integers(min_value=0, max_value=9))
    events = []
    for i in range(n):
        kind = draw(EVENT_KINDS)
        at = T0 + timedelta(days=draw(st.integers(min_value=0, max_value=90)), minutes=i)
        if kind == "complaint":
            events.append(complaint(f"e{i}", at))
        else:
            events.append(bounce(f"e{i}", at, "Permanent" if kind == "permanent" else "Transient"))
    return events


@st.composite
def deliveries(draw: st.DrawFn, events: list[RecipientEvent]) -> list[list[RecipientEvent]]:
    """Every event at least once, some several times, shuffled, cut into batches."""
    copies = [e for e in events for _ in range(draw(st.integers(min_value=1, max_value=3)))]
    shuffled = draw(st.permutations(copies))
    cuts = sorted(draw(st.lists(st.integers(min_value=0, max_value=len(shuffled)), max_size=4)))
    bounds = [0, *cuts, len(shuffled)]
    return [list(shuffled[a:b]) for a, b in itertools.pairwise(bounds) if b > a]


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_the_outcome_depends_only_on_the_set_of_events(data: st.DataObject) -> None:
    events = data.draw(histories())
    rules = SuppressionRules(
        permanent_bounces=data.draw(st.integers(min_value=1, max_value=3)),
        complaints=data.draw(st.integers(min_value=0, max_value=2)),
        transient_bounces=data.draw(st.integers(min_value=1, max_value=5)),
        transient_window=timedelta(days=data.draw(st.integers(min_value=1, max_value=45))),
    )
    store = MemoryStore()
    svc = service(store, rules)
    for batch in data.draw(deliveries(events)):
        svc.observe([entry(e) for e in batch])

    distinct = {e.event_id for e in events}
    assert set(store.evidence.get(("tenant-a", EMAIL), {})) == distinct, "each event recorded exactly once"
    expected = evaluate(
        [Evidence(e.event_id, kind_of(e), e.at) for e in events], rules
    )  # the de-duplicated set, in no particular order
    record = store.get("tenant-a", EMAIL)
    if expected is None:
        assert record is None
        return
    assert record is not None
    assert record.active
    assert record.reason == expected.reason
    assert [e.event_id for e in record.evidence] == [e.event_id for e in expected.evidence]
    assert len(store.history("tenant-a", EMAIL)) == 1, "suppressed once, however often it was re-evaluated"


def kind_of(event: RecipientEvent) -> EvidenceKind:
    if event.kind is EventKind.COMPLAINT:
        return EvidenceKind.COMPLAINT
    if event.details.get("bounce_type") == "Permanent":
        return EvidenceKind.PERMANENT_BOUNCE
    return EvidenceKind.TRANSIENT_BOUNCE
