"""Backoff between attempts: exponential, capped, with jitter, and a sleep that tests can replace."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


def jittered_delay(attempt: int, base_seconds: float, cap_seconds: float) -> float:
    """Seconds to wait before attempt ``attempt + 1``: ``base * 2**attempt`` capped at ``cap``, of
    which half is fixed and half random ("equal jitter"), so concurrent retriers spread out but
    none retries at once."""
    ceiling = min(cap_seconds, base_seconds * 2.0**attempt)
    return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not cryptography


@dataclass(frozen=True)
class Backoff:
    base_seconds: float = 0.05
    cap_seconds: float = 1.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def delay(self, attempt: int) -> float:
        return jittered_delay(attempt, self.base_seconds, self.cap_seconds)

    def wait(self, attempt: int) -> None:
        """Sleep before retrying after the failed attempt ``attempt`` (0 = the first one)."""
        self.sleep(self.delay(attempt))
