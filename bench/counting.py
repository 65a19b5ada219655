"""Every DynamoDB request the code under test makes, counted by operation, item and capacity.

The bench replaces ``botocore.client.BaseClient._make_api_call`` (the one method every botocore
client, and so PynamoDB, sends requests through) with a wrapper that

* serializes calls into moto with a lock (moto is not thread-safe; the tests do the same),
* optionally sleeps a fixed latency per DynamoDB request *outside* the lock (the code under test
  then runs at a real request's pace; round trips are counted from the issuing threads),
* records each DynamoDB request: operation, items read and written, the keys written (for hot
  items), capacity units computed from item sizes (see ``bench.capacity``), and the time spent
  inside the emulator (which real DynamoDB would spend on its side of the 5 ms).

Item images before and after a write are read straight from moto's in-memory backend (no request),
which is what lets the write units follow DynamoDB's "larger of before and after" rule.
"""

from __future__ import annotations

import importlib
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from botocore.client import BaseClient

from bench import capacity

WRITE_OPERATIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
READ_OPERATIONS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})

ItemKey = tuple[str, str]  # (pk, sk) as strings


@dataclass(frozen=True, slots=True)
class Request:
    """One DynamoDB request as the meter saw it."""

    operation: str
    items_written: int  # write actions: each item of a batch or transaction counts once
    items_read: int  # GetItem 1, BatchGetItem its keys, Query/Scan the items returned (at least 1)
    write_units: float  # table write units (transactional writes doubled)
    index_write_units: float  # global secondary index write units
    read_units: float
    written: tuple[ItemKey, ...]  # keys of the items written, in request order
    batch_size: int  # items in a batch or transaction request, else 1
    latency: tuple[float, float] | None  # the injected sleep, as perf_counter() interval
    emulator_seconds: float  # CPU time inside moto (it runs in the calling thread)
    overhead_seconds: float  # CPU time of the meter's own bookkeeping
    failed: bool
    component: str  # "core" (ingest), "projector", or "suppressions" (the suppression list's code)
    thread: str = "MainThread"  # the issuing thread's name (round trips)

    @property
    def is_write(self) -> bool:
        return self.operation in WRITE_OPERATIONS

    @property
    def is_read(self) -> bool:
        return self.operation in READ_OPERATIONS


@dataclass(frozen=True)
class _PlannedWrite:
    table: str
    key: dict[str, Any]
    transactional: bool


class Backend:
    """Read-only access to moto's in-memory DynamoDB, for item images and index schemas."""

    def __init__(self, account_id: str, region: str) -> None:
        self._account_id = account_id
        self._region = region
        self._indexes: dict[str, tuple[capacity.IndexSchema, ...]] = {}

    def _backend(self) -> Any:
        models: Any = importlib.import_module("moto.dynamodb.models")
        return models.dynamodb_backends[self._account_id][self._region]

    def image(self, table: str, key: Mapping[str, Any]) -> capacity.Image | None:
        try:
            item = self._backend().get_item(table, dict(key))
        except Exception:  # a malformed key: moto answers the request with the error
            return None
        if item is None:
            return None
        return capacity.Image.of(item.attrs, self.indexes(table))

    def key_names(self, table: str) -> tuple[str, str | None]:
        schema = self._backend().get_table(table)
        return schema.hash_key_attr, schema.range_key_attr

    def indexes(self, table: str) -> tuple[capacity.IndexSchema, ...]:
        """The table's global secondary indexes: keys and projection, as created."""
        if table not in self._indexes:
            schema = self._backend().get_table(table)
            table_keys = tuple(k for k in (schema.hash_key_attr, schema.range_key_attr) if k)
            found: list[capacity.IndexSchema] = []
            for index in schema.global_indexes or []:
                names = {part["KeyType"]: part["AttributeName"] for part in index.schema}
                projection = index.projection or {}
                found.append(
                    capacity.IndexSchema(
                        partition=names["HASH"],
                        sort=names.get("RANGE"),
                        projection=projection.get("ProjectionType", "ALL"),
                        included=tuple(projection.get("NonKeyAttributes", ())),
                        table_keys=table_keys,
                    )
                )
            self._indexes[table] = tuple(found)
        return self._indexes[table]


def _string_key(key: Mapping[str, Any], names: tuple[str, str | None]) -> ItemKey:
    partition, sort = names
    pk = next(iter(key[partition].values())) if partition in key else ""
    sk = next(iter(key[sort].values())) if sort and sort in key else ""
    return str(pk), str(sk)


