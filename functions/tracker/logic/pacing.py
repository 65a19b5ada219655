"""Pacing SES calls to the account's maximum send rate, shared by the concurrent senders.

SES accepts at most ``MaxSendRate`` messages per second per account and region (``GetAccount``,
``SendQuota.MaxSendRate``), allowing short bursts above it; past that it answers
``TooManyRequestsException`` ("Maximum sending rate exceeded"). The sender functions run as at
most N concurrent invocations (the send queue's event source mapping's maximum concurrency, a
context value), so each invocation paces itself to ``rate / N``: together they can never exceed
the rate, and no shared counter (a hot DynamoDB item, a round trip per send) is needed. When
fewer than N run, the sending is below the rate, never above; under a backlog Lambda runs all N.

The pacer is a token bucket in its "virtual scheduling" form (GCRA): it keeps the time the next
call may start, each call reserves one interval (``1 / rate``) under a lock and sleeps outside
it, so any number of threads of one worker share the worker's share. ``burst`` calls may start at
once after an idle spell (``PaceShare.burst_seconds`` of the share, at least one): together at
most N x burst calls above the rate at once, which SES's burst allowance absorbs. A throttled call empties the bucket, so the worker
slows down at once instead of adding calls while SES refuses them.

No AWS here: the rate comes from a ``SendRateSource`` (logic.ports), the clock and the sleep are
injected (tests use a fake clock).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PaceShare:
    """How one worker's share of the account's rate follows from the rate and the workers."""

    workers: int = 1  # concurrent sender invocations at most (the mapping's maximum concurrency)
    # Starts a worker may save while it has nothing to send (reading its next job, a job's last
    # calls finishing), as seconds of its share: without them every such gap is rate lost. All
    # workers together then exceed the rate by at most this long's worth at once (0.1 s), within
    # SES's burst allowance.
    burst_seconds: float = 0.1

    def __post_init__(self) -> None:
        if self.workers < 1 or self.burst_seconds < 0:
            raise ValueError("workers must be at least 1 and burst_seconds not negative")

    def per_worker(self, account_rate: float) -> float:
        return account_rate / self.workers

    def burst(self, account_rate: float) -> int:
        return max(1, int(self.per_worker(account_rate) * self.burst_seconds))


class Pacer:
    """A thread-safe token bucket: ``acquire()`` returns once a call may start at ``rate``/s.

    ``rate`` None: unpaced (acquire never waits)."""

    def __init__(
        self,
        rate: float | None,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self._burst = burst
        self._interval = 0.0
        self._next = clock()  # the earliest start of the next call, were the bucket empty
        self.set_rate(rate)

    @property
    def rate(self) -> float | None:
        return None if self._interval == 0.0 else 1.0 / self._interval

    def set_rate(self, rate: float | None, burst: int | None = None) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("a send rate must be positive")
        if burst is not None and burst < 1:
            raise ValueError("burst must be at least 1")
        with self._lock:
            self._interval = 0.0 if rate is None else 1.0 / rate
            self._burst = burst or self._burst

    def reserve(self) -> float:
        """Reserve the next start; returns the seconds to wait before it (0: now)."""
        with self._lock:
            if self._interval == 0.0:
                return 0.0
            now = self._clock()
            # Unused time earns at most ``burst`` starts: the start may not lie further back.
            start = max(self._next, now - (self._burst - 1) * self._interval)
            self._next = start + self._interval
            return max(0.0, start - now)

    def acquire(self) -> float:
        """Wait for the next start; returns the seconds waited."""
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
        return wait

    def throttled(self) -> None:
        """SES said the rate was exceeded: empty the bucket (the next start is one interval away
        at the earliest), so this worker backs off at once."""
        with self._lock:
            if self._interval:
                self._next = max(self._next, self._clock()) + self._interval
