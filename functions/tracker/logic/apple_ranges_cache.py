"""The ingest path's copy of Apple's ranges: the refreshed list from the store, loaded on first use.

Only a bare ``Mozilla/5.0`` agent makes the classifier look an address up in Apple's ranges, so
the stored list is read on the first such event of a container, not at cold start (most batches
never need it). It is kept for the container and read again after ``reload_after``, so a container
that lives for days picks up the daily refresh. When no stored list can be loaded (none yet,
unreadable, corrupt) the classifier uses the list it had, or else the shipped snapshot, with a
warning; it tries the store again after ``retry_after``, not on every event.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from tracker.domain.engagement import AppleRanges, default_apple_ranges
from tracker.domain.errors import ReferenceDataError
from tracker.logic.ports import AppleRangesReader

logger = logging.getLogger(__name__)

DEFAULT_RETRY_AFTER = timedelta(minutes=10)


class StoredAppleRanges:
    """An ``AddressSet`` for the classifier (``parse_record_body(body, apple_ranges=...)``)."""

    def __init__(
        self,
        reader: AppleRangesReader,
        *,
        reload_after: timedelta,
        retry_after: timedelta = DEFAULT_RETRY_AFTER,
        fallback: Callable[[], AppleRanges] = default_apple_ranges,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._reader = reader
        self._reload_after = reload_after.total_seconds()
        self._retry_after = retry_after.total_seconds()
        self._fallback = fallback
        self._clock = clock
        self._lock = threading.Lock()
        self._ranges: AppleRanges | None = None
        self._stored = False  # whether _ranges came from the store
        self._due = 0.0  # when to read the store next (clock seconds)

    def __contains__(self, address: object) -> bool:
        return address in self.current()

    @property
    def from_store(self) -> bool:
        """Whether the ranges in use are the stored (refreshed) list, not the snapshot."""
        return self._stored

    def current(self) -> AppleRanges:
        with self._lock:
            now = self._clock()
            if self._ranges is None or now >= self._due:
                self._load(now)
            assert self._ranges is not None
            return self._ranges

    def _load(self, now: float) -> None:
        problem: str | None = None
        try:
            blob = self._reader.read()
            if blob is None:
                problem = "no stored list yet"
            else:
                self._ranges, self._stored = AppleRanges.from_compact(blob), True
        except ReferenceDataError as error:
            problem = f"the stored list cannot be read: {error}"
        except ValueError as error:
            problem = f"the stored list is corrupt: {error}"
        if problem is None:
            self._due = now + self._reload_after
            return
        if self._ranges is None:
            self._ranges = self._fallback()
        self._due = now + self._retry_after
        logger.warning(
            "Apple's ranges: %s; classifying with %s",
            problem,
            "the list loaded before" if self._stored else "the shipped snapshot",
        )
