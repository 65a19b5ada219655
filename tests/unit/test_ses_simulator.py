"""Local mode's SES simulator: its fetch labels produce the machine opens and clicks a real inbox
sees, judged as the ingest path judges them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from local.ses_simulator import SIMULATOR_DOMAIN, mail_object, simulated_events
from tests import ses_builders as b
from tracker.domain.facts import RecipientFacts
from tracker.domain.status import Status
from tracker.models.ses.parsing import parse_record_body

SENT_AT = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def facts_of(address: str) -> RecipientFacts:
    """The simulator's events for ``address``, through the real parser, applied in order."""
    events = []
    for event_type, key, body in simulated_events(address, SENT_AT):
        mail = mail_object("ses-1", "noreply@example.com", address, "hello", {}, SENT_AT)
        ses_event = {"eventType": event_type, "mail": mail, key: body}
        events += parse_record_body(b.sns_body(ses_event))
    return RecipientFacts().apply_all(sorted(events, key=lambda e: (e.at, e.event_id)))


@pytest.mark.parametrize(
    ("label", "status", "tallies"),
    [
        ("", Status.DELIVERED, {"delivered"}),
        ("mpp", Status.DELIVERED, {"delivered", "machine_opened"}),
        ("scanner", Status.DELIVERED, {"delivered", "machine_opened", "machine_clicked"}),
        ("gmail", Status.OPENED, {"opened"}),
        ("anything-else", Status.DELIVERED, {"delivered"}),
    ],
)
def test_success_labels_add_the_fetches_of_a_real_inbox(
    label: str, status: Status, tallies: set[str]
) -> None:
    address = f"success{'+' + label if label else ''}@{SIMULATOR_DOMAIN}"
    facts = facts_of(address)
    assert facts.status == status
    assert set(facts.tallies) == tallies


def test_a_scanner_clicks_seconds_after_delivery_and_apple_opens_at_once() -> None:
    (_, _, delivered), (_, _, clicked) = simulated_events(f"success+scanner@{SIMULATOR_DOMAIN}", SENT_AT)[1:]
    (_, _, opened) = simulated_events(f"success+mpp@{SIMULATOR_DOMAIN}", SENT_AT)[2]
    at = datetime.fromisoformat(delivered["timestamp"])
    assert datetime.fromisoformat(clicked["timestamp"]) - at == timedelta(seconds=5)
    assert datetime.fromisoformat(opened["timestamp"]) - at == timedelta(seconds=1)
