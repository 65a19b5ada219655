"""What a recipient counts under in its tenant's hourly statistics (tracker.domain.stats), the
projector's guard of the hour items (tracker.logic.stats_projection) and the health states
(tracker.domain.health)."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import engagement_samples as samples
from tracker.domain.engagement import classify_fetch
from tracker.domain.errors import TransientStoreError
from tracker.domain.events import EventKind, RecipientEvent
from tracker.domain.facts import FETCH_CLASS_DETAIL, RecipientFacts
from tracker.domain.health import HealthState, health, window_health
from tracker.domain.records import RecipientKey
from tracker.domain.stats import REASON_PREFIX, Metric, hour_of, stat_marks, stat_times
from tracker.domain.status import Status
from tracker.logic.projector import ProjectionReport, RecipientImage, RecipientStreamChange, sequence_key
from tracker.logic.stats_projection import project_stats

T0 = datetime(2026, 11, 1, 12, 10, tzinfo=UTC)
CREATED = T0 - timedelta(minutes=1)


def event(
    kind: EventKind, minutes: float, who: samples.Sample | None = None, **details: Any
) -> RecipientEvent:
    if who is not None:
        fetch = "open" if kind is EventKind.OPEN else "click"
        details = {
            "user_agent": who.user_agent,
            "ip_address": who.ip_address,
            FETCH_CLASS_DETAIL: classify_fetch(fetch, who.user_agent, who.ip_address).code,
            **details,
        }
    identity = hashlib.sha256(f"{kind}|{minutes}|{details}".encode()).hexdigest()
    at = T0 + timedelta(minutes=minutes)
    return RecipientEvent(identity, kind, at, "ses-1", "a@example.com", T0, details=details)


def times(*events: RecipientEvent, outcome: Status = Status.QUEUED) -> dict[str, datetime]:
    return stat_times(RecipientFacts(send_outcome=outcome).apply_all(events), CREATED)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_a_delivered_recipient_who_opens_and_clicks() -> None:
    found = times(
        event(EventKind.SEND, 0),
        event(EventKind.DELIVERY, 1),
        event(EventKind.OPEN, 90, samples.IOS_MAIL),
        event(EventKind.CLICK, 95, samples.CHROME_WINDOWS, link="https://example.com/a"),
    )
    assert found == {
        Metric.SENT: at(0),
        Metric.DELIVERED: at(1),
        Metric.OPENED: at(90),
        Metric.CLICKED: at(95),
    }


def test_an_open_without_delivery_implies_it_until_the_delivery_arrives_days_later() -> None:
    opened = [event(EventKind.SEND, 0), event(EventKind.OPEN, 60, samples.IOS_MAIL)]
    assert times(*opened)[Metric.DELIVERED] == at(60)
    assert times(*opened, event(EventKind.DELIVERY, 2))[Metric.DELIVERED] == at(2)


def test_automatic_opens_only_count_as_machine_opened_and_a_customer_open_replaces_them() -> None:
    proxy = [
        event(EventKind.SEND, 0),
        event(EventKind.DELIVERY, 1),
        event(EventKind.OPEN, 3, samples.APPLE_MPP),
    ]
    found = times(*proxy)
    assert found[Metric.MACHINE_OPENED] == at(3)
    assert Metric.OPENED not in found
    later = times(*proxy, event(EventKind.OPEN, 600, samples.IOS_MAIL))
    assert later[Metric.OPENED] == at(600)
    assert Metric.MACHINE_OPENED not in later


def test_bounces_hard_soft_and_ses_suppression() -> None:
    soft = event(EventKind.BOUNCE, 5, bounce_type="Transient", bounce_subtype="MailboxFull")
    hard = event(EventKind.BOUNCE, 50, bounce_type="Permanent", bounce_subtype="General")
    assert Metric.BOUNCED_SOFT in times(event(EventKind.SEND, 0), soft)
    both = times(event(EventKind.SEND, 0), soft, hard)
    assert both[Metric.BOUNCED_HARD] == at(5)  # the first bounce, counted hard
    assert Metric.BOUNCED_SOFT not in both
    assert any(name.startswith(REASON_PREFIX) for name in both)
    suppressed = event(
        EventKind.BOUNCE, 1, bounce_type="Permanent", bounce_subtype="OnAccountSuppressionList"
    )
    dropped = times(suppressed)
    assert dropped[Metric.DROPPED] == at(1)
    assert not {Metric.BOUNCED_HARD, Metric.BOUNCED_SOFT} & set(dropped)


def test_a_recipient_we_dropped_counts_at_its_messages_creation() -> None:
    assert times(outcome=Status.DROPPED) == {Metric.DROPPED: CREATED}
    assert times(outcome=Status.QUEUED) == {}


def test_a_complaint_counts_at_the_first_one_with_its_reason() -> None:
    found = times(
        event(EventKind.SEND, 0),
        event(EventKind.DELIVERY, 1),
        event(EventKind.COMPLAINT, 300, feedback_type="abuse"),
        event(EventKind.COMPLAINT, 30, feedback_type="abuse"),
    )
    assert found[Metric.COMPLAINT] == at(30)
    assert [n for n in found if n.startswith(REASON_PREFIX)]


def test_marks_are_hours_with_the_kind() -> None:
    marks = stat_marks(RecipientFacts().apply_all([event(EventKind.SEND, 0)]), "invoice", CREATED)
    assert {(m.hour, m.kind, m.metric) for m in marks} == {(hour_of(T0), "invoice", "sent")}


# --- the guard ------------------------------------------------------------------------------------


class MemoryStatsStore:
    """Hour items with per-shard marks, as tracker.dal.stats keeps them."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, datetime], dict[tuple[str, str], int]] = {}
        self.marks: dict[tuple[str, datetime, str], str] = {}
        self.writes: list[tuple[str, datetime]] = []

    def add_stats(
        self, tenant_id: str, hour: datetime, shard: str, first: str, last: str, delta: Any
    ) -> str | None:
        mark = self.marks.get((tenant_id, hour, shard))
        if mark is not None and mark >= first:
            return mark
        item = self.counts.setdefault((tenant_id, hour), {})
        for key, n in delta.items():
            item[key] = item.get(key, 0) + n
        self.marks[(tenant_id, hour, shard)] = last
        self.writes.append((tenant_id, hour))
        return None


