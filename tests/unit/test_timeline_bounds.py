"""A recipient's item stays bounded however many distinct events hostile input gives it: the
timeline keeps a bounded number of bounces, complaints, rejects and failures too (the latest ones,
which are all the suppression evidence can use), the same whatever the order they came in."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from random import Random

from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.dal.recipients import facts_to_json
from tracker.domain.events import EventKind, RecipientEvent
from tracker.domain.facts import RecipientFacts
from tracker.domain.timeline import (
    ALWAYS_KEPT,
    HEAD,
    LINK_TAGS,
    LINKS,
    MAX_ENTRIES,
    MAX_INFO,
    OUTCOMES_KEPT,
    TimelineEntry,
    entry_of,
    kept,
    link_id,
    tags_of,
)

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
OUTCOME_KINDS = sorted(ALWAYS_KEPT)


def outcome(number: int, kind: EventKind = EventKind.BOUNCE) -> RecipientEvent:
    """A distinct outcome event with the longest info a timeline entry keeps."""
    long = "S" * 200
    details = {
        EventKind.BOUNCE: {"bounce_type": "Transient", "bounce_subtype": long},
        EventKind.COMPLAINT: {"feedback_type": long},
        EventKind.REJECT: {"reason": long},
        EventKind.RENDERING_FAILURE: {"error_message": long},
    }[kind]
    return RecipientEvent(
        event_id=hashlib.sha256(f"{kind}-{number}".encode()).hexdigest()[:12],
        kind=kind,
        at=T0 + timedelta(seconds=number),
        ses_message_id="ses-1",
        email="a@example.com",
        mail_sent_at=T0,
        details=details,
    )


def stored_bytes(facts: RecipientFacts) -> int:
    return len(json.dumps(facts_to_json(facts), separators=(",", ":")).encode("utf-8"))


def test_thousands_of_distinct_outcomes_keep_the_stored_facts_small() -> None:
    events = [outcome(n, OUTCOME_KINDS[n % len(OUTCOME_KINDS)]) for n in range(5000)]
    facts = RecipientFacts().apply_all(events)
    assert facts.applied == 5000
    assert len(facts.timeline) <= MAX_ENTRIES
    assert all(len(entry.info) <= MAX_INFO for entry in facts.timeline)
    assert stored_bytes(facts) < 32_000  # DynamoDB's item limit is 400 KB


def test_the_latest_outcomes_are_kept_where_suppression_evidence_is_read() -> None:
    events = [outcome(n) for n in range(OUTCOMES_KEPT * 3)]
    facts = RecipientFacts().apply_all(events)
    kept_ids = {entry.event_id for entry in facts.timeline}
    assert {e.event_id for e in events[-OUTCOMES_KEPT:]} <= kept_ids
    assert {e.event_id for e in events[:HEAD]} <= kept_ids  # the first ones, as for every kind


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 400), min_size=1, max_size=150, unique=True).flatmap(
        lambda numbers: st.tuples(st.just(numbers), st.permutations(numbers))
    )
)
def test_what_is_kept_is_the_same_in_any_order(orders: tuple[list[int], list[int]]) -> None:
    numbers, shuffled = orders
    entries = [entry_of(outcome(n, OUTCOME_KINDS[n % len(OUTCOME_KINDS)])) for n in numbers]
    by_number = dict(zip(numbers, entries, strict=True))
    incremental: tuple[TimelineEntry, ...] = ()
    for n in shuffled:
        incremental = kept((*incremental, by_number[n]))
    assert incremental == kept(entries)


def click(number: int, link: str, link_tags: object) -> RecipientEvent:
    return RecipientEvent(
        event_id=hashlib.sha256(f"click-{number}".encode()).hexdigest()[:12],
        kind=EventKind.CLICK,
        at=T0 + timedelta(minutes=number),
        ses_message_id="ses-1",
        email="a@example.com",
        mail_sent_at=T0,
        details={"link": link, "link_tags": link_tags, "user_agent": "Mozilla/5.0"},
    )


TAG_SETS = st.dictionaries(
    st.text("ab_-:@.", min_size=0, max_size=3),
    st.lists(st.text("xy@", max_size=70), max_size=4),
    max_size=6,
)
SES_TAG = re.compile(r"[A-Za-z0-9_-]{1,64}")


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, LINKS + 3), TAG_SETS), min_size=1, max_size=25), st.randoms())
def test_a_links_tags_are_the_union_over_its_clicks_bounded_in_any_order(
    clicks: list[tuple[int, dict[str, list[str]]]], rnd: Random
) -> None:
    events = [click(n, f"https://acme.example/l{link}", tags) for n, (link, tags) in enumerate(clicks)]
    shuffled = events[:]
    rnd.shuffle(shuffled)
    facts = RecipientFacts().apply_all(events)
    assert RecipientFacts().apply_all(shuffled + events[:3]).link_tags == facts.link_tags
    assert set(facts.link_tags) <= set(facts.links)  # only links the recipient keeps
    for link, pairs in facts.link_tags.items():
        assert len(pairs) <= LINK_TAGS
        assert pairs == tuple(sorted(pairs))
        assert all(len(pair) <= 2 * 64 + 1 for pair in pairs)
        expected = {
            f"{name}:{value}"
            for event in events
            if link_id(str(event.details["link"])) == link
            for name, values in event.details["link_tags"].items()
            if SES_TAG.fullmatch(name)
            for value in values
            if SES_TAG.fullmatch(value)
        }
        assert set(pairs) <= expected
        assert len(pairs) == min(LINK_TAGS, len(expected))


def test_link_tags_that_ses_could_not_have_written_are_left_out() -> None:
    facts = RecipientFacts().apply_all([click(1, "https://acme.example/a", ["campaign:x"])])
    assert facts.link_tags == {}
    assert len(facts.links) == 1
    hostile = {"to": ["ada@example.com"], "x" * 65: ["y"], "campaign": ["launch", "a:b"]}
    facts = RecipientFacts().apply_all([click(2, "https://acme.example/a", hostile)])
    assert list(facts.link_tags.values()) == [("campaign:launch",)]
    assert tags_of(["placement:hero", "campaign:launch", "campaign:autumn"]) == {
        "campaign": ["autumn", "launch"],
        "placement": ["hero"],
    }
