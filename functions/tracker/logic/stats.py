"""The statistics' reads: a tenant's series, totals and rates over a window, and its
deliverability health (tracker.domain.stats, tracker.domain.health), from the hourly items the
projector keeps. ``now`` is the injected clock's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Protocol

from tracker.domain.errors import InvalidRequestError
from tracker.domain.health import HEALTH_WINDOWS_DAYS, Health, HealthState, health
from tracker.domain.stats import (
    HOURLY_HORIZON,
    MAX_WINDOW,
    Granularity,
    StatsReport,
    day_of,
    hour_of,
    stats_report,
)

DEFAULT_DAYS = 30


class StatsReader(Protocol):
    def hours(
        self, tenant_id: str, since: datetime, until: datetime, kind: str | None = None
    ) -> dict[datetime, dict[str, int]]:
        """The tenant's hourly counts (metric -> count, one kind or all kinds summed) of the hours
        starting in [hour of ``since``, ``until``); hours with nothing are absent."""
        ...


# Told each tenant's health when it is computed and not ok (the per-tenant metric).
HealthObserver = Callable[[str, Health], None]


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


class StatsQueries:
    def __init__(
        self,
        reader: StatsReader,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        observer: HealthObserver | None = None,
    ) -> None:
        self._reader = reader
        self._clock = clock
        self._observer = observer

    def report(
        self,
        tenant_id: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        kind: str | None = None,
        granularity: Granularity = Granularity.DAY,
    ) -> StatsReport:
        now = self._clock()
        end = _utc(until) if until is not None else now
        if since is not None:
            start = _utc(since)
        elif granularity is Granularity.HOUR:
            start = hour_of(end) - HOURLY_HORIZON + timedelta(hours=1)
        else:
            start = day_of(end) - timedelta(days=DEFAULT_DAYS - 1)
        if start >= end:
            raise InvalidRequestError("`from` must be before `to`", field="from")
        if granularity is Granularity.HOUR and hour_of(start) < hour_of(now) - HOURLY_HORIZON:
            raise InvalidRequestError(
                f"hourly series cover the last {int(HOURLY_HORIZON.total_seconds() // 3600)} hours; "
                "use granularity=day",
                field="granularity",
            )
        if end - start > MAX_WINDOW:
            raise InvalidRequestError(f"a window is at most {MAX_WINDOW.days} days", field="from")
        hours = self._reader.hours(tenant_id, start, end, kind)
        return stats_report(hours, start, end, granularity, kind)

    def health(self, tenant_id: str) -> Health:
        now = self._clock()
        longest = max(HEALTH_WINDOWS_DAYS)
        hours = self._reader.hours(tenant_id, now - timedelta(days=longest), now)
        totals: dict[int, Mapping[str, int]] = {}
        for days in HEALTH_WINDOWS_DAYS:
            first = hour_of(now - timedelta(days=days))
            summed: dict[str, int] = {}
            for hour, counts in hours.items():
                if hour >= first:
                    for name, n in counts.items():
                        summed[name] = summed.get(name, 0) + n
            totals[days] = summed
        result = health(totals)
        if self._observer is not None and result.state is not HealthState.OK:
            self._observer(tenant_id, result)
        return result
