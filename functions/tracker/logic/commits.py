"""Committing a batch's recipient changes: one conditional write per changed recipient.

Each recipient's new facts are written on their own, conditioned on the version they were read at
(a conflict re-reads that recipient and recomputes it); the message counts, statistics and
outgoing events follow from the table's stream (tracker.logic.projector), so a change is one write
and nothing else. Only a recipient whose events go beyond the ids it keeps writes markers with it,
in one transaction. A write the store refuses for good is isolated to its recipient, whose records
the caller quarantines; every other recipient of the batch goes on.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace

from tracker.domain.errors import ConflictError, TransientStoreError, UnwritableError
from tracker.domain.events import EventKind, RecipientEvent
from tracker.domain.records import RecipientChange, RecipientKey, StoredRecipient
from tracker.domain.timeline import short_id
from tracker.logic.pools import LazyPool
from tracker.logic.ports import IngestStore
from tracker.logic.retry import Backoff

# Events of one recipient applied in one write (a recipient with more in one batch is committed in
# rounds), so that its markers always fit one transaction next to it (DynamoDB: 100 items).
ROUND_EVENTS = 90


@dataclass
class CommitLog:
    """What the commits of one batch did, collected across the commit threads."""

    applied: dict[RecipientKey, list[RecipientEvent]] = field(default_factory=dict)
    duplicates: int = 0
    unwritable: dict[RecipientKey, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wrote(self, key: RecipientKey, events: Sequence[RecipientEvent], duplicates: int) -> None:
        with self.lock:
            self.applied.setdefault(key, []).extend(events)
            self.duplicates += duplicates

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
class Computed:
    change: RecipientChange | None
    new_events: tuple[RecipientEvent, ...]
    duplicates: int


def compute(stored: StoredRecipient, events: Sequence[RecipientEvent], known: Collection[str]) -> Computed:
    """The recipient's change for these events (distinct ids), leaving out those whose markers the
    store holds (``known``: applied before, beyond ``seen``)."""
    facts = stored.facts
    new: list[RecipientEvent] = []
    for event in events:
        if short_id(event.event_id) in known:
            continue
        after = facts.apply(event)
        if after is not facts:
            new.append(event)
            facts = after
    change = RecipientChange(stored, facts, frozenset(short_id(e.event_id) for e in new)) if new else None
    return Computed(change, tuple(new), len(events) - len(new))


def rounds(events: Sequence[RecipientEvent]) -> list[list[RecipientEvent]]:
    """A recipient's events of one batch in rounds of at most ROUND_EVENTS (almost always one)."""
    return [list(events[index : index + ROUND_EVENTS]) for index in range(0, len(events), ROUND_EVENTS)]


class Committer:
    def __init__(self, store: IngestStore, backoff: Backoff, retries: int, workers: int) -> None:
        self._store = store
        self._backoff = backoff
        self._retries = retries
        self._pool = LazyPool(workers, "commits")

    def commit_all(
        self,
        events_by_key: Mapping[RecipientKey, Sequence[RecipientEvent]],
        recipients: dict[RecipientKey, StoredRecipient],
        log: CommitLog,
    ) -> set[RecipientKey]:
        """Commit every recipient's events, concurrently; returns the keys now up to date (the
        others failed for now, or for good: ``log.unwritable``)."""
        keys = sorted(events_by_key)
        if not keys:
            return set()

        def one(key: RecipientKey) -> bool:
            return self._commit_recipient(key, events_by_key[key], recipients, log)

        results = self._pool.map(one, keys)
        return {key for key, ok in zip(keys, results, strict=True) if ok}

    def _commit_recipient(
        self,
        key: RecipientKey,
        events: Sequence[RecipientEvent],
        recipients: dict[RecipientKey, StoredRecipient],
        log: CommitLog,
    ) -> bool:
        for round_events in rounds(events):
            try:
                if not self._attempts(key, round_events, recipients, log):
                    return False
            except UnwritableError as error:
                log.refused(key, error.detail)
                return False
        return True

    def _attempts(
        self,
        key: RecipientKey,
        events: Sequence[RecipientEvent],
        recipients: dict[RecipientKey, StoredRecipient],
        log: CommitLog,
    ) -> bool:
        for attempt in range(self._retries + 1):
            stored = recipients[key]
            known = self._known_markers(stored, events)
            computed = compute(stored, events, known)
            try:
                if computed.change is not None:
                    self._store.commit(computed.change)
            except ConflictError:
                if attempt == self._retries or not self._reload(key, recipients):
                    return False
                self._backoff.wait(attempt)
                continue
            except TransientStoreError:
                if attempt == self._retries:
                    return False
                self._backoff.wait(attempt)
                continue
            log.wrote(key, computed.new_events, computed.duplicates)
            if computed.change is not None:
                recipients[key] = replace(stored, facts=computed.change.after)
            return True
        return False

    def _known_markers(self, stored: StoredRecipient, events: Sequence[RecipientEvent]) -> set[str]:
        wanted = {short_id(e.event_id) for e in events if stored.facts.needs_marker_lookup(e.event_id)}
        if not wanted:
            return set()
        return self._store.markers_present({stored.key: wanted}).get(stored.key, set())

    def _reload(self, key: RecipientKey, recipients: dict[RecipientKey, StoredRecipient]) -> bool:
        try:
            recipients.update(self._store.load_recipients({key}, consistent=True))
        except TransientStoreError:
            return False
        return key in recipients
