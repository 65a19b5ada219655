"""Erasure as data (tracker.domain.erasure): what an erased recipient keeps and loses, and that an
erasure in the middle of a recipient's events ends where an erasure after all of them does."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.test_facts import bounce, event
from tracker.domain.erasure import erase_facts, is_pseudonym, pseudonym, redact, same_address
from tracker.domain.events import EventKind, RecipientEvent
from tracker.domain.facts import RecipientFacts

ADDRESS = "ada@example.com"
PERSONAL = {
    EventKind.DELIVERY: {"smtp_response": f"250 ok <{ADDRESS}>", "reporting_mta": "mx.ada.example"},
    EventKind.OPEN: {"ip_address": "203.0.113.9", "user_agent": "Ada's phone", "fetch_class": "human"},
    EventKind.CLICK: {
        "link": f"https://studio.example/?to={ADDRESS}",
        "user_agent": "Ada's phone",
        "link_tags": {"customer": ["ada-lovelace"]},
    },
    EventKind.COMPLAINT: {"feedback_type": "abuse", "user_agent": "Ada's mail client"},
    EventKind.DELIVERY_DELAY: {"delay_type": "MailboxFull", "diagnostic_code": f"452 <{ADDRESS}> full"},
}


def events() -> list[RecipientEvent]:
    return [
        event(EventKind.SEND, 0),
        *(event(kind, minute, **details) for minute, (kind, details) in enumerate(PERSONAL.items(), 1)),
        bounce(9, diagnostic=f"smtp; 550 5.1.1 <{ADDRESS}>: no such user"),
    ]


def _text(facts: RecipientFacts) -> str:
    return repr(facts).lower()


def test_an_erased_recipient_keeps_status_tallies_and_events_and_loses_its_details() -> None:
    facts = RecipientFacts(send_outcome_reason=f"MessageRejected: {ADDRESS} not verified").apply_all(events())
    assert ADDRESS in _text(facts)
    assert "ada's mail client" in _text(facts)
    erased = erase_facts(facts, [ADDRESS])
    assert "ada-lovelace" in _text(facts)
    for needle in (ADDRESS, "ada's", "203.0.113.9", "mx.ada.example", "ada-lovelace"):
        assert needle not in _text(erased), needle
    assert (erased.status, erased.tallies, erased.timeline) == (facts.status, facts.tallies, facts.timeline)
    assert (erased.open_count, erased.click_count, erased.permanent_bounces) == (1, 1, 1)
    assert erased.bounce is not None
    assert erased.bounce.values == {
        "bounce_type": "Permanent",
        "bounce_subtype": "General",
    }
    assert erased.complaint is not None
    assert erased.complaint.values == {"feedback_type": "abuse"}
    assert erased.send_outcome_reason == "MessageRejected: [erased] not verified"
    assert erase_facts(erased, [ADDRESS]) == erased, "idempotent"


@settings(max_examples=60, deadline=None)
@given(st.permutations(events()), st.integers(0, len(events())))
def test_an_erasure_between_events_ends_where_an_erasure_after_them_does(
    order: list[RecipientEvent], cut: int
) -> None:
    """Every write of an erased recipient erases again (tracker.dal.recipients.write_facts): in
    whatever order the events come and wherever the erasure falls among them, the result is the
    erasure of all the events' facts, and its status and tallies are those of all the events."""
    everything = RecipientFacts().apply_all(order)
    middle = erase_facts(erase_facts(RecipientFacts().apply_all(order[:cut])).apply_all(order[cut:]))
    assert middle == erase_facts(everything)
    assert (middle.status, middle.tallies) == (everything.status, everything.tallies)


def test_the_pseudonym_is_per_tenant_and_spelling_blind_and_never_an_address() -> None:
    assert pseudonym("tenant-a", "Ada@Example.com ") == pseudonym("tenant-a", ADDRESS)
    assert pseudonym("tenant-b", ADDRESS) != pseudonym("tenant-a", ADDRESS)
    assert is_pseudonym(pseudonym("tenant-a", ADDRESS))
    assert "@" not in pseudonym("tenant-a", ADDRESS)
    assert same_address("tenant-a", pseudonym("tenant-a", ADDRESS), ADDRESS)
    assert not same_address("tenant-b", pseudonym("tenant-a", ADDRESS), ADDRESS)
    assert not same_address("tenant-a", pseudonym("tenant-a", ADDRESS), "grace@example.com")


def test_redaction_replaces_every_spelling_and_the_longest_match_first() -> None:
    text = "Dear Ada Lovelace (ADA@example.com), Ada"
    assert redact(text, ["Ada Lovelace", ADDRESS, "Ada"]) == "Dear [erased] ([erased]), [erased]"
    assert redact(None, [ADDRESS]) is None
    assert redact("nothing here", ["", " "]) == "nothing here"
