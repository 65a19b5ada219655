"""Looking at quarantined records and sending them back to the ingest path after a fix.

Re-driving puts a record's SQS body on the events queue as it first arrived; the ingest path then
applies it like any delivery, and because every event is applied at most once (its id), a record
re-driven twice, or one whose events were partly applied before, changes nothing twice. A record
that still cannot be applied is quarantined again, as a new entry.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime

from tracker.domain.quarantine import QuarantinedRecord
from tracker.logic.ports import EventRedelivery, QuarantineStore


@dataclass(frozen=True)
class Redrive:
    redriven: tuple[QuarantinedRecord, ...]
    not_queued: tuple[QuarantinedRecord, ...]


class QuarantineService:
    def __init__(
        self,
        store: QuarantineStore,
        redelivery: EventRedelivery,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._redelivery = redelivery
        self._clock = clock

    def reasons(self, day: date) -> Counter[str]:
        """How many records of ``day`` are still waiting, per reason."""
        return Counter(r.reason for r in self._store.list_day(day) if r.redriven_at is None)

    def records(
        self, day: date, reason: str | None = None, *, include_redriven: bool = False
    ) -> list[QuarantinedRecord]:
        return [
            record
            for record in self._store.list_day(day)
            if (reason is None or record.reason == reason)
            and (include_redriven or record.redriven_at is None)
        ]

    def redrive(
        self, day: date, *, reason: str | None = None, source_ids: Collection[str] | None = None
    ) -> Redrive:
        """Send the selected records of ``day`` (by reason, by SQS message id, or all waiting
        ones) back to the ingest path, and mark those queued."""
        chosen = [
            record
            for record in self.records(day, reason)
            if source_ids is None or record.source_id in source_ids
        ]
        failed = set(self._redelivery.redeliver([record.body for record in chosen]))
        queued = [record for index, record in enumerate(chosen) if index not in failed]
        if queued:
            self._store.mark_redriven(queued, self._clock())
        return Redrive(tuple(queued), tuple(record for index, record in enumerate(chosen) if index in failed))
