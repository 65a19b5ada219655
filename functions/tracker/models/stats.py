"""Response models of the statistics (``GET /stats``) and the deliverability health
(``GET /stats/health``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tracker.domain.health import (
    BOUNCE_THRESHOLDS,
    COMPLAINT_THRESHOLDS,
    GMAIL_COMPLAINT_LINE,
    Health,
    HealthState,
    ReasonCount,
    WindowHealth,
)
from tracker.domain.stats import Granularity, Metric, StatsRates, StatsReport


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class StatsCounts(_Model):
    """Recipients per metric, each counted once, at the time it happened (docs/stats.md)."""

    sent: int = Field(description="SES accepted the message for the recipient.")
    delivered: int = Field(description="The recipient's server accepted it.")
    bounced_hard: int = Field(description="Permanent bounces.")
    bounced_soft: int = Field(description="Transient or undetermined bounces only.")
    complaint: int = Field(description="Marked as spam.")
    dropped: int = Field(description="Not sent: a suppressed address (ours or SES's).")
    opened: int = Field(description="The customer opened or clicked (first open per recipient).")
    clicked: int = Field(description="The customer clicked (first click per recipient).")
    machine_opened: int = Field(description="Opened only by machines (privacy proxies, prefetchers).")

    @classmethod
    def of(cls, counts: Mapping[str, int]) -> StatsCounts:
        return cls(**{metric.value: int(counts.get(metric, 0)) for metric in Metric})


class StatsRatesOut(_Model):
    """Fractions 0 to 1 (null when the denominator is 0): delivery, bounce and complaint rates
    against `sent`; open, click and automatic-open rates against `delivered`."""

    delivery_rate: float | None
    open_rate: float | None
    click_rate: float | None
    bounce_rate: float | None
    hard_bounce_rate: float | None
    complaint_rate: float | None
    machine_open_rate: float | None

    @classmethod
    def of(cls, rates: StatsRates) -> StatsRatesOut:
        return cls(**{name: getattr(rates, name) for name in cls.model_fields})


class StatsBucket(_Model):
    start: datetime = Field(description="The bucket's start (UTC hour or day).")
    counts: StatsCounts


class StatsResponse(_Model):
    since: datetime
    until: datetime
    granularity: Literal["hour", "day"]
    kind: Literal["email", "invoice", "receipt"] | None
    series: list[StatsBucket]
    totals: StatsCounts
    rates: StatsRatesOut

    @classmethod
    def of(cls, report: StatsReport) -> StatsResponse:
        return cls(
            since=report.since,
            until=report.until,
            granularity="hour" if report.granularity is Granularity.HOUR else "day",
            kind=report.kind,
            series=[StatsBucket(start=p.start, counts=StatsCounts.of(p.counts)) for p in report.series],
            totals=StatsCounts.of(report.totals),
            rates=StatsRatesOut.of(report.rates),
        )


State = Literal["ok", "warning", "at_risk"]


class ThresholdsOut(_Model):
    bounce_warning: float = Field(description="SES puts the account under review (5%).")
    bounce_at_risk: float = Field(description="SES may pause the account's sending (10%).")
    complaint_warning: float = Field(description="SES review (0.1%).")
    complaint_at_risk: float = Field(description="SES may pause sending (0.5%).")
    complaint_gmail: float = Field(description="Gmail's bulk-sender spam line (0.3%).")


THRESHOLDS = ThresholdsOut(
    bounce_warning=BOUNCE_THRESHOLDS.warning,
    bounce_at_risk=BOUNCE_THRESHOLDS.at_risk,
    complaint_warning=COMPLAINT_THRESHOLDS.warning,
    complaint_at_risk=COMPLAINT_THRESHOLDS.at_risk,
    complaint_gmail=GMAIL_COMPLAINT_LINE,
)


def _state(state: HealthState) -> State:
    return state.value


class HealthWindowOut(_Model):
    days: int
    sent: int = Field(description="Recipients SES accepted in the window: the rates' denominator.")
    bounced: int
    complaints: int
    bounce_rate: float | None
    complaint_rate: float | None
    bounce_state: State
    complaint_state: State
    above_gmail_line: bool = Field(description="The complaint rate is at or above Gmail's 0.3%.")
    state: State

    @classmethod
    def of(cls, window: WindowHealth) -> HealthWindowOut:
        return cls(
            days=window.days,
            sent=window.sent,
            bounced=window.bounced,
            complaints=window.complaints,
            bounce_rate=window.bounce_rate,
            complaint_rate=window.complaint_rate,
            bounce_state=_state(window.bounce_state),
            complaint_state=_state(window.complaint_state),
            above_gmail_line=window.above_gmail_line,
            state=_state(window.state),
        )


class ReasonCountOut(_Model):
    code: str = Field(description="The reason's stable code (docs/reasons.md).")
    count: int
    summary: str

    @classmethod
    def of(cls, reason: ReasonCount) -> ReasonCountOut:
        return cls(code=reason.code, count=reason.count, summary=reason.summary)


class HealthResponse(_Model):
    state: State = Field(description="The worst state of every rate and window.")
    windows: list[HealthWindowOut]
    thresholds: ThresholdsOut
    top_reasons: list[ReasonCountOut] = Field(description="Bounce and complaint reasons of the last 30 days.")

    @classmethod
    def of(cls, result: Health) -> HealthResponse:
        return cls(
            state=_state(result.state),
            windows=[HealthWindowOut.of(w) for w in result.windows],
            thresholds=THRESHOLDS,
            top_reasons=[ReasonCountOut.of(r) for r in result.reasons],
        )