class Meter:
    """Install with ``installed()``; read ``records`` (or ``since(mark)``) afterwards."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self._lock = threading.Lock()
        self.records: list[Request] = []
        self.latency_seconds = 0.0
        self.paused = False
        self.current_phase = "core"

    # --- windows ------------------------------------------------------------

    def mark(self) -> int:
        return len(self.records)

    def since(self, mark: int) -> list[Request]:
        return self.records[mark:]

    @contextmanager
    def pause(self) -> Iterator[None]:
        previous, self.paused = self.paused, True
        try:
            yield
        finally:
            self.paused = previous

    @contextmanager
    def latency(self, seconds: float) -> Iterator[None]:
        previous, self.latency_seconds = self.latency_seconds, seconds
        try:
            yield
        finally:
            self.latency_seconds = previous

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Requests made meanwhile belong to ``name`` ("core": the ingest, "projector")."""
        previous, self.current_phase = self.current_phase, name
        try:
            yield
        finally:
            self.current_phase = previous

    @contextmanager
    def installed(self) -> Iterator[None]:
        client_class: Any = BaseClient
        original: Callable[[BaseClient, str, dict[str, Any]], Any] = client_class._make_api_call
        meter = self

        def call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            return meter._call(original, client, operation, params)

        client_class._make_api_call = call
        try:
            yield
        finally:
            client_class._make_api_call = original

    # --- the wrapper ----------------------------------------------------------

    def _call(
        self,
        original: Callable[[BaseClient, str, dict[str, Any]], Any],
        client: BaseClient,
        operation: str,
        params: dict[str, Any],
    ) -> Any:
        is_dynamodb = client.meta.service_model.service_name == "dynamodb"
        metered = is_dynamodb and not self.paused and operation in WRITE_OPERATIONS | READ_OPERATIONS
        interval: tuple[float, float] | None = None
        if metered and self.latency_seconds > 0:
            started = time.perf_counter()
            time.sleep(self.latency_seconds)  # outside the lock: concurrent requests overlap
            interval = (started, time.perf_counter())
        with self._lock:
            if not metered:
                return original(client, operation, params)
            locked = time.thread_time()
            component = _component(self.current_phase)
            planned = _planned_writes(operation, params)
            before = [self._backend.image(w.table, w.key) for w in planned]
            started = time.thread_time()
            failed = False
            response: Any = None
            try:
                response = original(client, operation, params)
            except Exception:
                failed = True
                raise
            finally:
                elapsed = time.thread_time() - started
                after = before if failed else [self._backend.image(w.table, w.key) for w in planned]
                request = self._record(operation, params, response, planned, before, after, interval, failed)
                overhead = time.thread_time() - locked - elapsed
                self.records.append(
                    replace(
                        request,
                        emulator_seconds=elapsed,
                        overhead_seconds=overhead,
                        component=component,
                        thread=threading.current_thread().name,
                    )
                )
            return response

    def _record(
        self,
        operation: str,
        params: Mapping[str, Any],
        response: Any,
        planned: Sequence[_PlannedWrite],
        before: Sequence[capacity.Image | None],
        after: Sequence[capacity.Image | None],
        interval: tuple[float, float] | None,
        failed: bool,
    ) -> Request:
        write_units = 0.0
        index_units = 0.0
        written: list[ItemKey] = []
        for write, old, new in zip(planned, before, after, strict=True):
            write_units += capacity.write_units(
                old.size if old else 0, new.size if new else 0, transactional=write.transactional
            )
            index_units += capacity.index_write_units(old, new, changed=not failed)
            written.append(_string_key(write.key, self._backend.key_names(write.table)))
        items_read, read_units = _reads(operation, params, response)
        return Request(
            operation=operation,
            items_written=len(planned),
            items_read=items_read,
            write_units=write_units,
            index_write_units=index_units,
            read_units=read_units,
            written=tuple(written),
            batch_size=max(len(planned), _batch_read_size(operation, params), 1),
            latency=interval,
            emulator_seconds=0.0,
            overhead_seconds=0.0,
            failed=failed,
            component="core",
        )


_SUPPRESSION_MODULES = ("suppression.py", "suppressions.py")


