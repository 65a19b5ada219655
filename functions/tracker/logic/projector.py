"""The projector: message counts (and the suppression evidence) made from the recipients' changes.

Every write of a recipient appears once on the table's stream with the item before and after it
(DynamoDB Streams, NEW_AND_OLD_IMAGES). A change moves the recipient from what it was counted under
(its status and engagement tallies before) to what it is counted under now; the projector sums
these moves per message and adds them to the message item in one update per message per batch.

Exactly once: a stream shard delivers its records in order the first time and retries whole
batches (also split ones) after a failure. Each message item keeps, per shard, the sequence number
of the last record it has counted (its high-water mark), and an update only counts records above
it: the update is conditioned on the mark being below the first record it counts, and when the
condition fails the store answers with the current mark, so the records up to it are dropped and
the rest counted. Records of one message come from one shard at a time (its partition), or from
several after DynamoDB splits a hot partition, each then with its own mark. This module knows no
AWS SDK: the store is injected.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Protocol

from tracker.domain.attention import Concern
from tracker.domain.errors import TransientStoreError, UnreadableChangeError
from tracker.domain.events import EventKind
from tracker.domain.facts import Detail
from tracker.domain.ids import normalize_email
from tracker.domain.insights import (
    LinkClicks,
    LinkMetric,
    ProviderMetric,
    link_delta,
    provider_metrics,
    provider_of,
)
from tracker.domain.records import MessageKey, RecipientKey
from tracker.domain.stats import StatMark
from tracker.domain.status import tally_delta
from tracker.domain.suppression import Address, Evidence, EvidenceKind
from tracker.domain.timeline import TimelineEntry
from tracker.domain.unsubscribe import UnsubscribeEvent, is_opt_out
from tracker.logic.message_changes import (
    AttentionChange,
    InsightChange,
    attention_change,
    insight_change,
)
from tracker.logic.stats_projection import StatsStore, project_stats

# Sequence numbers are decimal strings of up to 40 digits, compared as numbers: padded, as text.
SEQUENCE_DIGITS = 40
UPDATE_ATTEMPTS = 5


def sequence_key(sequence: str) -> str:
    return sequence.strip().zfill(SEQUENCE_DIGITS)


@dataclass(frozen=True)
class RecipientImage:
    """What the projector needs of a recipient item as the stream shows it: its address, what it
    is counted under, and the suppression evidence it holds (the bounces and complaints of its
    timeline, which keeps the latest of them an address's evidence can use, and the details of its
    latest bounce)."""

    email: str
    tallies: frozenset[str]
    outcomes: tuple[TimelineEntry, ...] = ()
    bounce: Detail | None = None
    # Attention (tracker.domain.attention): "failed" or "pending" while it concerns its message
    # (neither resent nor dismissed), since when, its entry when its message lists it, and when
    # SES accepted it.
    concern: str | None = None
    since: datetime | None = None
    entry: Concern | None = None
    sent_at: datetime | None = None
    # The latest SES Subscription event's details (an opt-out unsubscribes the address from emails).
    subscription: Detail | None = None
    # What it counts under in its tenant's hourly statistics (tracker.domain.stats).
    stats: frozenset[StatMark] = frozenset()
    # Insights (tracker.domain.insights): its clicks per link, and the links' addresses.
    links: Mapping[str, LinkClicks] = field(default_factory=dict)
    link_urls: Mapping[str, str] = field(default_factory=dict)
    link_tags: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def _provider_delta(change: RecipientStreamChange) -> Counter[tuple[str, ProviderMetric]]:
    moved: Counter[tuple[str, ProviderMetric]] = Counter()
    for image, sign in ((change.before, -1), (change.after, 1)):
        if image is not None:
            provider = provider_of(image.email).value
            for metric in provider_metrics(image.tallies):
                moved[(provider, metric)] += sign
    return Counter({key: n for key, n in moved.items() if n})


@dataclass(frozen=True)
class RecipientStreamChange:
    """One stream record of a recipient item (``before`` None: created; ``after`` None: removed)."""

    shard: str
    sequence: str  # as the stream gives it
    key: RecipientKey
    before: RecipientImage | None
    after: RecipientImage | None

    @cached_property
    def delta(self) -> Counter[str]:
        before = self.before.tallies if self.before is not None else frozenset()
        after = self.after.tallies if self.after is not None else frozenset()
        return tally_delta(before, after)

    @property
    def ordering(self) -> str:
        return sequence_key(self.sequence)

    @cached_property
    def concern_delta(self) -> Counter[str]:
        """How the message's counts of concerned recipients ("failed", "pending") move."""
        moved: Counter[str] = Counter()
        before = self.before.concern if self.before is not None else None
        after = self.after.concern if self.after is not None else None
        if before != after:
            if before is not None:
                moved[before] -= 1
            if after is not None:
                moved[after] += 1
        return moved

    @property
    def entry_before(self) -> Concern | None:
        return self.before.entry if self.before is not None else None

    @property
    def entry_after(self) -> Concern | None:
        return self.after.entry if self.after is not None else None

    @property
    def changes_attention(self) -> bool:
        return any(self.concern_delta.values()) or self.entry_before != self.entry_after

    @cached_property
    def provider_delta(self) -> Counter[tuple[str, ProviderMetric]]:
        return _provider_delta(self)

    @cached_property
    def link_delta(self) -> Counter[tuple[str, LinkMetric]]:
        before = self.before.links if self.before is not None else {}
        after = self.after.links if self.after is not None else {}
        return link_delta(before, after) if before or after else Counter()


