"""The recipient state model: precedence, per-kind facts, and order/duplicate independence."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.domain.events import EventKind, RecipientEvent
from tracker.domain.facts import RecipientFacts
from tracker.domain.status import Status

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def event(kind: EventKind, minute: int, salt: str = "", **details: object) -> RecipientEvent:
    event_id = hashlib.sha256(f"{kind}{minute}{salt}{sorted(details.items())}".encode()).hexdigest()[:16]
    return RecipientEvent(
        event_id=event_id,
        kind=kind,
        at=T0 + timedelta(minutes=minute),
        ses_message_id="ses-1",
        email="a@example.com",
        mail_sent_at=T0,
        details=details,
    )


def bounce(
    minute: int,
    subtype: str = "General",
    bounce_type: str = "Permanent",
    diagnostic: str = "smtp; 550 5.1.1 user unknown",
) -> RecipientEvent:
    return event(
        EventKind.BOUNCE, minute, bounce_type=bounce_type, bounce_subtype=subtype, diagnostic_code=diagnostic
    )


def test_fresh_recipient_is_queued_and_send_outcomes_stand_alone() -> None:
    assert RecipientFacts().status is Status.QUEUED
    assert RecipientFacts(send_outcome=Status.DROPPED).status is Status.DROPPED
    assert RecipientFacts(send_outcome=Status.DROPPED).apply(event(EventKind.SEND, 0)).status is Status.SENT


def test_precedence_complaint_over_bounce_over_click_over_open_over_delivery() -> None:
    facts = RecipientFacts().apply_all([event(EventKind.SEND, 0), event(EventKind.DELIVERY, 1)])
    assert facts.status is Status.DELIVERED
    facts = facts.apply(event(EventKind.OPEN, 2))
    assert facts.status is Status.OPENED
    facts = facts.apply(event(EventKind.CLICK, 3))
    assert facts.status is Status.CLICKED
    facts = facts.apply(bounce(4))
    assert facts.status is Status.BOUNCED
    facts = facts.apply(event(EventKind.COMPLAINT, 5, feedback_type="abuse"))
    assert facts.status is Status.COMPLAINT


def test_delay_then_delivery_shows_delivered_and_delay_alone_shows_delayed() -> None:
    delayed = RecipientFacts().apply_all([event(EventKind.SEND, 0), event(EventKind.DELIVERY_DELAY, 1)])
    assert delayed.status is Status.DELAYED
    assert delayed.apply(event(EventKind.DELIVERY, 2)).status is Status.DELIVERED


def test_open_without_delivery_counts_as_opened() -> None:
    assert RecipientFacts().apply(event(EventKind.OPEN, 1)).status is Status.OPENED


def test_click_implies_opened_even_without_an_open_event() -> None:
    facts = RecipientFacts().apply(event(EventKind.CLICK, 1, link="https://example.com"))
    assert facts.status is Status.CLICKED
    assert facts.click_count == 1


def test_late_bounce_after_delivery_shows_bounced_with_the_diagnostic_as_reason() -> None:
    facts = RecipientFacts().apply_all(
        [event(EventKind.DELIVERY, 1), bounce(30, diagnostic="smtp; 552 mailbox full")]
    )
    assert facts.status is Status.BOUNCED
    assert facts.bounce_reason == "smtp; 552 mailbox full"


def test_bounce_reason_falls_back_to_type_and_subtype() -> None:
    facts = RecipientFacts().apply(bounce(1, subtype="MailboxFull", bounce_type="Transient", diagnostic=""))
    assert facts.bounce_reason == "Transient / MailboxFull"
    assert facts.transient_bounces == 1
    assert facts.permanent_bounces == 0


def test_on_account_suppression_list_bounce_shows_dropped() -> None:
    facts = RecipientFacts().apply_all(
        [event(EventKind.SEND, 0), bounce(1, subtype="OnAccountSuppressionList")]
    )
    assert facts.status is Status.DROPPED
    assert facts.bounce is None


def test_redelivered_open_is_not_a_second_open_but_a_distinct_open_is() -> None:
    first = event(EventKind.OPEN, 5, ip_address="192.0.2.1")
    facts = RecipientFacts().apply_all([first, first, first])
    assert facts.open_count == 1
    facts = facts.apply(event(EventKind.OPEN, 9, ip_address="192.0.2.1"))
    assert facts.open_count == 2
    assert facts.first_opened_at == T0 + timedelta(minutes=5)
    assert facts.last_opened_at == T0 + timedelta(minutes=9)


def test_reject_and_rendering_failure_are_send_failures() -> None:
    assert RecipientFacts().apply(event(EventKind.REJECT, 0, reason="Bad content")).status is Status.REJECTED
    failed = RecipientFacts().apply(event(EventKind.RENDERING_FAILURE, 0, error_message="missing var"))
    assert failed.status is Status.FAILED


def test_applying_a_seen_event_returns_the_same_object() -> None:
    once = RecipientFacts().apply(event(EventKind.DELIVERY, 1))
    assert once.apply(event(EventKind.DELIVERY, 1)) is once


# --- order and duplicate independence --------------------------------------------

KINDS = list(EventKind)

event_strategy = st.builds(
    lambda kind, minute, salt, subtype: (
        bounce(minute, subtype=subtype) if kind is EventKind.BOUNCE else event(kind, minute, salt)
    ),
    st.sampled_from(KINDS),
    st.integers(min_value=0, max_value=600),
    st.sampled_from(["", "a", "b"]),
    st.sampled_from(["General", "NoEmail", "OnAccountSuppressionList"]),
)


@settings(max_examples=400, deadline=None)  # behaviour, not timing: no flake on a busy CI machine
@given(
    events=st.lists(event_strategy, min_size=0, max_size=25),
    data=st.data(),
)
def test_any_order_and_duplication_gives_the_state_of_the_deduplicated_set_in_time_order(
    events: list[RecipientEvent], data: st.DataObject
) -> None:
    duplicated = events + data.draw(st.lists(st.sampled_from(events), max_size=10) if events else st.just([]))
    shuffled = data.draw(st.permutations(duplicated))
    unique = {e.event_id: e for e in events}.values()
    in_time_order = sorted(unique, key=lambda e: (e.at, e.event_id))
    assert RecipientFacts().apply_all(shuffled) == RecipientFacts().apply_all(in_time_order)
