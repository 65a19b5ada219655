"""Monotone per-recipient facts and the status derived from them.

Every field only grows in a lattice (counts of distinct events, min of
first-times, max of last-times, the detail record with the greatest
(timestamp, event id)), and an event already applied changes nothing. So
applying any permutation of a multiset of events gives the same facts as
applying the de-duplicated set in timestamp order, which is what makes the
displayed status independent of SES's delivery order and duplicates.

Which events were applied: ``seen`` keeps the ``SEEN_LIMIT`` smallest (short)
ids of them (so it is the same whatever the order), and the store keeps a marker
for every other one (``RecipientChange.markers``). An id smaller than the largest
kept one and not kept was never applied; only a larger one needs its marker
looked up (``needs_marker_lookup``). So the item stays small however many
events a recipient gets, and counts stay exact. The opens and clicks the
engagement rules look at are the timeline's (tracker.domain.timeline).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import Any

from tracker.domain.engagement import (
    DEFAULT_RULES,
    Engagement,
    EngagementCounts,
    EngagementRules,
    Fetch,
    FetchVerdict,
    count_verdicts,
    fetch_class,
    final_verdicts,
)
from tracker.domain.events import EventKind, RecipientEvent
from tracker.domain.status import DELIVERED_STATUSES, Status, Tally
from tracker.domain.timeline import (
    TimelineEntry,
    entry_of,
    fetches,
    short_id,
    with_entry,
    with_link,
    with_link_tags,
)

# Event ids kept on the recipient item (short ids): every recipient with a normal life (send,
# delivery, a few opens and clicks) stays far below it.
SEEN_LIMIT = 48
# Where the ingest path stores an open's or click's intrinsic class (tracker.domain.engagement).
FETCH_CLASS_DETAIL = "fetch_class"
UNCLASSIFIED = "unknown"

# SES bounces an address it will not even try because it is on the account-level
# suppression list with this subtype; the product shows that as Dropped.
SES_SUPPRESSION_SUBTYPE = "OnAccountSuppressionList"

# Send-path outcomes that stand when no SES event says otherwise.
SEND_OUTCOMES = frozenset({Status.QUEUED, Status.SENT, Status.DROPPED, Status.FAILED})


@dataclass(frozen=True)
class Detail:
    """The details of the latest event of one kind (bounce, complaint, delay, ...)."""

    at: datetime
    event_id: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def newer_than(self, other: Detail | None) -> bool:
        return other is None or (self.at, self.event_id) > (other.at, other.event_id)


def _min(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate < current else current


def _max(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate > current else current


def _latest(current: Detail | None, candidate: Detail) -> Detail:
    return candidate if candidate.newer_than(current) else current  # type: ignore[return-value]


@dataclass(frozen=True)
class RecipientFacts:
    send_outcome: Status = Status.QUEUED
    send_outcome_reason: str | None = None
    seen: frozenset[str] = frozenset()
    # Distinct events applied, those whose id is no longer in ``seen`` included.
    applied: int = 0
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    first_delayed_at: datetime | None = None
    delay: Detail | None = None
    open_count: int = 0
    first_opened_at: datetime | None = None
    last_opened_at: datetime | None = None
    click_count: int = 0
    first_clicked_at: datetime | None = None
    last_clicked_at: datetime | None = None
    permanent_bounces: int = 0
    transient_bounces: int = 0
    first_bounced_at: datetime | None = None
    bounce: Detail | None = None
    ses_suppressed_at: datetime | None = None
    complaint: Detail | None = None
    reject: Detail | None = None
    rendering_failure: Detail | None = None
    subscription: Detail | None = None
    # When SES accepted the message (every event carries it): the timing rules' reference
    # until the Delivery is known.
    mail_sent_at: datetime | None = None
    # Intrinsic verdicts of the opens and clicks beyond the kept ``fetches``.
    late: EngagementCounts = field(default_factory=EngagementCounts)
    # The recipient's events as views show them (bounded: tracker.domain.timeline).
    timeline: tuple[TimelineEntry, ...] = ()
    links: Mapping[str, str] = field(default_factory=dict)
    link_tags: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # The thresholds the verdicts are derived with (settings, not facts).
    rules: EngagementRules = field(default=DEFAULT_RULES, compare=False, repr=False)

    @cached_property
    def fetches(self) -> tuple[Fetch, ...]:
        """The opens and clicks the timing rules look at (the timeline keeps them)."""
        return fetches(self.timeline)

    @property
    def omitted_events(self) -> int:
        """Events applied but not kept in the timeline (a long history's middle)."""
        return max(0, self.applied - len(self.timeline))

    @cached_property
    def verdicts(self) -> tuple[FetchVerdict, ...]:
        """The verdict of each kept open and click (a pure function of the facts, whatever the
        order the events came in)."""
        return final_verdicts(
            self.fetches,
            delivered_at=self.delivered_at,
            sent_at=self.mail_sent_at or self.sent_at,
            rules=self.rules,
        )

    @cached_property
    def engagement_counts(self) -> EngagementCounts:
        return count_verdicts(self.verdicts) + self.late

    @property
    def engagement(self) -> Engagement:
        return self.engagement_counts.engagement

    def verdict_of(self, event_id: str, kind: str, code: str) -> tuple[str, str]:
        """(verdict, reason) of one open or click: its timed verdict when it is kept, else its
        intrinsic one."""
        identity = short_id(event_id)
        for item in self.verdicts:
            if item.fetch.event_id == identity:
                return item.verdict.value, item.reason
        cls = fetch_class("open" if kind == "open" else "click", code or UNCLASSIFIED)
        return cls.verdict.value, cls.reason

    @property
    def machine_opened(self) -> bool:
        """Delivered, and only machines opened or clicked (counted beside the statuses)."""
        return self.status is Status.DELIVERED and self.engagement is Engagement.MACHINE_ONLY

    @property
    def machine_clicked(self) -> bool:
        """Delivered, and only machines clicked (for ``click_rate_all``)."""
        counts = self.engagement_counts
        return counts.machine_clicks > 0 and counts.human_clicks == 0 and self.status in DELIVERED_STATUSES

    @property
    def tallies(self) -> frozenset[str]:
        """What the message counts this recipient under: its status and its engagement tallies."""
        marks = {self.status.value}
        if self.machine_opened:
            marks.add(Tally.MACHINE_OPENED.value)
        if self.machine_clicked:
            marks.add(Tally.MACHINE_CLICKED.value)
        return frozenset(marks)

    @property
    def status(self) -> Status:
        """Precedence of docs/domain.md; send outcomes stand only when SES said nothing else."""
        if self.complaint is not None:
            return Status.COMPLAINT
        if self.bounce is not None:
            return Status.BOUNCED
        if self.ses_suppressed_at is not None:
            return Status.DROPPED
        if self.reject is not None:
            return Status.REJECTED
        if self.rendering_failure is not None:
            return Status.FAILED
        counts = self.engagement_counts
        if counts.human_clicks > 0:
            return Status.CLICKED
        if counts.human_opens > 0:
            return Status.OPENED
        # An open or click, a machine's too, means the message arrived.
        if self.delivered_at is not None or self.open_count > 0 or self.click_count > 0:
            return Status.DELIVERED
        if self.delay is not None:
            return Status.DELAYED
        if self.sent_at is not None:
            return Status.SENT
        return self.send_outcome

    def needs_marker_lookup(self, event_id: str) -> bool:
        """Whether only the store's markers can tell if this event was applied: ``seen`` is full
        and the id sorts after every kept one (a smaller unkept id was never applied)."""
        identity = short_id(event_id)
        return identity not in self.seen and len(self.seen) >= SEEN_LIMIT and identity > max(self.seen)

    def apply(self, event: RecipientEvent) -> RecipientFacts:
        """The facts after ``event``; the same object when the event was already applied.

        An event whose marker the store holds must not be passed in (``needs_marker_lookup``)."""
        identity = short_id(event.event_id)
        if identity in self.seen:
            return self
        seen = self.seen | {identity}
        entry = entry_of(event, _fetch_code(event))
        links = with_link(self.links, event)
        if len(seen) > SEEN_LIMIT:
            seen = frozenset(sorted(seen)[:SEEN_LIMIT])
        facts = replace(
            self,
            seen=seen,
            applied=self.applied + 1,
            mail_sent_at=_min(self.mail_sent_at, event.mail_sent_at),
            timeline=with_entry(self.timeline, entry),
            links=links,
            link_tags=with_link_tags(self.link_tags, event, links),
        )
        detail = Detail(at=event.at, event_id=identity, values=dict(event.details))
        match event.kind:
            case EventKind.SEND:
                return replace(facts, sent_at=_min(facts.sent_at, event.at))
            case EventKind.DELIVERY:
                return replace(facts, delivered_at=_min(facts.delivered_at, event.at))
            case EventKind.OPEN | EventKind.CLICK:
                return _with_fetch(_counted_fetch(facts, event), self.fetches, entry)
            case EventKind.BOUNCE:
                return _apply_bounce(facts, event, detail)
            case EventKind.COMPLAINT:
                return replace(facts, complaint=_latest(facts.complaint, detail))
            case EventKind.REJECT:
                return replace(facts, reject=_latest(facts.reject, detail))
            case EventKind.RENDERING_FAILURE:
                return replace(facts, rendering_failure=_latest(facts.rendering_failure, detail))
            case EventKind.DELIVERY_DELAY:
                return replace(
                    facts,
                    first_delayed_at=_min(facts.first_delayed_at, event.at),
                    delay=_latest(facts.delay, detail),
                )
            case EventKind.SUBSCRIPTION:
                return replace(facts, subscription=_latest(facts.subscription, detail))
        raise AssertionError(f"unhandled event kind {event.kind}")

    def apply_all(self, events: Iterable[RecipientEvent]) -> RecipientFacts:
        facts = self
        for event in events:
            facts = facts.apply(event)
        return facts

    @property
    def bounce_reason(self) -> str | None:
        """What the Recipients tab shows for a bounce: the SES diagnostic, else type/subtype."""
        if self.bounce is None:
            return None
        values = self.bounce.values
        diagnostic = values.get("diagnostic_code")
        if diagnostic:
            return str(diagnostic)
        return " / ".join(str(v) for v in (values.get("bounce_type"), values.get("bounce_subtype")) if v)


def _fetch_code(event: RecipientEvent) -> str:
    if event.kind not in (EventKind.OPEN, EventKind.CLICK):
        return ""
    return str(event.details.get(FETCH_CLASS_DETAIL) or UNCLASSIFIED)


def _counted_fetch(facts: RecipientFacts, event: RecipientEvent) -> RecipientFacts:
    """``facts`` with one more open or click at the event's time (however it is judged)."""
    if event.kind is EventKind.OPEN:
        return replace(
            facts,
            open_count=facts.open_count + 1,
            first_opened_at=_min(facts.first_opened_at, event.at),
            last_opened_at=_max(facts.last_opened_at, event.at),
        )
    return replace(
        facts,
        click_count=facts.click_count + 1,
        first_clicked_at=_min(facts.first_clicked_at, event.at),
        last_clicked_at=_max(facts.last_clicked_at, event.at),
    )


def _with_fetch(facts: RecipientFacts, before: tuple[Fetch, ...], entry: TimelineEntry) -> RecipientFacts:
    """An open or click the kept fetches no longer hold (pushed out by an earlier one, or never
    among the earliest) counts by its intrinsic verdict, so the counts do not depend on order."""
    added = {entry.fetch} if entry.fetch is not None else set()
    beyond = {*before, *added} - set(facts.fetches)
    late = facts.late
    for fetch in beyond:
        human = fetch_class(fetch.kind, fetch.code).verdict.is_human
        late = late + EngagementCounts(
            human_opens=int(fetch.kind == "open" and human),
            machine_opens=int(fetch.kind == "open" and not human),
            human_clicks=int(fetch.kind == "click" and human),
            machine_clicks=int(fetch.kind == "click" and not human),
        )
    return replace(facts, late=late)


def _apply_bounce(facts: RecipientFacts, event: RecipientEvent, detail: Detail) -> RecipientFacts:
    is_permanent = event.details.get("bounce_type") == "Permanent"
    suppressed = event.details.get("bounce_subtype") == SES_SUPPRESSION_SUBTYPE
    return replace(
        facts,
        permanent_bounces=facts.permanent_bounces + (1 if is_permanent else 0),
        transient_bounces=facts.transient_bounces + (0 if is_permanent else 1),
        first_bounced_at=_min(facts.first_bounced_at, event.at),
        bounce=_latest(facts.bounce, detail) if not suppressed else facts.bounce,
        ses_suppressed_at=_min(facts.ses_suppressed_at, event.at) if suppressed else facts.ses_suppressed_at,
    )
