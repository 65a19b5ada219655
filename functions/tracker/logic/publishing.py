"""Publishing the recipients' status changes on the event bus, at least once, each under its id.

The events function reads the table's stream (its own event source mapping, beside the
projector's) and hands one batch of changes here in stream order. They are put in requests of at
most ``PUT_BATCH`` entries; entries the bus refuses are put again a few times, and a change still
not put makes the batch fail from it (the stream's partial batch response): the stream delivers it
and every later record again, so nothing is lost when the bus is down or the function crashes
between the table's write and the put. A change put twice carries the same id both times
(tracker.domain.status_events), which is what a consumer de-duplicates by. This module knows no
AWS SDK: the bus is injected.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from tracker.domain.status_events import StatusChange

PUT_BATCH = 10  # PutEvents takes at most 10 entries
PUT_ATTEMPTS = 3
RETRY_DELAYS = (0.1, 0.4)  # seconds before the second and third attempt


class EventBus(Protocol):
    def put(self, changes: Sequence[StatusChange]) -> Sequence[int]:
        """Put one event per change (at most PUT_BATCH); returns the indexes of the entries that
        were not put (every index when the request failed as a whole)."""
        ...


@dataclass(frozen=True)
class PendingChange:
    """A change and the stream record it came from (its sequence number, as the stream gives it)."""

    sequence: str
    change: StatusChange


@dataclass
class PublishReport:
    published: int = 0
    put_failures: int = 0  # entries refused (each retry counts again)
    unreadable: int = 0  # records that could not be decoded (the projector quarantines them)
    retry_from: str | None = None  # the first record to deliver again
    published_ids: list[str] = field(default_factory=list)


def _sequence_key(sequence: str) -> str:
    return sequence.strip().zfill(40)


class Publisher:
    def __init__(self, bus: EventBus, sleep: Callable[[float], None] | None = None) -> None:
        self._bus = bus
        self._sleep = sleep or (lambda _seconds: None)

    def publish(self, pending: Sequence[PendingChange], report: PublishReport | None = None) -> PublishReport:
        report = report or PublishReport()
        ordered = sorted(pending, key=lambda item: _sequence_key(item.sequence))
        failed: list[PendingChange] = []
        for start in range(0, len(ordered), PUT_BATCH):
            failed += self._put(ordered[start : start + PUT_BATCH], report)
        if failed:
            report.retry_from = min(failed, key=lambda item: _sequence_key(item.sequence)).sequence
        return report

    def _put(self, batch: Sequence[PendingChange], report: PublishReport) -> list[PendingChange]:
        remaining = list(batch)
        for attempt in range(PUT_ATTEMPTS):
            if attempt:
                self._sleep(RETRY_DELAYS[min(attempt - 1, len(RETRY_DELAYS) - 1)])
            refused = set(self._bus.put([item.change for item in remaining]))
            for index, item in enumerate(remaining):
                if index not in refused:
                    report.published += 1
                    report.published_ids.append(item.change.event_id)
            report.put_failures += len(refused)
            remaining = [item for index, item in enumerate(remaining) if index in refused]
            if not remaining:
                break
        return remaining
