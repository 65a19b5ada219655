"""The daily refresh of Apple's address ranges: download Apple's published list, refuse an
implausible one, store its compact form.

The stored list is only ever replaced by a list that parsed whole and holds at least
``min_prefixes`` prefixes, so a truncated or wrong download (an HTML error page, half a file)
never replaces a good one: the ingest path keeps classifying with the last good list, and the
failure is reported (the handler's metrics and alarms) instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tracker.domain.engagement import AppleRanges
from tracker.domain.errors import ReferenceDataError
from tracker.logic.ports import AppleRangesFeed, AppleRangesStore


class RefreshFailure(StrEnum):
    DOWNLOAD = "download"  # the list could not be fetched whole
    UNPARSEABLE = "unparseable"  # a line is not a network
    TOO_FEW_PREFIXES = "too_few_prefixes"  # parsed, but implausibly short
    STORE = "store"  # parsed and plausible, but not stored


@dataclass(frozen=True)
class RefreshResult:
    failure: RefreshFailure | None
    detail: str
    prefixes: int = 0  # of the downloaded list, when it parsed
    intervals: int = 0  # after merging
    stored_bytes: int = 0

    @property
    def refreshed(self) -> bool:
        return self.failure is None


@dataclass(frozen=True)
class AppleRangesRefresh:
    feed: AppleRangesFeed
    store: AppleRangesStore
    min_prefixes: int
    clock: Callable[[], datetime]

    def run(self) -> RefreshResult:
        try:
            text = self.feed.download()
        except ReferenceDataError as error:
            return RefreshResult(RefreshFailure.DOWNLOAD, str(error))
        try:
            ranges = AppleRanges.from_csv(text)
        except ValueError as error:
            return RefreshResult(RefreshFailure.UNPARSEABLE, f"the list is not Apple's format: {error}")
        if ranges.prefixes < self.min_prefixes:
            return RefreshResult(
                RefreshFailure.TOO_FEW_PREFIXES,
                f"{ranges.prefixes} prefixes, fewer than the minimum {self.min_prefixes}: "
                "a truncated or wrong list, not stored",
                prefixes=ranges.prefixes,
                intervals=len(ranges.table),
            )
        blob = ranges.to_compact()
        try:
            self.store.write(blob, refreshed_at=self.clock(), prefixes=ranges.prefixes)
        except ReferenceDataError as error:
            return RefreshResult(
                RefreshFailure.STORE, str(error), prefixes=ranges.prefixes, intervals=len(ranges.table)
            )
        return RefreshResult(
            None,
            f"stored {ranges.prefixes} prefixes ({len(ranges.table)} intervals, {len(blob)} bytes)",
            prefixes=ranges.prefixes,
            intervals=len(ranges.table),
            stored_bytes=len(blob),
        )
