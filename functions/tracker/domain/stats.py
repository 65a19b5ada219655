"""Sending statistics over time: what each recipient contributes to its tenant's hourly counts.

Statistics are a projection of the recipients, like the message counts (docs/stats.md): a
recipient's facts say what happened to it and when, and ``stat_marks`` turns them into a set of
(hour, kind, metric) marks, each metric at most once per recipient, at the time of the event that
settles it. A change of one recipient moves the tenant's hourly counts by its marks after minus
its marks before, so a late or reordered event moves a count from one hour to another exactly
and a duplicate changes nothing (the facts do not change). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from tracker.domain.events import EventKind
from tracker.domain.facts import SES_SUPPRESSION_SUBTYPE, RecipientFacts
from tracker.domain.status import Status


class Metric(StrEnum):
    """What the statistics count, per recipient (at most once each) at the time it happened."""

    SENT = "sent"  # SES accepted it (its Send event; any event's mail timestamp)
    DELIVERED = "delivered"  # its Delivery (an open or click without one implies it)
    BOUNCED_HARD = "bounced_hard"  # a permanent bounce (at the first bounce)
    BOUNCED_SOFT = "bounced_soft"  # only transient or undetermined bounces
    COMPLAINT = "complaint"  # marked as spam (at the first complaint)
    DROPPED = "dropped"  # never sent: suppressed by us (at creation) or by SES
    OPENED = "opened"  # the customer opened or clicked (at the first such open or click)
    CLICKED = "clicked"  # the customer clicked (at the first such click)
    MACHINE_OPENED = "machine_opened"  # only automatic opens (privacy proxies, prefetchers)


METRICS: tuple[Metric, ...] = tuple(Metric)
# A reason code is counted beside the metrics as "reason:<code>" (bounces and complaints only).
REASON_PREFIX = "reason:"


@dataclass(frozen=True, order=True)
class StatMark:
    hour: datetime  # the start of the UTC hour
    kind: str  # the message's kind
    metric: str  # a Metric, or REASON_PREFIX + a reason code


def hour_of(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def day_of(at: datetime) -> datetime:
    return hour_of(at).replace(hour=0)


def _earliest(*times: datetime | None) -> datetime | None:
    present = [t for t in times if t is not None]
    return min(present) if present else None


def _outcome_times(facts: RecipientFacts, kind: EventKind) -> list[datetime]:
    return [entry.at for entry in facts.timeline if entry.kind is kind]


def _bounces(facts: RecipientFacts) -> list[tuple[datetime, bool]]:
    """The kept bounces but SES's own suppression (a drop): (time, permanent)."""
    found = []
    for entry in facts.timeline:
        if entry.kind is EventKind.BOUNCE:
            bounce_type, _, subtype = entry.info.partition("/")
            if subtype != SES_SUPPRESSION_SUBTYPE:
                found.append((entry.at, bounce_type == "Permanent"))
    return found


def _engagement_times(facts: RecipientFacts) -> dict[str, datetime]:
    """The first customer open (or click), first customer click and first automatic open. Opens
    and clicks beyond the timeline's kept ones count by their intrinsic verdict with no time of
    their own: such a recipient (more than 20 of them) is placed at its last open or click."""
    human_open = human_click = machine_open = None
    for item in facts.verdicts:
        at = item.fetch.at
        if item.verdict.is_human:
            human_open = _earliest(human_open, at)
            if item.fetch.kind == "click":
                human_click = _earliest(human_click, at)
        elif item.fetch.kind == "open":
            machine_open = _earliest(machine_open, at)
    counts = facts.engagement_counts
    times: dict[str, datetime] = {}
    if counts.human_opens or counts.human_clicks:
        opened = human_open or _earliest(facts.last_opened_at, facts.last_clicked_at)
        if opened is not None:
            times[Metric.OPENED] = opened
        if counts.human_clicks and (clicked := human_click or facts.last_clicked_at) is not None:
            times[Metric.CLICKED] = clicked
    elif counts.machine_opens and (machine := machine_open or facts.first_opened_at) is not None:
        times[Metric.MACHINE_OPENED] = machine
    return times


def stat_times(facts: RecipientFacts, created_at: datetime | None) -> dict[str, datetime]:
    """When each metric (and reason code) happened to this recipient; absent: it did not."""
    times: dict[str, datetime] = {}
    sent = _earliest(facts.sent_at, facts.mail_sent_at)
    if sent is not None:
        times[Metric.SENT] = sent
    delivered = facts.delivered_at or _earliest(facts.first_opened_at, facts.first_clicked_at)
    if delivered is not None:
        times[Metric.DELIVERED] = delivered
    bounces = _bounces(facts)
    if bounces:
        first = min(at for at, _ in bounces)
        hard = any(permanent for _, permanent in bounces)
        times[Metric.BOUNCED_HARD if hard else Metric.BOUNCED_SOFT] = first
    complaint = _earliest(
        *_outcome_times(facts, EventKind.COMPLAINT), facts.complaint.at if facts.complaint else None
    )
    if complaint is not None:
        times[Metric.COMPLAINT] = complaint
    status = facts.status
    if status is Status.DROPPED:
        dropped = facts.ses_suppressed_at or created_at
        if dropped is not None:
            times[Metric.DROPPED] = dropped
    times.update(_engagement_times(facts))
    if status in (Status.BOUNCED, Status.COMPLAINT):
        # Imported here: the sender writes recipients (their marks) and never needs the catalogue
        # but for a bounced or complained one (tests/unit/test_handler_imports.py).
        from tracker.domain.reasons.records import recipient_reason

        reason = recipient_reason(status, facts)
        at = times.get(Metric.COMPLAINT if status is Status.COMPLAINT else _bounce_metric(times))
        if reason is not None and at is not None:
            times[REASON_PREFIX + reason.code] = at
    return times


