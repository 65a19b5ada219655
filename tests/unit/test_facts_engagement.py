"""A recipient's verdicts, engagement, status and tallies are a function of the set of its events:
any order, any duplication, with more opens and clicks than it keeps for the timing rules."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engagement_samples import ALL_SAMPLES
from tracker.domain.engagement import classify_fetch
from tracker.domain.events import EventKind, RecipientEvent
from tracker.domain.facts import FETCH_CLASS_DETAIL, RecipientFacts
from tracker.domain.timeline import FETCHES_KEPT

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def event(kind: EventKind, seconds: int, sample: int = 0, link: int = 0) -> RecipientEvent:
    details: dict[str, object] = {}
    if kind in (EventKind.OPEN, EventKind.CLICK):
        who = ALL_SAMPLES[sample % len(ALL_SAMPLES)]
        fetch = "open" if kind is EventKind.OPEN else "click"
        details = {
            "user_agent": who.user_agent,
            "ip_address": who.ip_address,
            FETCH_CLASS_DETAIL: classify_fetch(fetch, who.user_agent, who.ip_address).code,
        }
        if kind is EventKind.CLICK:
            details["link"] = f"https://example.com/{link}"
    identity = f"{kind}-{seconds}-{sample}-{link}"
    return RecipientEvent(
        event_id=hashlib.sha256(identity.encode()).hexdigest()[:16],
        kind=kind,
        at=T0 + timedelta(seconds=seconds),
        ses_message_id="ses-1",
        email="a@example.com",
        mail_sent_at=T0,
        details=details,
    )


engagement_events = st.builds(
    event,
    st.sampled_from([EventKind.OPEN, EventKind.OPEN, EventKind.CLICK]),
    st.integers(min_value=0, max_value=40),
    st.integers(min_value=0, max_value=len(ALL_SAMPLES) - 1),
    st.integers(min_value=0, max_value=3),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(engagement_events, min_size=0, max_size=FETCHES_KEPT + 20),
    st.one_of(st.none(), st.integers(min_value=0, max_value=20)),
    st.randoms(use_true_random=False),
)
def test_verdicts_and_counts_depend_on_the_set_of_events_only(
    events: list[RecipientEvent], delivered: int | None, rng: object
) -> None:
    history = [*events] + ([event(EventKind.DELIVERY, delivered)] if delivered is not None else [])
    distinct = sorted({e.event_id: e for e in history}.values(), key=lambda e: (e.at, e.event_id))
    expected = RecipientFacts().apply_all(distinct)
    shuffled = history + history[: len(history) // 2]  # duplicated
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    actual = RecipientFacts().apply_all(shuffled)
    assert actual == expected
    assert actual.verdicts == expected.verdicts
    assert actual.engagement_counts == expected.engagement_counts
    assert (actual.status, actual.tallies) == (expected.status, expected.tallies)
    counts = actual.engagement_counts
    opens = sum(1 for e in distinct if e.kind is EventKind.OPEN)
    clicks = sum(1 for e in distinct if e.kind is EventKind.CLICK)
    assert counts.human_opens + counts.machine_opens == opens == actual.open_count
    assert counts.human_clicks + counts.machine_clicks == clicks == actual.click_count
    assert len(actual.fetches) == min(FETCHES_KEPT, opens + clicks)