def _component(phase: str) -> str:
    """Which part of the code under test issued the request: the suppression list's code (found
    on the caller's stack) or else the phase the runner is in."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename.endswith(_SUPPRESSION_MODULES) and "tracker" in frame.f_code.co_filename:
            return "suppressions"
        frame = frame.f_back  # type: ignore[assignment]
    return phase


def _planned_writes(operation: str, params: Mapping[str, Any]) -> list[_PlannedWrite]:
    if operation == "PutItem":
        return [_PlannedWrite(params["TableName"], _key_of_put(params), False)]
    if operation in ("UpdateItem", "DeleteItem"):
        return [_PlannedWrite(params["TableName"], dict(params["Key"]), False)]
    if operation == "BatchWriteItem":
        planned = []
        for table, requests in params.get("RequestItems", {}).items():
            for request in requests:
                if "PutRequest" in request:
                    planned.append(_PlannedWrite(table, _key_of_put(request["PutRequest"]), False))
                else:
                    planned.append(_PlannedWrite(table, dict(request["DeleteRequest"]["Key"]), False))
        return planned
    if operation == "TransactWriteItems":
        planned = []
        for entry in params.get("TransactItems", []):
            (action, body), *_ = entry.items()
            key = _key_of_put(body) if action == "Put" else dict(body["Key"])
            planned.append(_PlannedWrite(body["TableName"], key, True))
        return planned
    return []


def _key_of_put(body: Mapping[str, Any]) -> dict[str, Any]:
    # The table's key attributes are inside the item; the whole item is a superset of the key and
    # moto's get_item picks the key attributes out of it.
    return dict(body["Item"])


def _batch_read_size(operation: str, params: Mapping[str, Any]) -> int:
    if operation == "BatchGetItem":
        return sum(len(spec.get("Keys", [])) for spec in params.get("RequestItems", {}).values())
    if operation == "TransactGetItems":
        return len(params.get("TransactItems", []))
    return 0


def _reads(operation: str, params: Mapping[str, Any], response: Any) -> tuple[int, float]:
    """(item-level read requests, read units) of one request."""
    if operation not in READ_OPERATIONS:
        return 0, 0.0
    body: Mapping[str, Any] = response or {}
    consistent = bool(params.get("ConsistentRead")) and "IndexName" not in params
    if operation == "GetItem":
        return 1, capacity.read_units(capacity.item_size(body.get("Item")), consistent=consistent)
    if operation == "BatchGetItem":
        items = 0
        units = 0.0
        for table, spec in params.get("RequestItems", {}).items():
            found = list(body.get("Responses", {}).get(table, []))
            table_consistent = bool(spec.get("ConsistentRead"))
            items += len(spec.get("Keys", []))
            units += sum(
                capacity.read_units(capacity.item_size(i), consistent=table_consistent) for i in found
            )
            missing = len(spec.get("Keys", [])) - len(found)
            units += missing * capacity.read_units(0, consistent=table_consistent)
        return items, units
    if operation == "TransactGetItems":
        found = [r.get("Item") for r in body.get("Responses", [])]
        units = sum(
            capacity.read_units(capacity.item_size(i), consistent=True, transactional=True) for i in found
        )
        return len(params.get("TransactItems", [])), units
    items_returned = list(body.get("Items", []))
    total = sum(capacity.item_size(i) for i in items_returned)
    return max(1, len(items_returned)), capacity.read_units(total, consistent=consistent)


@dataclass
class Tally:
    """Sums over a list of requests."""

    requests: int = 0
    write_requests: int = 0
    read_requests: int = 0
    items_written: int = 0
    items_read: int = 0
    write_units: float = 0.0
    index_write_units: float = 0.0
    read_units: float = 0.0
    by_operation: dict[str, int] = field(default_factory=dict)
    items_by_operation: dict[str, int] = field(default_factory=dict)
    emulator_seconds: float = 0.0
    overhead_seconds: float = 0.0

    @classmethod
    def of(cls, requests: Sequence[Request]) -> Tally:
        tally = cls()
        for request in requests:
            tally.requests += 1
            tally.write_requests += request.is_write
            tally.read_requests += request.is_read
            tally.items_written += request.items_written
            tally.items_read += request.items_read
            tally.write_units += request.write_units
            tally.index_write_units += request.index_write_units
            tally.read_units += request.read_units
            tally.by_operation[request.operation] = tally.by_operation.get(request.operation, 0) + 1
            items = request.items_written or request.items_read
            tally.items_by_operation[request.operation] = (
                tally.items_by_operation.get(request.operation, 0) + items
            )
            tally.emulator_seconds += request.emulator_seconds
            tally.overhead_seconds += request.overhead_seconds
        return tally


POOL_THREAD_PREFIX = "ThreadPoolExecutor-"


def round_trips(requests: Sequence[Request]) -> float:
    """Sequential round trips as against DynamoDB, where a request's latency dwarfs the work:
    requests one thread issues follow one another; the threads of one pool (each pool a
    ``ThreadPoolExecutor``, its threads named ``ThreadPoolExecutor-<pool>_<n>``) run side by
    side, so a pool adds as many round trips as its busiest thread issued.

    Counted from who issued what, not from the clock: moto answers one request at a time, and
    requests queued for it would otherwise look sequential."""
    sequential = 0
    pools: dict[str, Counter[str]] = defaultdict(Counter)
    for request in requests:
        if request.thread.startswith(POOL_THREAD_PREFIX):
            pool, _, worker = request.thread.rpartition("_")
            pools[pool][worker] += 1
        else:
            sequential += 1
    return float(sequential + sum(max(workers.values()) for workers in pools.values()))
