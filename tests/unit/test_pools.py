"""The process-lived pool of the ingest's commits and the projector's statistics."""

from __future__ import annotations

import threading

import pytest

from bench.counting import POOL_THREAD_PREFIX
from tracker.logic.pools import LazyPool


def test_one_item_runs_on_the_callers_thread_and_starts_no_pool() -> None:
    pool = LazyPool(4, "test")
    assert pool.map(lambda _: threading.current_thread().name, ["only"]) == [threading.current_thread().name]
    assert pool._pool is None


def test_many_items_keep_their_order_and_reuse_the_same_threads() -> None:
    pool = LazyPool(3, "test")
    assert pool.map(lambda n: n * n, range(20)) == [n * n for n in range(20)]
    first = pool._pool
    names = set(pool.map(lambda _: threading.current_thread().name, range(30)))

    assert pool._pool is first
    assert 1 <= len(names) <= 3
    # The bench's meter counts the requests of such threads as issued side by side.
    assert all(name.startswith(POOL_THREAD_PREFIX + "test") for name in names)


def test_an_items_error_reaches_the_caller() -> None:
    def fail_on_two(n: int) -> int:
        if n == 2:
            raise ValueError(n)
        return n

    with pytest.raises(ValueError, match="2"):
        LazyPool(2, "test").map(fail_on_two, [1, 2, 3])
