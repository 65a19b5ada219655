"""Deliverability health: a tenant's bounce and complaint rates against SES's review thresholds.

SES reviews an account at a 5% bounce rate and may pause its sending at 10%; for complaints at
0.1% and 0.5%. Gmail's bulk-sender rules draw a line at 0.3% spam complaints. SES measures both
rates against the sending volume, so here a window's rate is bounces (or complaints) of messages
sent in the window divided by the recipients sent to in the window, all by event time from the
hourly statistics (tracker.domain.stats; docs/stats.md). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from tracker.domain.reasons import CATALOGUE
from tracker.domain.stats import REASON_PREFIX, Metric


class HealthState(StrEnum):
    OK = "ok"
    WARNING = "warning"
    AT_RISK = "at_risk"


_ORDER = (HealthState.OK, HealthState.WARNING, HealthState.AT_RISK)


@dataclass(frozen=True)
class Thresholds:
    warning: float
    at_risk: float

    def state(self, rate: float | None) -> HealthState:
        if rate is None or rate < self.warning:
            return HealthState.OK
        return HealthState.AT_RISK if rate >= self.at_risk else HealthState.WARNING


BOUNCE_THRESHOLDS = Thresholds(warning=0.05, at_risk=0.10)
COMPLAINT_THRESHOLDS = Thresholds(warning=0.001, at_risk=0.005)
GMAIL_COMPLAINT_LINE = 0.003
HEALTH_WINDOWS_DAYS = (7, 30)
TOP_REASONS = 5


def worst(*states: HealthState) -> HealthState:
    return max(states, key=_ORDER.index, default=HealthState.OK)


@dataclass(frozen=True)
class WindowHealth:
    days: int
    sent: int
    bounced: int
    complaints: int
    bounce_rate: float | None
    complaint_rate: float | None
    bounce_state: HealthState
    complaint_state: HealthState

    @property
    def state(self) -> HealthState:
        return worst(self.bounce_state, self.complaint_state)

    @property
    def above_gmail_line(self) -> bool:
        return self.complaint_rate is not None and self.complaint_rate >= GMAIL_COMPLAINT_LINE


def window_health(days: int, totals: Mapping[str, int]) -> WindowHealth:
    sent = totals.get(Metric.SENT, 0)
    bounced = totals.get(Metric.BOUNCED_HARD, 0) + totals.get(Metric.BOUNCED_SOFT, 0)
    complaints = totals.get(Metric.COMPLAINT, 0)
    bounce_rate = bounced / sent if sent else None
    complaint_rate = complaints / sent if sent else None
    return WindowHealth(
        days=days,
        sent=sent,
        bounced=bounced,
        complaints=complaints,
        bounce_rate=bounce_rate,
        complaint_rate=complaint_rate,
        bounce_state=BOUNCE_THRESHOLDS.state(bounce_rate),
        complaint_state=COMPLAINT_THRESHOLDS.state(complaint_rate),
    )


@dataclass(frozen=True)
class ReasonCount:
    code: str
    count: int
    summary: str


def top_reasons(totals: Mapping[str, int], limit: int = TOP_REASONS) -> tuple[ReasonCount, ...]:
    """The most frequent bounce and complaint reasons (tracker.domain.reasons codes)."""
    counted = [
        (name.removeprefix(REASON_PREFIX), n)
        for name, n in totals.items()
        if name.startswith(REASON_PREFIX) and n > 0
    ]
    counted.sort(key=lambda item: (-item[1], item[0]))
    found = []
    for code, n in counted[:limit]:
        entry = CATALOGUE.get(code)
        found.append(ReasonCount(code, n, entry.summary if entry is not None else code))
    return tuple(found)


@dataclass(frozen=True)
class Health:
    windows: tuple[WindowHealth, ...]
    reasons: tuple[ReasonCount, ...]

    @property
    def state(self) -> HealthState:
        return worst(*(window.state for window in self.windows))


def health(totals_by_days: Mapping[int, Mapping[str, int]]) -> Health:
    """The health of each window (days -> its totals); reasons over the longest window."""
    windows = tuple(window_health(days, totals_by_days[days]) for days in sorted(totals_by_days))
    longest = totals_by_days[max(totals_by_days)] if totals_by_days else {}
    return Health(windows=windows, reasons=top_reasons(longest))
