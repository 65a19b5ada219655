"""A thread pool made on first use and kept for the life of the process.

In a Lambda container the pool outlives the invocation, so a warm function starts no threads:
starting a pool's threads for every batch cost the ingest ~6 ms of a batch's ~130 ms CPU (bench
section 3), more than the projector's statistics updates themselves. One item runs on the
caller's thread (a retried batch, a send in time order, a test). Its threads keep
``ThreadPoolExecutor``'s own name prefix (``ThreadPoolExecutor-<name>_<n>``), by which the bench's
meter tells requests issued side by side from sequential ones (bench/counting.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


class LazyPool:
    def __init__(self, workers: int, name: str) -> None:
        self._workers = max(1, workers)
        self._name = name
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    self._workers, thread_name_prefix=f"ThreadPoolExecutor-{self._name}"
                )
            return self._pool

    def map(self, function: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``function`` of each item, in order; an item's exception is raised here."""
        if len(items) <= 1:
            return [function(item) for item in items]
        return list(self._executor().map(function, items))
