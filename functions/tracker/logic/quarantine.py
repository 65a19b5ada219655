"""Looking at quarantined records and sending them back to the ingest path after a fix.

Re-driving puts a record's SQS body on the events queue as it first arrived; the ingest path then
applies it like any delivery, and because every event is applied at most once (its id), a record
re-driven twice, or one whose events were partly applied before, changes nothing twice. A record
that still cannot be applied is quarantined again, as a new entry.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from tracker.domain.quarantine import QuarantinedRecord
from tracker.logic.ports import EventRedelivery, QuarantineStore

# The events queue takes at most 1 MiB per request (SendMessageBatch's total, as for one body), and
# a quarantined body may be 1 MiB itself: bodies are handed over in groups no larger than that.
REDELIVERY_BYTES = 1024 * 1024


def _groups(bodies: Sequence[str], limit: int = REDELIVERY_BYTES) -> list[list[int]]:
    """Positions of ``bodies`` in consecutive groups of at most ``limit`` bytes of UTF-8 (a body
    alone may reach it)."""
    groups: list[list[int]] = []
    size = limit
    for index, body in enumerate(bodies):
        length = len(body.encode("utf-8", "surrogatepass"))
        if size + length > limit:
            groups.append([])
            size = 0
        groups[-1].append(index)
        size += length
    return groups


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
        failed: set[int] = set()
        for group in _groups([record.body for record in chosen]):
            missed = self._redelivery.redeliver([chosen[index].body for index in group])
            failed.update(group[position] for position in missed)
        queued = [record for index, record in enumerate(chosen) if index not in failed]
        if queued:
            self._store.mark_redriven(queued, self._clock())
        return Redrive(tuple(queued), tuple(record for index, record in enumerate(chosen) if index in failed))
