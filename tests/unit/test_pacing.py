"""The pacer (tracker.logic.pacing) and SES's rate limiter in local mode, on a fake clock."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from local.ses_simulator import SendRateLimiter
from tracker.logic.pacing import Pacer, PaceShare


class FakeClock:
    """A clock that only moves when something sleeps (or the test moves it)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_calls_are_spaced_one_interval_apart() -> None:
    clock = FakeClock()
    pacer = Pacer(10.0, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(5):
        pacer.acquire()
        starts.append(clock.now)
    assert starts == pytest.approx([1000.0, 1000.1, 1000.2, 1000.3, 1000.4])


def test_idle_time_earns_at_most_the_burst() -> None:
    clock = FakeClock()
    pacer = Pacer(10.0, burst=3, clock=clock, sleep=clock.sleep)
    clock.now += 60  # a minute idle
    waits = [pacer.acquire() for _ in range(5)]
    assert waits[:3] == [0.0, 0.0, 0.0], "three start at once"
    assert waits[3] == pytest.approx(0.1)
    assert waits[4] == pytest.approx(0.1)


def test_reservations_from_several_threads_share_one_rate() -> None:
    """Each caller reserves the next slot under the lock and sleeps outside it: 20 callers that
    arrive together get 20 distinct slots, 1/rate apart."""
    clock = FakeClock()
    pacer = Pacer(4.0, clock=clock, sleep=clock.sleep)
    waits = [pacer.reserve() for _ in range(20)]  # all at the same instant, nobody slept yet
    assert waits == pytest.approx([i * 0.25 for i in range(20)])


def test_a_throttled_call_empties_the_bucket() -> None:
    clock = FakeClock()
    pacer = Pacer(10.0, burst=5, clock=clock, sleep=clock.sleep)
    clock.now += 10
    pacer.throttled()
    assert pacer.acquire() == pytest.approx(0.1), "no saved burst after SES said no"


def test_no_rate_never_waits_and_a_new_rate_applies_to_the_next_call() -> None:
    clock = FakeClock()
    pacer = Pacer(None, clock=clock, sleep=clock.sleep)
    assert [pacer.acquire() for _ in range(100)] == [0.0] * 100
    assert pacer.rate is None
    pacer.set_rate(2.0)
    pacer.acquire()
    assert pacer.acquire() == pytest.approx(0.5)
    assert pacer.rate == 2.0
    with pytest.raises(ValueError, match="positive"):
        pacer.set_rate(0)


def test_a_worker_takes_its_share_of_the_account_rate_and_a_tenth_of_a_second_of_burst() -> None:
    assert PaceShare(workers=4).per_worker(1000.0) == 250.0
    assert PaceShare(workers=4).burst(1000.0) == 25
    assert PaceShare(workers=2).per_worker(14.0) == 7.0
    assert PaceShare(workers=2).burst(14.0) == 1, "never less than one"
    with pytest.raises(ValueError, match="at least 1"):
        PaceShare(workers=0)


@given(
    rate=st.floats(min_value=0.5, max_value=5000),
    workers=st.integers(min_value=1, max_value=20),
    burst_seconds=st.sampled_from([0.0, 0.1, 0.5]),
    gaps=st.lists(st.floats(min_value=0, max_value=2), min_size=1, max_size=200),
)
def test_the_workers_together_never_exceed_the_account_rate_plus_their_bursts(
    rate: float, workers: int, burst_seconds: float, gaps: list[float]
) -> None:
    """N workers, each at rate/N with its own bucket, whatever the pauses between calls: in any
    window of T seconds at most rate x T + N x burst calls start (so SES's one second of burst
    absorbs them), which is what makes a shared counter unnecessary."""
    clock = FakeClock()
    share = PaceShare(workers=workers, burst_seconds=burst_seconds)
    burst = share.burst(rate)
    pacers = [Pacer(share.per_worker(rate), burst=burst, clock=clock) for _ in range(workers)]
    starts: list[float] = []
    for i, gap in enumerate(gaps):
        clock.now += gap
        starts.append(clock.now + pacers[i % workers].reserve())
    starts.sort()
    for i, first in enumerate(starts):
        window = 1.0
        inside = sum(1 for s in starts[i:] if s < first + window - 1e-9)
        assert inside <= rate * window + workers * burst + 1e-6


def test_ses_rate_limiter_refuses_above_the_rate_and_saves_one_second_of_burst() -> None:
    clock = FakeClock()
    limiter = SendRateLimiter(14.0, clock=clock)
    assert sum(limiter.take() for _ in range(20)) == 14, "a full bucket: one second's worth"
    assert not limiter.take()
    clock.now += 0.5
    assert sum(limiter.take() for _ in range(20)) == 7
    clock.now += 10
    assert not limiter.take(15), "a bulk call spends one token per destination"
    assert limiter.take(14)


def test_paced_workers_at_their_shares_are_never_refused() -> None:
    """Two workers at 7/s each (an account at 14/s, two senders), calls starting when their pacers
    say: SES's limiter refuses none of them."""
    clock = FakeClock()
    pacers = [Pacer(7.0, clock=clock) for _ in range(2)]
    starts = sorted(clock.now + pacer.reserve() for pacer in pacers for _ in range(500))
    limiter = SendRateLimiter(14.0, clock=clock)
    refused = 0
    for start in starts:
        clock.now = start
        refused += not limiter.take()
    assert refused == 0
    assert starts[-1] - starts[0] == pytest.approx(499 / 7)
