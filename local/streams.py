"""The table's DynamoDB stream read the way Lambda's event source mapping reads it, for local mode,
the tests and the bench: shard by shard, in order, in batches, from where the last batch stopped;
a partial batch response restarts the shard at the record it names. Each batch reaches the
projector's handler as the event Lambda sends a function with a tumbling window (``shardId``,
``state``), and only recipient records reach it, as the mapping's filter lets through.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config

from local.lambda_runtime import REGION

log = logging.getLogger("local.streams")

# botocore's account-based endpoints for DynamoDB Streams are not served by moto: the regional one is.
STREAMS_CLIENT_CONFIG = Config(account_id_endpoint_mode="disabled")
BATCH_SIZE = 100
# A batch that keeps failing is retried this often before reading stops (a test's failure, not a hang).
MAX_ATTEMPTS = 10
# How often the shard list is read again (DynamoDB splits shards over hours; moto keeps one, made
# at the table's first write: until there is one, the list is read at every poll).
SHARD_LIST_SECONDS = 5.0
RECIPIENT_TYPE = "recipient"

Handler = Callable[[dict[str, Any]], Mapping[str, Any] | None]


class _WireRecordsParser:
    """A GetRecords answer as it came over the wire: its JSON *is* the records in the form Lambda
    hands the projector (binary values in base64, creation times in epoch seconds), which
    botocore's shape-driven parser would turn into bytes and datetimes, for ``lambda_record`` to
    turn back (that parse was a tenth of local mode's CPU under load). Any other answer, and any
    error, goes to botocore's parser."""

    def __init__(self, parser: Any) -> None:
        self._parser = parser

    def parse(self, response: dict[str, Any], shape: Any) -> Any:
        if response.get("status_code") == 200 and getattr(shape, "name", None) == "GetRecordsOutput":
            parsed = json.loads(response["body"])
            headers = response.get("headers") or {}
            parsed["ResponseMetadata"] = {
                "RequestId": headers.get("x-amzn-requestid", ""),
                "HTTPStatusCode": 200,
                "HTTPHeaders": headers,
            }
            return parsed
        return self._parser.parse(response, shape)


class _WireRecordsParsers:
    def __init__(self, factory: Any) -> None:
        self._factory = factory

    def create_parser(self, protocol: str) -> _WireRecordsParser:
        return _WireRecordsParser(self._factory.create_parser(protocol))


def _lambda_value(value: Any) -> Any:
    """A wire-format value as Lambda's event carries it (binary base64-encoded, as in JSON)."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Mapping):
        return {key: _lambda_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_lambda_value(item) for item in value]
    if isinstance(value, set):
        return [_lambda_value(item) for item in sorted(value)]
    return value


def lambda_record(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    data = dict(record["dynamodb"])
    created = data.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        data["ApproximateCreationDateTime"] = created.timestamp()
    return {
        **_lambda_value({k: v for k, v in record.items() if k != "dynamodb"}),
        "dynamodb": _lambda_value(data),
        "eventSourceARN": stream_arn,
    }


def wire_lambda_record(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """``lambda_record`` of a record ``TableStream`` read: decoded from JSON, it holds no bytes, sets
    or datetimes, so it already is in Lambda's form (the walk would copy it unchanged)."""
    return {**record, "eventSourceARN": stream_arn}


def is_recipient_record(record: Mapping[str, Any]) -> bool:
    """The event source mapping's filter: a recipient item's change (either image)."""
    data = record.get("dynamodb") or {}
    return any(
        (data.get(image) or {}).get("item_type", {}).get("S") == RECIPIENT_TYPE
        for image in ("NewImage", "OldImage")
    )


def stream_event(records: list[dict[str, Any]], shard_id: str, stream_arn: str) -> dict[str, Any]:
    """A DynamoDB Streams event of a tumbling-window mapping."""
    return {
        "Records": records,
        "shardId": shard_id,
        "eventSourceARN": stream_arn,
        "window": {"start": "1970-01-01T00:00:00Z", "end": "1970-01-01T00:15:00Z"},
        "state": {},
        "isFinalInvokeForWindow": False,
        "isWindowTerminatedEarly": False,
    }


@dataclass(frozen=True)
class Gathering:
    """How a batch grows while its shard's records keep coming: another read every ``poll_seconds``
    (``wait`` sleeps, true when stopping) for up to ``window_seconds``, as Lambda's batching window
    gathers; unlike Lambda's, the batch goes to the handler as soon as a read brings nothing new,
    so the counts settle a poll after the last change instead of a window."""

    window_seconds: float
    poll_seconds: float
    wait: Callable[[float], bool]


@dataclass
class DrainReport:
    batches: int = 0
    records: int = 0  # delivered to the handler (a retried record counts each time)
    retries: int = 0
    failed_batches: list[str] = field(default_factory=list)  # shard ids given up on


class TableStream:
    def __init__(
        self,
        table_name: str,
        *,
        region: str = REGION,
        endpoint_url: str | None = None,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        kwargs: dict[str, Any] = {"region_name": region, "endpoint_url": endpoint_url}
        table = boto3.client("dynamodb", **kwargs).describe_table(TableName=table_name)["Table"]
        self.stream_arn: str = table["LatestStreamArn"]
        self._client = boto3.client("dynamodbstreams", config=STREAMS_CLIENT_CONFIG, **kwargs)
        endpoint = self._client._endpoint
        endpoint._response_parser_factory = _WireRecordsParsers(endpoint._response_parser_factory)
        self.batch_size = batch_size
        # Per shard, where to read next: (iterator type, sequence number); none yet: its start.
        self._positions: dict[str, tuple[str, str]] = {}
        # Per shard, the iterator GetRecords handed back for that position, as Lambda's poller
        # reads on: one request per batch instead of three (no new iterator, no DescribeStream).
        self._iterators: dict[str, str] = {}
        self._handed_back: dict[str, str] = {}  # read, not yet handled
        self._shard_ids: list[str] = []
        self._shards_listed_at = -SHARD_LIST_SECONDS

    def rewind(self) -> None:
        """Read every shard from its start again (a replay, as after an iterator reset)."""
        self._positions.clear()
        self._iterators.clear()
        self._handed_back.clear()
        self._shards_listed_at = -SHARD_LIST_SECONDS

    def _shards(self) -> list[str]:
        if not self._shard_ids or time.monotonic() - self._shards_listed_at >= SHARD_LIST_SECONDS:
            description = self._client.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
            self._shard_ids = [shard["ShardId"] for shard in description.get("Shards", [])]
            self._shards_listed_at = time.monotonic()
        return self._shard_ids

    def _read(self, shard: str) -> list[dict[str, Any]]:
        # An iterator handed back by a batch that was never handled (its handler raised) is stale.
        self._handed_back.pop(shard, None)
        iterator = self._iterators.pop(shard, None) or self._new_iterator(shard)
        response = self._client.get_records(ShardIterator=iterator, Limit=self.batch_size)
        records = list(response.get("Records", []))
        following = response.get("NextShardIterator")
        if following:
            # Nothing read: the position stands and so does the iterator; else it is the next
            # position's once the batch is handled (_advance).
            (self._handed_back if records else self._iterators)[shard] = str(following)
        return records

    def _new_iterator(self, shard: str) -> str:
        position = self._positions.get(shard)
        if position is None:
            iterator = self._client.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
            )
        else:
            kind, sequence = position
            iterator = self._client.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard, ShardIteratorType=kind, SequenceNumber=sequence
            )
        return str(iterator["ShardIterator"])

    def batches(self) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """Every shard's next batch of records (raw GetRecords records), until none is left."""
        for shard in self._shards():
            records = self._read(shard)
            if records:
                yield shard, records

    def _read_on(self, shard: str, limit: int) -> list[dict[str, Any]]:
        """The shard's records after those read and not yet handled (none once it is closed)."""
        iterator = self._handed_back.get(shard)
        if iterator is None:
            return []
        response = self._client.get_records(ShardIterator=iterator, Limit=limit)
        following = response.get("NextShardIterator")
        if following:
            self._handed_back[shard] = str(following)
        else:
            self._handed_back.pop(shard)
        return list(response.get("Records", []))

    def _gather(
        self, shard: str, records: list[dict[str, Any]], gathering: Gathering
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + gathering.window_seconds
        while len(records) < self.batch_size and time.monotonic() < deadline and shard in self._handed_back:
            if gathering.wait(gathering.poll_seconds):
                break
            more = self._read_on(shard, self.batch_size - len(records))
            if not more:
                break
            records = records + more
        return records

    def _advance(self, shard: str, records: list[dict[str, Any]], restart_at: str | None) -> None:
        if restart_at is not None:
            self._positions[shard] = ("AT_SEQUENCE_NUMBER", restart_at)
            self._handed_back.pop(shard, None)  # it is past the restart
        else:
            self._positions[shard] = ("AFTER_SEQUENCE_NUMBER", str(records[-1]["dynamodb"]["SequenceNumber"]))
            if shard in self._handed_back:
                self._iterators[shard] = self._handed_back.pop(shard)

    def drain(
        self, handler: Handler, *, max_batches: int | None = None, gathering: Gathering | None = None
    ) -> DrainReport:
        """Hand every unread record to ``handler`` (recipient records only, as the mapping's
        filter does), batch after batch, until the stream has nothing unread; with ``gathering``
        each batch first grows while its shard's records keep coming."""
        report = DrainReport()
        attempts: dict[tuple[str, str], int] = {}
        while max_batches is None or report.batches < max_batches:
            progressed = False
            for shard, first in self.batches():
                progressed = True
                records = self._gather(shard, first, gathering) if gathering else first
                delivered = [
                    wire_lambda_record(r, self.stream_arn) for r in records if is_recipient_record(r)
                ]
                restart_at = None
                if delivered:
                    response = handler(stream_event(delivered, shard, self.stream_arn)) or {}
                    failures = response.get("batchItemFailures") or []
                    restart_at = str(failures[0]["itemIdentifier"]) if failures else None
                    report.batches += 1
                    report.records += len(delivered)
                if restart_at is not None:
                    key = (shard, restart_at)
                    attempts[key] = attempts.get(key, 0) + 1
                    report.retries += 1
                    if attempts[key] >= MAX_ATTEMPTS:
                        report.failed_batches.append(shard)
                        return report
                self._advance(shard, records, restart_at)
            if not progressed:
                return report
        return report


@dataclass
class StreamPoller:
    """Local mode's event source mapping for the table's stream: drains it into ``handler`` in a
    thread, then waits a moment when nothing was new (as Lambda polls a shard about 4 times a
    second)."""

    name: str
    table_name: str
    handler: Handler
    idle_sleep_seconds: float = 0.25
    batch_size: int = BATCH_SIZE
    # > 0: each batch grows for up to this long while records keep coming (Gathering).
    gather_seconds: float = 0.0
    batches: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._stream = TableStream(self.table_name, batch_size=self.batch_size)
        self._thread = threading.Thread(target=self._run, name=f"poller-{self.name}", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self, timeout: float = 3.0) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                gathering = (
                    Gathering(self.gather_seconds, self.idle_sleep_seconds, self._stop.wait)
                    if self.gather_seconds
                    else None
                )
                report = self._stream.drain(self.handler, max_batches=1, gathering=gathering)
                self.batches += report.batches
                if report.records < self.batch_size or report.failed_batches:
                    # Nothing left but a partial batch: wait for the next poll, as Lambda polls a
                    # shard a few times a second (under load a batch then carries more records:
                    # one count update per message per batch, fewer reads).
                    self._stop.wait(self.idle_sleep_seconds)
            except Exception:  # a poller must survive anything a handler or the emulator does
                log.exception("poller %s failed; retrying", self.name)
                self._stop.wait(1.0)
