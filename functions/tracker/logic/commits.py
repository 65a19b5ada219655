"""Committing a batch's recipient changes: chunks that fit one transaction, conflicts retried,
permanent refusals isolated to the one recipient they concern.

A chunk is the recipients (and their markers, and one count delta per message) that fit one
``TransactWriteItems``. A version conflict re-reads the conflicting recipients and recomputes the
chunk; a transient failure retries it. A chunk the store refuses for good (an item over
DynamoDB's limits, say) is split in halves until the refusal is down to one recipient, so no
record costs another its write; that recipient's records are quarantined by the caller.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial

from tracker.domain.errors import ConflictError, TransientStoreError, UnwritableError
from tracker.domain.events import EventKind, RecipientEvent
from tracker.domain.facts import SEEN_LIMIT
from tracker.domain.records import MessageKey, RecipientChange, RecipientKey, StoredRecipient, WrittenDelta
from tracker.logic.ports import IngestStore
from tracker.logic.retry import Backoff

# DynamoDB's TransactWriteItems limit: recipients, their markers, one delta item per message.
TRANSACTION_ITEM_LIMIT = 100
# Events of one recipient applied in one transaction (a recipient with more in one batch is
# committed in rounds), so that its markers always fit next to it.
ROUND_EVENTS = 90


@dataclass
class CommitLog:
    """What the commits of one batch did, collected across the commit threads."""

    written: dict[MessageKey, list[WrittenDelta]] = field(default_factory=dict)
    # Messages of a commit that raised: it may have been written all the same (a response lost
    # after the write, or an SDK retry refused because its first try had succeeded), and then
    # its delta is pending under a key this batch does not know.
    uncertain: set[MessageKey] = field(default_factory=set)
    applied: dict[RecipientKey, list[RecipientEvent]] = field(default_factory=dict)
    duplicates: int = 0
    unwritable: dict[RecipientKey, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wrote(self, deltas: Sequence[WrittenDelta], duplicates: int) -> None:
        with self.lock:
            for delta in deltas:
                self.written.setdefault(delta.message, []).append(delta)
            self.duplicates += duplicates

    def unsure(self, changes: Sequence[RecipientChange]) -> None:
        with self.lock:
            self.uncertain.update(change.before.key.message for change in changes)

    def applied_events(self, key: RecipientKey, events: Sequence[RecipientEvent]) -> None:
        with self.lock:
            self.applied.setdefault(key, []).extend(events)

    def refused(self, key: RecipientKey, detail: str) -> None:
        with self.lock:
            self.unwritable[key] = detail

    @property
    def events_by_kind(self) -> dict[EventKind, int]:
        counts: dict[EventKind, int] = {}
        for events in self.applied.values():
            for event in events:
                counts[event.kind] = counts.get(event.kind, 0) + 1
        return counts


@dataclass(frozen=True)
class _Computed:
    change: RecipientChange | None
    new_events: tuple[RecipientEvent, ...]
    duplicates: int


def compute(stored: StoredRecipient, events: Sequence[RecipientEvent], known: Collection[str]) -> _Computed:
    """The recipient's change for these events (distinct ids), leaving out those whose markers the
    store holds (``known``: applied before, beyond ``seen``)."""
    facts = stored.facts
    new: list[RecipientEvent] = []
    for event in events:
        if event.event_id in known:
            continue
        after = facts.apply(event)
        if after is not facts:
            new.append(event)
            facts = after
    change = RecipientChange(stored, facts, frozenset(e.event_id for e in new)) if new else None
    return _Computed(change, tuple(new), len(events) - len(new))


def weight(stored: StoredRecipient, events: Sequence[RecipientEvent]) -> int:
    """Transaction items this recipient may need: itself plus a marker per event beyond ``seen``."""
    return 1 + max(0, min(len(events), len(stored.facts.seen) + len(events) - SEEN_LIMIT))


def plan_chunks(weights: Mapping[RecipientKey, int], limit: int) -> list[list[RecipientKey]]:
    """Split recipients (in key order) into transactions of at most ``limit`` items, counting
    each recipient's weight and one delta item per distinct message in the chunk."""
    chunks: list[list[RecipientKey]] = []
    current: list[RecipientKey] = []
    messages: set[MessageKey] = set()
    used = 0
    for key in sorted(weights):
        extra_message = 0 if key.message in messages else 1
        if current and used + len(messages) + weights[key] + extra_message > limit:
            chunks.append(current)
            current, messages, used = [], set(), 0
        current.append(key)
        messages.add(key.message)
        used += weights[key]
    if current:
        chunks.append(current)
    return chunks


