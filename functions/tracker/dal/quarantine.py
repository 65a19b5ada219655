"""Quarantined SQS records on the single table (logic.ports.QuarantineStore).

One partition per day and shard, ``QUARANTINE#{yyyy-mm-dd}#{shard}``: a record goes to the shard
of a hash of its SQS message id, so however many records one day quarantines (a format change
that breaks every event, say), they spread over SHARDS partitions instead of one. Reading a day
is one Query per shard, concurrently.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta

from tracker.dal import keys
from tracker.dal.models import QuarantineItem
from tracker.dal.support import parallel, store_errors
from tracker.domain.quarantine import QuarantinedRecord

SHARDS = 16
MAX_DETAIL = 2000


def shard_of(source_id: str) -> int:
    return zlib.crc32(source_id.encode("utf-8")) % SHARDS


def _record(item: QuarantineItem) -> QuarantinedRecord:
    return QuarantinedRecord(
        received_at=keys.parse_iso(item.received_at),
        source_id=item.source_id,
        reason=item.reason,
        detail=item.detail,
        body=item.body,
        redriven_at=keys.parse_iso(item.redriven_at) if item.redriven_at else None,
    )


class DynamoQuarantineStore:
    def __init__(
        self,
        retention: timedelta = timedelta(days=400),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._retention = retention
        self._clock = clock

    def put(self, source_id: str, body: str, reason: str, detail: str) -> None:
        now = self._clock()
        item = QuarantineItem(
            keys.quarantine_pk(now, shard_of(source_id)),
            keys.quarantine_sk(now, source_id),
            received_at=keys.iso(now),
            source_id=source_id,
            reason=reason,
            detail=detail[:MAX_DETAIL],
            body=body,
            expires_at=now + self._retention,
        )
        with store_errors("quarantine"):
            item.save()

    def list_day(self, day: date) -> list[QuarantinedRecord]:
        def shard(number: int) -> list[QuarantinedRecord]:
            with store_errors("list quarantined records"):
                return [_record(item) for item in QuarantineItem.query(keys.quarantine_day_pk(day, number))]

        found = [record for records in parallel(shard, list(range(SHARDS))) for record in records]
        return sorted(found, key=lambda r: (r.received_at, r.source_id))

    def mark_redriven(self, records: Sequence[QuarantinedRecord], at: datetime) -> None:
        def mark(record: QuarantinedRecord) -> None:
            item = QuarantineItem(
                keys.quarantine_pk(record.received_at, shard_of(record.source_id)),
                keys.quarantine_sk(record.received_at, record.source_id),
            )
            with store_errors("mark a quarantined record re-driven"):
                item.update(actions=[QuarantineItem.redriven_at.set(keys.iso(at))])

        parallel(mark, list(records))