def change(
    sequence: int, before: list[RecipientEvent] | None, after: list[RecipientEvent]
) -> RecipientStreamChange:
    def image(events: list[RecipientEvent]) -> RecipientImage:
        facts = RecipientFacts().apply_all(events)
        return RecipientImage("a@example.com", facts.tallies, stats=stat_marks(facts, "email", CREATED))

    return RecipientStreamChange(
        shard="s1",
        sequence=str(sequence),
        key=RecipientKey("t1", "m1", f"r{sequence % 3}"),
        before=image(before) if before is not None else None,
        after=image(after),
    )


def test_each_hour_item_is_written_once_per_batch_and_a_replayed_batch_counts_nothing_twice() -> None:
    send, delivery = event(EventKind.SEND, 0), event(EventKind.DELIVERY, 70)
    changes = [change(i, [], [send]) for i in range(1, 4)] + [change(4, [send], [send, delivery])]
    store = MemoryStatsStore()
    report = ProjectionReport()
    project_stats(store, changes, report)
    assert sorted(store.writes) == sorted([("t1", hour_of(at(0))), ("t1", hour_of(at(70)))])
    assert report.stats_buckets == 2
    before = {k: dict(v) for k, v in store.counts.items()}
    project_stats(store, changes, ProjectionReport())  # the same batch again (a retry)
    project_stats(store, changes[2:], ProjectionReport())  # re-cut from the middle
    assert store.counts == before
    assert store.counts[("t1", hour_of(at(0)))] == {("email", "sent"): 3}
    assert store.counts[("t1", hour_of(at(70)))] == {("email", "delivered"): 1}