def rounds(
    events_by_key: Mapping[RecipientKey, Sequence[RecipientEvent]],
) -> list[dict[RecipientKey, list[RecipientEvent]]]:
    """The batch's events in rounds of at most ROUND_EVENTS per recipient (almost always one)."""
    result: list[dict[RecipientKey, list[RecipientEvent]]] = []
    for key, events in events_by_key.items():
        for index in range(0, len(events), ROUND_EVENTS):
            number = index // ROUND_EVENTS
            while len(result) <= number:
                result.append({})
            result[number][key] = list(events[index : index + ROUND_EVENTS])
    return result


class Committer:
    def __init__(self, store: IngestStore, backoff: Backoff, retries: int, workers: int) -> None:
        self._store = store
        self._backoff = backoff
        self._retries = retries
        self._workers = workers

    def commit_all(
        self,
        events_by_key: Mapping[RecipientKey, Sequence[RecipientEvent]],
        recipients: dict[RecipientKey, StoredRecipient],
        log: CommitLog,
    ) -> set[RecipientKey]:
        """Commit every recipient's events; returns the keys now up to date (the others failed
        for now, or for good: ``log.unwritable``)."""
        done: set[RecipientKey] = set(events_by_key)
        for round_events in rounds(events_by_key):
            pending = {key: events for key, events in round_events.items() if key in done}
            if not pending:
                continue
            weights = {key: weight(recipients[key], events) for key, events in pending.items()}
            chunks = plan_chunks(weights, TRANSACTION_ITEM_LIMIT)
            with ThreadPoolExecutor(max_workers=max(1, min(self._workers, len(chunks)))) as pool:
                results = list(
                    pool.map(
                        partial(self._commit, events_by_key=pending, recipients=recipients, log=log), chunks
                    )
                )
            committed: set[RecipientKey] = set().union(*results)
            done -= set(pending) - committed
        return done

    def _commit(
        self,
        chunk: Sequence[RecipientKey],
        events_by_key: Mapping[RecipientKey, Sequence[RecipientEvent]],
        recipients: dict[RecipientKey, StoredRecipient],
        log: CommitLog,
    ) -> set[RecipientKey]:
        """The chunk's keys that are committed (all, or, after a permanent refusal, those of the
        halves that went through)."""
        try:
            return set(chunk) if self._attempts(chunk, events_by_key, recipients, log) else set()
        except UnwritableError as error:
            if len(chunk) == 1:
                log.refused(chunk[0], error.detail)
                return set()
            middle = len(chunk) // 2
            return self._commit(chunk[:middle], events_by_key, recipients, log) | self._commit(
                chunk[middle:], events_by_key, recipients, log
            )

    def _attempts(
        self,
        chunk: Sequence[RecipientKey],
        events_by_key: Mapping[RecipientKey, Sequence[RecipientEvent]],
        recipients: dict[RecipientKey, StoredRecipient],
        log: CommitLog,
    ) -> bool:
        for attempt in range(self._retries + 1):
            known = self._known_markers(chunk, events_by_key, recipients)
            computed = {
                key: compute(recipients[key], events_by_key[key], known.get(key, set())) for key in chunk
            }
            changes = [c.change for c in computed.values() if c.change is not None]
            try:
                written = self._store.commit(changes) if changes else ()
            except ConflictError as conflict:
                log.unsure(changes)
                if attempt == self._retries or not self._reload(conflict, chunk, recipients):
                    return False
                self._backoff.wait(attempt)
                continue
            except TransientStoreError:
                log.unsure(changes)
                if attempt == self._retries:
                    return False
                self._backoff.wait(attempt)
                continue
            log.wrote(written, sum(c.duplicates for c in computed.values()))
            for key, result in computed.items():
                log.applied_events(key, result.new_events)
                if result.change is not None:
                    recipients[key] = replace(recipients[key], facts=result.change.after)
            return True
        return False

    def _known_markers(
        self,
        chunk: Sequence[RecipientKey],
        events_by_key: Mapping[RecipientKey, Sequence[RecipientEvent]],
        recipients: Mapping[RecipientKey, StoredRecipient],
    ) -> dict[RecipientKey, set[str]]:
        wanted = {
            key: {
                e.event_id
                for e in events_by_key[key]
                if recipients[key].facts.needs_marker_lookup(e.event_id)
            }
            for key in chunk
        }
        wanted = {key: ids for key, ids in wanted.items() if ids}
        return self._store.markers_present(wanted) if wanted else {}

    def _reload(
        self,
        conflict: ConflictError,
        chunk: Sequence[RecipientKey],
        recipients: dict[RecipientKey, StoredRecipient],
    ) -> bool:
        stale = set(conflict.args[0]) if conflict.args else set(chunk)
        try:
            recipients.update(self._store.load_recipients(stale or set(chunk)))
        except TransientStoreError:
            return False
        return True
