"""A recipient keeps at most SEEN_LIMIT event ids; the store's markers hold the rest. Applied in any
order, duplicated, cut into any batches, the facts and counts are those of the distinct events."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.domain.events import EventKind, RecipientEvent
from tracker.domain.facts import SEEN_LIMIT, RecipientFacts
from tracker.domain.records import RecipientChange, RecipientKey, StoredRecipient
from tracker.domain.timeline import short_id
from tracker.logic.commits import ROUND_EVENTS, compute, rounds

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
KEY = RecipientKey("tenant-a", "m1", "r0")


def opened(number: int) -> RecipientEvent:
    return RecipientEvent(
        event_id=hashlib.sha256(f"open-{number}".encode()).hexdigest()[:16],
        kind=EventKind.OPEN,
        at=T0 + timedelta(seconds=number),
        ses_message_id="ses-1",
        email="a@example.com",
        mail_sent_at=T0,
    )


def stored(facts: RecipientFacts) -> StoredRecipient:
    return StoredRecipient(KEY, "a@example.com", facts, version=1)


def ingest(batches: Sequence[Sequence[RecipientEvent]]) -> tuple[RecipientFacts, set[str]]:
    """What the ingest path does, batch by batch: distinct ids per batch, markers looked up for
    the ids ``seen`` cannot vouch for, the change's markers written with it."""
    facts, markers = RecipientFacts(), set()
    for batch in batches:
        distinct = list({event.event_id: event for event in batch}.values())
        known = {short_id(e.event_id) for e in distinct if facts.needs_marker_lookup(e.event_id)} & markers
        change = compute(stored(facts), distinct, known).change
        if change is not None:
            assert not change.markers & markers, "a marker is never written twice"
            markers |= change.markers
            facts = change.after
    return facts, markers


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=150), min_size=1, max_size=260).flatmap(
        lambda numbers: st.tuples(
            st.just(numbers), st.permutations(numbers), st.lists(st.integers(1, 40), min_size=1, max_size=30)
        )
    )
)
def test_any_order_duplicates_and_batch_cuts_give_the_distinct_events_facts(
    drawn: tuple[list[int], list[int], list[int]],
) -> None:
    numbers, shuffled, cuts = drawn
    events = [opened(n) for n in shuffled]
    batches, start = [], 0
    for size in cuts * (len(events) // max(1, sum(cuts)) + 1):
        if start >= len(events):
            break
        batches.append(events[start : start + size])
        start += size
    facts, markers = ingest(batches)
    distinct = [opened(n) for n in sorted(set(numbers))]
    expected = RecipientFacts().apply_all(distinct)
    assert facts == expected
    assert facts.open_count == len(set(numbers))
    assert len(facts.seen) == min(SEEN_LIMIT, len(set(numbers)))
    assert facts.seen | markers == {short_id(e.event_id) for e in distinct}
    assert not facts.seen & markers


def test_seen_keeps_the_smallest_ids_so_a_smaller_unkept_id_is_known_to_be_new() -> None:
    facts = RecipientFacts().apply_all(opened(n) for n in range(SEEN_LIMIT + 10))
    kept = sorted(facts.seen)
    ids = sorted(short_id(opened(n).event_id) for n in range(SEEN_LIMIT + 10))
    assert kept == ids[:SEEN_LIMIT]
    assert not facts.needs_marker_lookup(kept[0])  # kept: a duplicate, no lookup
    assert facts.needs_marker_lookup(ids[-1])  # beyond the kept ones: only a marker can tell
    fresh = next(e for n in range(1000, 2000) if short_id((e := opened(n)).event_id) < kept[-1])
    assert not facts.needs_marker_lookup(fresh.event_id)  # sorts among the kept: certainly new


def test_a_change_marks_the_new_ids_left_out_and_the_kept_ones_it_pushed_out() -> None:
    full = RecipientFacts().apply_all(opened(n) for n in range(SEEN_LIMIT))
    newcomer = next(e for n in range(1000, 2000) if short_id((e := opened(n)).event_id) < max(full.seen))
    change = compute(stored(full), [newcomer], set()).change
    assert change is not None
    assert change.markers == {max(full.seen)}  # pushed out by a smaller id
    latecomer = next(e for n in range(2000, 3000) if short_id((e := opened(n)).event_id) > max(full.seen))
    change = compute(stored(full), [latecomer], set()).change
    assert change is not None
    assert change.markers == {short_id(latecomer.event_id)}  # left out


def test_many_events_of_one_recipient_go_in_rounds_that_fit_one_transaction_with_their_markers() -> None:
    events = [opened(n) for n in range(2 * ROUND_EVENTS + 5)]
    many = rounds(events)
    assert [len(r) for r in many] == [ROUND_EVENTS, ROUND_EVENTS, 5]
    assert [e for r in many for e in r] == events
    assert rounds(events[:3]) == [events[:3]]


def test_a_change_without_new_events_is_none() -> None:
    facts = RecipientFacts().apply(opened(1))
    result = compute(stored(facts), [opened(1)], set())
    assert (result.change, result.duplicates) == (None, 1)
    assert RecipientChange(stored(facts), facts).markers == frozenset()