class FlakyStatsStore(MemoryStatsStore):
    """Fails some hour items' updates (a throttled or timed-out request, nothing written) and
    notes how many updates were in flight at once."""

    def __init__(self, failing: set[datetime], pause: float = 0.0) -> None:
        super().__init__()
        self.failing = set(failing)
        self.pause = pause
        self._lock = threading.Lock()
        self._in_flight = 0
        self.most_in_flight = 0

    def add_stats(
        self, tenant_id: str, hour: datetime, shard: str, first: str, last: str, delta: Any
    ) -> str | None:
        with self._lock:
            self._in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self._in_flight)
        try:
            time.sleep(self.pause)
            with self._lock:
                if hour in self.failing:
                    self.failing.discard(hour)  # the next attempt goes through
                    raise TransientStoreError("throttled")
                return super().add_stats(tenant_id, hour, shard, first, last, delta)
        finally:
            with self._lock:
                self._in_flight -= 1


def delivered_after(minutes: float) -> RecipientFacts:
    return RecipientFacts(send_outcome=Status.QUEUED).apply_all([event(EventKind.DELIVERY, minutes)])


def spread_changes(hours: int) -> list[RecipientStreamChange]:
    """One recipient's delivery per hour (all sent in the first), as a batch of events spread over
    days brings them."""
    return [
        RecipientStreamChange(
            shard="s1",
            sequence=str(i + 1),
            key=RecipientKey("t1", "m1", f"r{i}"),
            before=None,
            after=RecipientImage(
                "a@example.com",
                frozenset(),
                stats=stat_marks(delivered_after(60 * i), "email", CREATED),
            ),
        )
        for i in range(hours)
    ]


def test_a_batch_moving_many_hour_items_updates_them_side_by_side() -> None:
    store = FlakyStatsStore(set(), pause=0.02)
    report = ProjectionReport()
    project_stats(store, spread_changes(24), report)

    assert report.stats_buckets == 24
    assert not report.failed_sequences
    assert store.most_in_flight > 1
    assert len(store.writes) == 24


@settings(max_examples=60, deadline=None)
@given(hours=st.integers(1, 30), failing=st.sets(st.integers(0, 29)))
def test_hour_items_failing_in_a_batch_are_counted_once_when_it_restarts_where_the_report_says(
    hours: int, failing: set[int]
) -> None:
    changes = spread_changes(hours)
    store = FlakyStatsStore({hour_of(at(60 * i)) for i in failing if i < hours})
    pending = changes
    for _ in range(hours + 1):
        report = ProjectionReport()
        project_stats(store, pending, report)
        restart = report.retry_from
        if restart is None:
            break
        # Lambda hands the batch again from the record the partial batch response names.
        pending = [c for c in changes if c.ordering >= sequence_key(restart)]
    assert report.retry_from is None
    expected = {("t1", hour_of(at(60 * i))): {("email", "delivered"): 1} for i in range(hours)}
    expected[("t1", hour_of(T0))][("email", "sent")] = hours
    assert store.counts == expected


# --- health -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bounced", "complaints", "state"),
    [
        (0, 0, "ok"),
        (49, 0, "ok"),
        (50, 0, "warning"),
        (99, 0, "warning"),
        (100, 0, "at_risk"),
        (0, 1, "warning"),
        (0, 5, "at_risk"),
    ],
)
def test_window_states_at_ses_thresholds(bounced: int, complaints: int, state: str) -> None:
    window = window_health(7, {"sent": 1000, "bounced_hard": bounced, "complaint": complaints})
    assert window.state == HealthState(state)


def test_the_tenants_state_is_the_worst_window_and_reasons_are_counted() -> None:
    result = health(
        {
            7: {"sent": 100, "bounced_hard": 11, f"{REASON_PREFIX}mailbox_does_not_exist": 11},
            30: {"sent": 400, "bounced_hard": 11, f"{REASON_PREFIX}mailbox_does_not_exist": 11},
        }
    )
    assert [w.state for w in result.windows] == [HealthState.AT_RISK, HealthState.OK]
    assert result.state is HealthState.AT_RISK
    assert [(r.code, r.count) for r in result.reasons] == [("mailbox_does_not_exist", 11)]
