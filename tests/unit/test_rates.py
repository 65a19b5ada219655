from __future__ import annotations

import pytest

from tracker.domain.status import Status, compute_rates


def test_rates_follow_the_product_definitions() -> None:
    counts = {
        Status.DELIVERED: 4,
        Status.OPENED: 3,
        Status.CLICKED: 1,
        Status.COMPLAINT: 2,
        Status.BOUNCED: 1,
        Status.DROPPED: 1,
        Status.SENT: 2,
        Status.QUEUED: 1,
    }
    rates = compute_rates(counts)
    assert rates.recipients == 15
    assert rates.pending == 3
    assert rates.delivery_rate == pytest.approx(10 / 15)  # delivered, opened, clicked, complaint
    assert rates.open_rate == pytest.approx(4 / 10)  # opened + clicked over delivered
    assert rates.click_rate == pytest.approx(1 / 10)
    assert rates.bounce_rate == pytest.approx(1 / 14)  # dropped recipients are not bounce candidates
    assert rates.complaint_rate == pytest.approx(2 / 10)


def test_rates_are_none_when_their_denominator_is_zero() -> None:
    rates = compute_rates({Status.QUEUED: 3})
    assert rates.delivery_rate == 0
    assert rates.open_rate is None
    assert rates.click_rate is None
    assert rates.complaint_rate is None
    assert rates.bounce_rate == 0
    empty = compute_rates({})
    assert empty.recipients == 0
    assert empty.delivery_rate is None
    assert empty.bounce_rate is None


def test_all_dropped_message_has_no_bounce_rate() -> None:
    assert compute_rates({Status.DROPPED: 2}).bounce_rate is None
