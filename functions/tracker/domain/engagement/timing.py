"""Final verdicts: the intrinsic class of each fetch, corrected by rules that look at time.

``final_verdicts`` is a pure function of the *set* of a recipient's fetches plus its delivery and
send times: fetches are de-duplicated and put in one canonical order (time, kind, code, link)
before anything is decided, so any arrival order and any duplication give the same answer. Only
the earliest ``max_timed_fetches`` of that order take part in the timing rules (scanners and
prefetchers act at delivery, so they are among the first); the rest keep their intrinsic verdict.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from tracker.domain.engagement.classes import (
    FETCH_ON_OPEN_PROXIES,
    Engagement,
    FetchKind,
    Verdict,
    fetch_class,
)
from tracker.domain.engagement.rules import DEFAULT_RULES, EngagementRules


@dataclass(frozen=True)
class Fetch:
    """One Open or Click as kept per recipient; canonical order is (at, kind, code, link, event id).

    ``event_id`` keeps two distinct SES events apart that happen to look alike (two opens in the
    same millisecond through the same proxy); a duplicate of one event has the same id."""

    at: datetime
    kind: FetchKind
    code: str
    link: str | None = None
    event_id: str = ""

    @classmethod
    def of(cls, value: Fetch | tuple[str, datetime, str, str | None]) -> Fetch:
        """Accepts the (kind, at, code, link) tuples a recipient item stores."""
        if isinstance(value, Fetch):
            return value
        kind, at, code, link = value
        if kind == "open":
            return cls(at=at, kind="open", code=code)
        if kind == "click":
            return cls(at=at, kind="click", code=code, link=link)
        raise ValueError(f"fetch kind must be 'open' or 'click', not {kind!r}")

    def _key(self) -> tuple[datetime, str, str, str, str]:
        return (self.at, self.kind, self.code, self.link or "", self.event_id)


@dataclass(frozen=True)
class FetchVerdict:
    fetch: Fetch
    verdict: Verdict
    reason: str


@dataclass(frozen=True)
class EngagementCounts:
    human_opens: int = 0
    machine_opens: int = 0
    human_clicks: int = 0
    machine_clicks: int = 0

    @property
    def engagement(self) -> Engagement:
        if self.human_opens or self.human_clicks:
            return Engagement.HUMAN
        if self.machine_opens or self.machine_clicks:
            return Engagement.MACHINE_ONLY
        return Engagement.NONE

    def __add__(self, other: EngagementCounts) -> EngagementCounts:
        return EngagementCounts(
            self.human_opens + other.human_opens,
            self.machine_opens + other.machine_opens,
            self.human_clicks + other.human_clicks,
            self.machine_clicks + other.machine_clicks,
        )


def count_verdicts(verdicts: Iterable[FetchVerdict]) -> EngagementCounts:
    human_opens = machine_opens = human_clicks = machine_clicks = 0
    for item in verdicts:
        human = item.verdict.is_human
        if item.fetch.kind == "open":
            human_opens += human
            machine_opens += not human
        else:
            human_clicks += human
            machine_clicks += not human
    return EngagementCounts(human_opens, machine_opens, human_clicks, machine_clicks)


def canonical(fetches: Iterable[Fetch | tuple[str, datetime, str, str | None]]) -> list[Fetch]:
    """The distinct fetches in canonical order: what a bounded store keeps the head of."""
    return sorted({Fetch.of(value) for value in fetches}, key=Fetch._key)


def final_verdicts(
    fetches: Iterable[Fetch | tuple[str, datetime, str, str | None]],
    *,
    delivered_at: datetime | None,
    sent_at: datetime | None,
    rules: EngagementRules = DEFAULT_RULES,
) -> tuple[FetchVerdict, ...]:
    """The verdict of each distinct fetch, in canonical order.

    The delivery-relative rules measure from ``delivered_at``; without it, from ``sent_at``, which
    is earlier, so they then flag fewer fetches, never more; with neither, only the burst rule runs.
    """
    ordered = canonical(fetches)
    timed, untimed = ordered[: rules.max_timed_fetches], ordered[rules.max_timed_fetches :]
    reference = delivered_at if delivered_at is not None else sent_at
    since = "delivery" if delivered_at is not None else "sending"
    bursts = _bursts([f for f in timed if f.kind == "click"], rules)
    results = [_timed_verdict(f, bursts.get(f), reference, since, rules) for f in timed]
    results += [_intrinsic(f) for f in untimed]
    return tuple(results)


def _intrinsic(fetch: Fetch) -> FetchVerdict:
    cls = fetch_class(fetch.kind, fetch.code)
    return FetchVerdict(fetch, cls.verdict, cls.reason)


@dataclass(frozen=True)
class _Burst:
    start: datetime
    span_seconds: float
    links: int


def _timed_verdict(
    fetch: Fetch, burst: _Burst | None, reference: datetime | None, since: str, rules: EngagementRules
) -> FetchVerdict:
    intrinsic = _intrinsic(fetch)
    if not intrinsic.verdict.is_human:
        return intrinsic
    if fetch.kind == "click":
        if burst is not None:
            when = _relative(burst.start, reference, since)
            reason = f"link scanner: {burst.links} links in {_seconds(burst.span_seconds)}"
            reason += f", {when}" if when else ""
            return FetchVerdict(fetch, Verdict.SCANNER, reason)
        if _within(fetch.at, reference, rules.click_after_delivery_seconds):
            return FetchVerdict(
                fetch, Verdict.SCANNER, f"link scanner: clicked {_relative(fetch.at, reference, since)}"
            )
        return intrinsic
    if fetch.code not in FETCH_ON_OPEN_PROXIES and _within(
        fetch.at, reference, rules.open_after_delivery_seconds
    ):
        return FetchVerdict(
            fetch, Verdict.PREFETCH, f"prefetch: opened {_relative(fetch.at, reference, since)}"
        )
    return intrinsic


def _within(at: datetime, reference: datetime | None, seconds: float) -> bool:
    """At or before ``reference`` + ``seconds`` (a fetch before delivery is a machine's too)."""
    return reference is not None and (at - reference).total_seconds() <= seconds


def _bursts(clicks: Sequence[Fetch], rules: EngagementRules) -> dict[Fetch, _Burst]:
    """Each click inside a window of ``burst_window_seconds`` holding ``burst_min_links`` distinct links.

    Windows start at a click (a shortest window containing a burst can always be moved to start at
    its first click), so this checks every candidate; a click in several bursts is described by
    the one with the most links, then the earliest. ``clicks`` are in canonical order.
    """
    found: dict[Fetch, _Burst] = {}
    for i, first in enumerate(clicks):
        window = []
        for candidate in clicks[i:]:
            if (candidate.at - first.at).total_seconds() > rules.burst_window_seconds:
                break
            window.append(candidate)
        links = {c.link for c in window}
        if len(links) < rules.burst_min_links:
            continue
        burst = _Burst(first.at, (window[-1].at - first.at).total_seconds(), len(links))
        for click in window:
            current = found.get(click)
            if current is None or (burst.links, -burst.start.timestamp()) > (
                current.links,
                -current.start.timestamp(),
            ):
                found[click] = burst
    return found


def _seconds(value: float) -> str:
    rounded = round(abs(value), 1)
    return f"{rounded:g} s" if rounded < 10 else f"{round(abs(value))} s"


def _relative(at: datetime, reference: datetime | None, since: str) -> str:
    if reference is None:
        return ""
    delta = (at - reference).total_seconds()
    return f"{_seconds(delta)} {'before' if delta < 0 else 'after'} {since}"