class MessageGone:
    """What the store answers for a message item that does not exist (deleted with its data)."""


MESSAGE_GONE = MessageGone()


class CountStore(Protocol):
    def add_counts(
        self,
        message: MessageKey,
        shard: str,
        first: str,
        last: str,
        delta: Mapping[str, int],
        attention: AttentionChange | None = None,
        insights: InsightChange | None = None,
    ) -> str | MessageGone | None:
        """Add ``delta`` to the message's counts, apply ``attention`` and ``insights`` and set its mark for
        ``shard`` to ``last``, if that mark is below ``first`` (padded sequence keys), then bring
        the message's place in the attention queue in line with its facts. Returns None when it
        did; the current mark when the condition failed (nothing counted); MESSAGE_GONE when the
        item is absent. Raises TransientStoreError when a retry may succeed."""
        ...


class UnsubscriptionSink(Protocol):
    def record_events(self, events: Mapping[Address, Collection[UnsubscribeEvent]]) -> None:
        """Record SES-reported opt-outs (idempotent: the latest per address is kept)."""
        ...


class EvidenceSink(Protocol):
    def record_evidence(self, evidence: Mapping[Address, Sequence[Evidence]]) -> Collection[Address]:
        """Record bounce/complaint evidence per address (idempotent by event id) and re-evaluate
        each address; returns the addresses that could not be settled (retry them)."""
        ...


StreamRecord = Mapping[str, Any]
# A stream record's recipient change (None: not a recipient's); raises UnreadableChangeError.
Decoder = Callable[[StreamRecord, str], "RecipientStreamChange | None"]
# Keeps a record that can never be projected: (source id, body, reason, detail).
Quarantine = Callable[[str, str, str, str], None]
UNREADABLE = "unreadable_change"


@dataclass
class ProjectionReport:
    counted: int = 0  # records whose counts were added
    skipped: int = 0  # records with nothing to count, or already counted (a retried batch)
    messages: int = 0
    unreadable: int = 0  # quarantined
    evidence: int = 0  # bounces and complaints recorded
    stats_buckets: int = 0  # statistics hour items written
    # The earliest record of each message (or address) that failed: the batch restarts from the
    # earliest of them (Lambda's partial batch response for streams).
    failed_sequences: list[str] = field(default_factory=list)

    @property
    def retry_from(self) -> str | None:
        return min(self.failed_sequences, key=sequence_key) if self.failed_sequences else None


