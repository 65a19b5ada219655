"""The reason a recipient row or a timeline event shows, from the fields the tracker stores."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tracker.domain.events import EventKind
from tracker.domain.facts import Detail, RecipientFacts
from tracker.domain.reasons.records import event_reason, reason_of_code, recipient_reason
from tracker.domain.status import Status
from tracker.logic.outcomes import NOT_QUEUED_REASON, dropped_reason

AT = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def detail(**values: object) -> Detail:
    return Detail(at=AT, event_id="0123456789ab", values=values)


@pytest.mark.parametrize(
    ("status", "facts", "code"),
    [
        (
            Status.BOUNCED,
            RecipientFacts(
                bounce=detail(
                    bounce_type="Permanent", bounce_subtype="General", diagnostic_code="smtp; 550 5.1.1 no"
                )
            ),
            "mailbox_does_not_exist",
        ),
        (Status.COMPLAINT, RecipientFacts(complaint=detail(feedback_type="abuse")), "complaint_spam"),
        (Status.REJECTED, RecipientFacts(reject=detail(reason="Bad content")), "rejected_virus"),
        (
            Status.FAILED,
            RecipientFacts(send_outcome=Status.FAILED, send_outcome_reason=NOT_QUEUED_REASON),
            "not_queued",
        ),
    ],
)
def test_a_failed_recipient_gets_the_reason_of_its_outcome(
    status: Status, facts: RecipientFacts, code: str
) -> None:
    reason = recipient_reason(status, facts)
    assert reason is not None
    assert reason.code == code


def test_a_dropped_recipient_gets_a_suppression_reason_and_a_fine_one_none() -> None:
    dropped = RecipientFacts(send_outcome=Status.DROPPED, send_outcome_reason=dropped_reason("1 complaint"))
    reason = recipient_reason(Status.DROPPED, dropped)
    assert reason is not None
    assert reason.code.startswith("suppressed")
    for status in (Status.QUEUED, Status.SENT, Status.DELIVERED, Status.OPENED, Status.CLICKED):
        assert recipient_reason(status, RecipientFacts()) is None


def test_events_of_outcomes_have_a_reason_others_none() -> None:
    bounce = event_reason(EventKind.BOUNCE, {"bounce_type": "Transient", "bounce_subtype": "MailboxFull"})
    assert bounce is not None
    assert bounce.code == "mailbox_full"
    assert event_reason(EventKind.RENDERING_FAILURE, {}) is not None
    assert event_reason(EventKind.DELIVERY, {}) is None
    assert event_reason(EventKind.OPEN, {"fetch_class": "human"}) is None


def test_a_stored_code_gives_the_reason_again_and_an_unknown_one_none() -> None:
    again = reason_of_code("mailbox_does_not_exist", "smtp; 550 5.1.1 no")
    assert again is not None
    assert again.code == "mailbox_does_not_exist"
    assert reason_of_code("no_such_code", None) is None
    assert reason_of_code(None, "x") is None
