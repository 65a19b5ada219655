"""Re-driving hands the events queue groups of bodies it can take in one request (1 MiB), and a
body the queue refused is reported against its own record, whichever group it was in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from tracker.domain.quarantine import QuarantinedRecord
from tracker.logic.quarantine import REDELIVERY_BYTES, QuarantineService

DAY = date(2026, 12, 1)
AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Store:
    def __init__(self, records: list[QuarantinedRecord]) -> None:
        self.records = records
        self.marked: list[str] = []

    def list_day(self, day: date) -> list[QuarantinedRecord]:
        return list(self.records) if day == DAY else []

    def mark_redriven(self, records: Sequence[QuarantinedRecord], at: datetime) -> None:
        self.marked += [record.source_id for record in records]


class Queue:
    """Refuses the bodies in ``refused``; records every request."""

    def __init__(self, refused: set[str]) -> None:
        self.refused = refused
        self.requests: list[list[str]] = []

    def redeliver(self, bodies: Sequence[str]) -> list[int]:
        self.requests.append(list(bodies))
        return [index for index, body in enumerate(bodies) if body in self.refused]


def record(source_id: str, size: int) -> QuarantinedRecord:
    body = source_id + "." * (size - len(source_id))
    return QuarantinedRecord(AT, source_id, "malformed_json", "", body)


def test_bodies_go_in_requests_the_queue_takes_and_refusals_map_back_to_their_records() -> None:
    mib = REDELIVERY_BYTES
    records = [
        record("a", 600_000),
        record("b", 600_000),
        record("c", 300_000),
        record("d", mib),
        record("e", 10),
    ]
    store, queue = Store(records), Queue(refused={records[2].body, records[4].body})
    result = QuarantineService(store, queue, clock=lambda: AT).redrive(DAY)

    assert all(sum(len(body.encode("utf-8")) for body in request) <= mib for request in queue.requests)
    assert [body for request in queue.requests for body in request] == [r.body for r in records]
    assert [r.source_id for r in result.not_queued] == ["c", "e"]
    assert [r.source_id for r in result.redriven] == store.marked == ["a", "b", "d"]


def test_small_bodies_share_one_request() -> None:
    records = [record(f"r{n}", 1000) for n in range(25)]
    queue = Queue(refused=set())
    QuarantineService(Store(records), queue, clock=lambda: AT).redrive(DAY)
    assert len(queue.requests) == 1