def _bounce_metric(times: Mapping[str, datetime]) -> str:
    return Metric.BOUNCED_HARD if Metric.BOUNCED_HARD in times else Metric.BOUNCED_SOFT


def stat_marks(facts: RecipientFacts, kind: str, created_at: datetime | None) -> frozenset[StatMark]:
    """What this recipient counts under in its tenant's hourly statistics."""
    return frozenset(
        StatMark(hour_of(at), kind, metric) for metric, at in stat_times(facts, created_at).items()
    )


def marks_delta(before: Iterable[StatMark], after: Iterable[StatMark]) -> dict[StatMark, int]:
    """How one recipient's change moves the counts: -1 for each mark it left, +1 for each new one."""
    old, new = set(before), set(after)
    return {**dict.fromkeys(old - new, -1), **dict.fromkeys(new - old, 1)}


# --- windows, totals and rates ----------------------------------------------------------------


@dataclass(frozen=True)
class StatsRates:
    """Rates of a window, all against what was sent in it but the engagement ones (against what
    was delivered), as SES measures its reputation (docs/stats.md)."""

    delivery_rate: float | None
    open_rate: float | None
    click_rate: float | None
    bounce_rate: float | None
    hard_bounce_rate: float | None
    complaint_rate: float | None
    machine_open_rate: float | None


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator > 0 else None


def window_rates(totals: Mapping[str, int]) -> StatsRates:
    sent = totals.get(Metric.SENT, 0)
    delivered = totals.get(Metric.DELIVERED, 0)
    bounced = totals.get(Metric.BOUNCED_HARD, 0) + totals.get(Metric.BOUNCED_SOFT, 0)
    return StatsRates(
        delivery_rate=_ratio(delivered, sent),
        open_rate=_ratio(totals.get(Metric.OPENED, 0), delivered),
        click_rate=_ratio(totals.get(Metric.CLICKED, 0), delivered),
        bounce_rate=_ratio(bounced, sent),
        hard_bounce_rate=_ratio(totals.get(Metric.BOUNCED_HARD, 0), sent),
        complaint_rate=_ratio(totals.get(Metric.COMPLAINT, 0), sent),
        machine_open_rate=_ratio(totals.get(Metric.MACHINE_OPENED, 0), delivered),
    )


class Granularity(StrEnum):
    HOUR = "hour"
    DAY = "day"


# Hourly series are served for the last HOURLY_HORIZON; longer windows by day.
HOURLY_HORIZON = timedelta(hours=72)
MAX_WINDOW = timedelta(days=400)  # the recipients' retention: older statistics have no detail left


@dataclass(frozen=True)
class StatsPoint:
    start: datetime
    counts: Mapping[str, int]


@dataclass(frozen=True)
class StatsReport:
    since: datetime
    until: datetime
    granularity: Granularity
    kind: str | None
    series: tuple[StatsPoint, ...]
    totals: Mapping[str, int]
    rates: StatsRates


def bucket_starts(since: datetime, until: datetime, granularity: Granularity) -> list[datetime]:
    step = timedelta(hours=1) if granularity is Granularity.HOUR else timedelta(days=1)
    start = hour_of(since) if granularity is Granularity.HOUR else day_of(since)
    starts = []
    while start < until:
        starts.append(start)
        start += step
    return starts


def stats_report(
    hours: Mapping[datetime, Mapping[str, int]],
    since: datetime,
    until: datetime,
    granularity: Granularity,
    kind: str | None,
) -> StatsReport:
    """The series (every bucket of the window, zeros included), totals and rates from the hourly
    counts of one kind (or all kinds summed), keyed by metric."""
    starts = bucket_starts(since, until, granularity)
    per_bucket: dict[datetime, dict[str, int]] = {start: dict.fromkeys(METRICS, 0) for start in starts}
    totals: dict[str, int] = dict.fromkeys(METRICS, 0)
    for hour, counts in hours.items():
        if not hour_of(since) <= hour < until:
            continue
        start = hour if granularity is Granularity.HOUR else day_of(hour)
        bucket = per_bucket.get(start)
        if bucket is None:
            continue
        for metric in METRICS:
            n = counts.get(metric, 0)
            bucket[metric] += n
            totals[metric] += n
    return StatsReport(
        since=since,
        until=until,
        granularity=granularity,
        kind=kind,
        series=tuple(StatsPoint(start, per_bucket[start]) for start in starts),
        totals=totals,
        rates=window_rates(totals),
    )