class Projector:
    def __init__(
        self,
        counts: CountStore,
        evidence: EvidenceSink | None = None,
        decode: Decoder | None = None,
        quarantine: Quarantine | None = None,
        unsubscriptions: UnsubscriptionSink | None = None,
        stats: StatsStore | None = None,
    ) -> None:
        self._counts = counts
        self._evidence = evidence
        self._decode = decode
        self._quarantine = quarantine
        self._unsubscriptions = unsubscriptions
        self._stats = stats

    def project_records(self, records: Sequence[StreamRecord], shard: str) -> ProjectionReport:
        """Project one stream batch of one shard (records in stream order)."""
        if self._decode is None:
            raise TypeError("a Projector that reads stream records needs a decoder")
        changes: list[RecipientStreamChange] = []
        unreadable = 0
        for record in records:
            try:
                change = self._decode(record, shard)
            except UnreadableChangeError as error:
                unreadable += 1
                self._keep(record, str(error))
                continue
            if change is not None:
                changes.append(change)
        report = self.project(changes)
        report.unreadable = unreadable
        return report

    def _keep(self, record: StreamRecord, detail: str) -> None:
        if self._quarantine is None:
            raise UnreadableChangeError(detail)
        sequence = str((record.get("dynamodb") or {}).get("SequenceNumber", "unknown"))
        self._quarantine(f"stream:{sequence}", json.dumps(record, default=str), UNREADABLE, detail)

    def project(self, changes: Sequence[RecipientStreamChange]) -> ProjectionReport:
        report = ProjectionReport()
        grouped: dict[tuple[MessageKey, str], list[RecipientStreamChange]] = defaultdict(list)
        for change in changes:
            grouped[(change.key.message, change.shard)].append(change)
        for (message, shard), group in sorted(grouped.items(), key=lambda entry: entry[0][0]):
            ordered = sorted(group, key=lambda c: c.ordering)
            try:
                self._project_message(message, shard, ordered, report)
            except TransientStoreError:
                report.failed_sequences.append(ordered[0].sequence)
        if self._stats is not None:
            project_stats(self._stats, changes, report)
        self._project_evidence(changes, report)
        self._project_unsubscriptions(changes, report)
        return report

    def _project_message(
        self, message: MessageKey, shard: str, ordered: list[RecipientStreamChange], report: ProjectionReport
    ) -> None:
        pending = [
            change
            for change in ordered
            if any(change.delta.values()) or change.changes_attention or change.link_delta
        ]
        report.skipped += len(ordered) - len(pending)  # nothing to count: no write at all
        report.messages += 1
        for _ in range(UPDATE_ATTEMPTS):
            if not pending:
                return
            delta: Counter[str] = Counter()
            for change in pending:
                delta.update(change.delta)
            answer = self._counts.add_counts(
                message,
                shard,
                pending[0].ordering,
                pending[-1].ordering,
                {k: n for k, n in delta.items() if n},
                attention_change(pending),
                insights=insight_change(pending),
            )
            if answer is None:
                report.counted += len(pending)
                return
            if isinstance(answer, MessageGone):
                report.skipped += len(pending)
                return
            # Counted up to the mark already (a retried or re-split batch): count only the rest.
            counted = [change for change in pending if change.ordering <= answer]
            report.skipped += len(counted)
            pending = [change for change in pending if change.ordering > answer]
        raise TransientStoreError(f"could not count the changes of {message.message_id}")

    def _project_unsubscriptions(
        self, changes: Sequence[RecipientStreamChange], report: ProjectionReport
    ) -> None:
        if self._unsubscriptions is None:
            return
        found: dict[Address, list[UnsubscribeEvent]] = defaultdict(list)
        first: dict[Address, str] = {}
        for change in changes:
            opt_out = new_opt_out(change)
            if opt_out is None:
                continue
            address, event = opt_out
            found[address].append(event)
            if address not in first or sequence_key(change.sequence) < sequence_key(first[address]):
                first[address] = change.sequence
        if not found:
            return
        try:
            self._unsubscriptions.record_events(found)
        except TransientStoreError:
            report.failed_sequences += list(first.values())

    def _project_evidence(self, changes: Sequence[RecipientStreamChange], report: ProjectionReport) -> None:
        if self._evidence is None:
            return
        found: dict[Address, dict[str, Evidence]] = defaultdict(dict)
        first: dict[Address, str] = {}
        for change in changes:
            for address, evidence in new_evidence(change):
                found[address][evidence.event_id] = evidence
                if address not in first or sequence_key(change.sequence) < sequence_key(first[address]):
                    first[address] = change.sequence
        if not found:
            return
        try:
            unsettled = self._evidence.record_evidence({a: list(e.values()) for a, e in found.items()})
        except TransientStoreError:
            unsettled = list(found)
        report.evidence = sum(len(items) for address, items in found.items() if address not in set(unsettled))
        report.failed_sequences += [first[address] for address in unsettled]


def new_opt_out(change: RecipientStreamChange) -> tuple[Address, UnsubscribeEvent] | None:
    """The SES Subscription opt-out this change brought (a changed latest Subscription event)."""
    after = change.after
    if after is None or after.subscription is None:
        return None
    if change.before is not None and change.before.subscription == after.subscription:
        return None
    if not is_opt_out(after.subscription.values):
        return None
    source = str(after.subscription.values.get("source") or "ses_subscription")
    return (
        Address(change.key.tenant_id, normalize_email(after.email)),
        UnsubscribeEvent(after.subscription.at, source, change.key),
    )


def new_evidence(change: RecipientStreamChange) -> list[tuple[Address, Evidence]]:
    """The bounces and complaints this change added to the recipient's timeline (it keeps the
    latest OUTCOMES_KEPT of each: tracker.domain.timeline), as suppression evidence of its address."""
    after = change.after
    if after is None:
        return []
    before_ids = {entry.event_id for entry in change.before.outcomes} if change.before else set()
    address = Address(change.key.tenant_id, normalize_email(after.email))
    return [
        (address, _evidence(change.key, entry, after.bounce))
        for entry in after.outcomes
        if entry.kind in EVIDENCE_KINDS and entry.event_id not in before_ids
    ]


EVIDENCE_KINDS = frozenset({EventKind.BOUNCE, EventKind.COMPLAINT})
MAX_EVIDENCE_DETAIL = 500


def _evidence(key: RecipientKey, entry: TimelineEntry, latest_bounce: Detail | None) -> Evidence:
    if entry.kind is EventKind.COMPLAINT:
        return Evidence(
            entry.event_id,
            EvidenceKind.COMPLAINT,
            entry.at,
            key.message_id,
            key.recipient_id,
            entry.info or None,
        )
    bounce_type, _, subtype = entry.info.partition("/")
    # Undetermined bounces count as transient: only a definite "Permanent" is permanent.
    permanent = bounce_type == "Permanent"
    detail = " / ".join(part for part in (bounce_type, subtype) if part)
    if latest_bounce is not None and latest_bounce.event_id == entry.event_id:
        detail = str(latest_bounce.values.get("diagnostic_code") or detail)
    return Evidence(
        entry.event_id,
        EvidenceKind.PERMANENT_BOUNCE if permanent else EvidenceKind.TRANSIENT_BOUNCE,
        entry.at,
        key.message_id,
        key.recipient_id,
        detail[:MAX_EVIDENCE_DETAIL] or None,
    )
