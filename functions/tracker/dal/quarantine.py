"""Quarantined SQS records on the single table (logic.ports.QuarantineStore).

One partition per day and shard, ``QUARANTINE#{yyyy-mm-dd}#{shard}``: a record goes to the shard
of a hash of its SQS message id, so however many records one day quarantines (a format change
that breaks every event, say), they spread over SHARDS partitions instead of one. Reading a day
is one Query per shard, concurrently.

The body is kept whole, whatever its size: SQS carries bodies of up to 1 MiB, an item holds
400 KB. A body of up to PLAIN_BODY_BYTES is plain text on the record's item (readable in the
console); a larger one is gzip-compressed into ``body_gzip``, and when even that is more than
PART_BYTES, the rest goes to continuation items beside it (``{sort key}#{n}``, in the same
partition, so the day's Query reads them too), all written in one transaction. Reading puts it
back together.
"""

from __future__ import annotations

import gzip
import logging
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta

from pynamodb.transactions import TransactWrite

from tracker.dal import keys
from tracker.dal.models import QuarantineItem, shared_connection
from tracker.dal.support import parallel, store_errors
from tracker.domain.quarantine import QuarantinedRecord

logger = logging.getLogger(__name__)

SHARDS = 16
MAX_DETAIL = 2000
PLAIN_BODY_BYTES = 64 * 1024
# Room left for the item's other attributes (a detail of 2,000 characters is at most 8 KB).
PART_BYTES = 350 * 1024


def shard_of(source_id: str) -> int:
    return zlib.crc32(source_id.encode("utf-8")) % SHARDS


def _storable(text: str) -> str:
    """``text`` as DynamoDB takes it: a lone surrogate written as its escape (``\\ud800``)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _compressed_parts(body: str) -> list[bytes] | None:
    """The body gzip-compressed in parts of PART_BYTES, or None when it stays plain text. A body
    that is not Unicode text (a lone surrogate) is compressed too: DynamoDB takes its bytes."""
    try:
        data = body.encode("utf-8")
    except UnicodeEncodeError:
        data = body.encode("utf-8", "surrogatepass")
    else:
        if len(data) <= PLAIN_BODY_BYTES:
            return None
    packed = gzip.compress(data, mtime=0)
    return [packed[start : start + PART_BYTES] for start in range(0, len(packed), PART_BYTES)]


def _body(item: QuarantineItem, parts: dict[int, bytes]) -> str | None:
    """The body as it arrived; None when a continuation item is missing (only TTL deletes them one
    by one, after the record expired: they are written together)."""
    if item.body_gzip is None:
        return item.body
    chunks = [item.body_gzip, *(parts.get(n) for n in range(1, int(item.body_parts or 1)))]
    if any(chunk is None for chunk in chunks):
        return None
    packed = b"".join(chunk for chunk in chunks if chunk is not None)
    return gzip.decompress(packed).decode("utf-8", "surrogatepass")


def _records(items: Iterable[QuarantineItem]) -> list[QuarantinedRecord]:
    heads: list[QuarantineItem] = []
    parts: dict[tuple[str, str], dict[int, bytes]] = defaultdict(dict)
    for item in items:
        if item.part is None:
            heads.append(item)
        elif item.body_gzip is not None:
            parts[(item.received_at, item.source_id)][int(item.part)] = item.body_gzip
    records = []
    for item in heads:
        body = _body(item, parts[(item.received_at, item.source_id)])
        if body is None:
            logger.warning("quarantined record %s lacks part of its body (expired?)", item.source_id)
            continue
        records.append(
            QuarantinedRecord(
                received_at=keys.parse_iso(item.received_at),
                source_id=item.source_id,
                reason=item.reason,
                detail=item.detail,
                body=body,
                redriven_at=keys.parse_iso(item.redriven_at) if item.redriven_at else None,
            )
        )
    return records


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
        pk, sk = keys.quarantine_pk(now, shard_of(source_id)), keys.quarantine_sk(now, source_id)
        item = QuarantineItem(
            pk,
            sk,
            received_at=keys.iso(now),
            source_id=source_id,
            reason=_storable(reason),
            detail=_storable(detail[:MAX_DETAIL]),
            body=body,
            expires_at=now + self._retention,
        )
        parts = _compressed_parts(body) or []
        if parts:
            item.body, item.body_gzip, item.body_parts = "", parts[0], len(parts)
        continuations = [
            QuarantineItem(
                pk,
                keys.quarantine_part_sk(now, source_id, n),
                received_at=item.received_at,
                source_id=source_id,
                reason=item.reason,
                detail="",
                body="",
                expires_at=item.expires_at,
                part=n,
                body_gzip=chunk,
            )
            for n, chunk in enumerate(parts[1:], start=1)
        ]
        with store_errors("quarantine"):
            if not continuations:
                item.save()
                return
            with TransactWrite(connection=shared_connection()) as transaction:
                for each in (item, *continuations):
                    transaction.save(each)

    def list_day(self, day: date) -> list[QuarantinedRecord]:
        def shard(number: int) -> list[QuarantinedRecord]:
            with store_errors("list quarantined records"):
                return _records(QuarantineItem.query(keys.quarantine_day_pk(day, number)))

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
