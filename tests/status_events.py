"""The events function run over the test table's stream with its own reader (its own event source
mapping, beside the projector's), and an in-memory bus that can refuse entries or crash."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from local.streams import DrainReport, TableStream
from tracker.domain.status_events import StatusChange
from tracker.handlers.events import process_batch
from tracker.logic.publishing import Publisher
from tracker.settings import Settings


def events_stream(table: str | None = None) -> TableStream:
    """A reader of the table's stream from its start (the events function's own position)."""
    return TableStream(table or Settings.from_env().table_name)


def publish(publisher: Publisher, reader: TableStream) -> DrainReport:
    return reader.drain(lambda event: process_batch(event, publisher))


class SimulatedCrash(BaseException):
    """The process dying between two steps: no code of ours can catch it."""


@dataclass
class MemoryBus:
    """logic.publishing.EventBus in memory: ``accepted`` is every event put, in order. ``plan``
    says what each put does ("ok", "refuse:<indexes>", "down", "crash-before", "crash-after");
    after the plan, every put succeeds."""

    plan: list[str] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    calls: int = 0

    def put(self, changes: Sequence[StatusChange]) -> Sequence[int]:
        step = self.plan[self.calls] if self.calls < len(self.plan) else "ok"
        self.calls += 1
        if step == "crash-before":
            raise SimulatedCrash("crashed after the table's write, before the put")
        if step == "down":
            return list(range(len(changes)))
        refused = (
            {int(i) % len(changes) for i in step.split(":", 1)[1].split(",")}
            if step.startswith("refuse:")
            else set()
        )
        self.accepted += [change.detail() for index, change in enumerate(changes) if index not in refused]
        if step == "crash-after":
            raise SimulatedCrash("crashed after the put, before the stream's checkpoint")
        return sorted(refused)

    @property
    def ids(self) -> list[str]:
        return [detail["event_id"] for detail in self.accepted]


def drain_through_crashes(run: Callable[[], DrainReport], limit: int = 50) -> None:
    """Drain again after every crash, as Lambda retries a shard's batch from its checkpoint."""
    for _ in range(limit):
        try:
            report = run()
        except SimulatedCrash:
            continue
        assert not report.failed_batches, report
        return
    raise AssertionError("still crashing")
