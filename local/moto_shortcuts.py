"""Shortcuts in moto's bookkeeping that change its speed, not what it stores or answers.

moto keeps its data in plain Python structures and does some of its bookkeeping in ways that cost
time proportional to the whole table per request (or worse). Local mode and the bench run moto
with these replaced by equivalents whose cost is proportional to the request:

* ``item_scoped_transactions``: a transaction backs up the items it touches, not the whole table
  once per action (a 100-action ``TransactWriteItems`` on a 5,000-item table deep-copied
  500,000 items, and kept the copies alive until it ended);
* ``partition_scoped_queries``: a table ``Query`` looks at the queried partition only;
* ``linear_item_size_checks``: the 400 KB item limit from a running size, not re-measured on
  every attribute set;
* ``direct_json_requests`` / ``direct_json_responses``: DynamoDB's data-plane JSON decoded and
  encoded with ``json`` instead of moto's shape-driven parser and serializer (and the stream's
  ``GetRecords`` answers encoded the same way: 100 records with both images took ~150 ms);
* ``cached_action_lookup``: the handler class's method names listed once per class;
* ``cached_host_lookup``: the server finds the service of a Host header once per host;
* ``bounded_stream_retention``: a table's stream keeps its latest STREAM_RECORDS_KEPT records, as
  DynamoDB keeps 24 hours of them (moto keeps every record of the process's life, with both
  images: local mode under load grew by ~3 KB per event); sequence numbers are unchanged;
* and ``local.moto_queue_shortcuts``' (SQS and SNS) and ``local.moto_request_shortcuts``'
  per-request ones (names and condition tokens remembered).

Each is a context manager that patches moto while it is open and restores it after; ``installed``
opens all of them. moto is not thread-safe and neither are these: requests must reach moto one at
a time (local mode's emulator serves one request at a time, the bench's meter holds a lock).
``tests/integration/test_moto_shortcuts.py`` sends the same requests to plain moto and to moto
with the shortcuts and requires the same answers and the same stored items.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from typing import Any

from local import moto_queue_shortcuts, moto_request_shortcuts


@contextmanager
def item_scoped_transactions() -> Iterator[None]:
    """Replace moto's whole-table transaction backup with a backup of the touched items."""
    models: Any = importlib.import_module("moto.dynamodb.models")
    table_class: Any = importlib.import_module("moto.dynamodb.models.table").Table

    original = models.DynamoDBBackend.transact_write_items
    real_copy = models.copy

    class _NoTableCopy:
        @staticmethod
        def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
            return value if isinstance(value, table_class) else real_copy.deepcopy(value, memo)

    def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
        backups: list[tuple[Any, Any, Any, Any]] = []
        try:
            for entry in transact_items:
                (action, body), *_ = entry.items()
                table = backend.get_table(body["TableName"])
                key = body["Item"] if action == "Put" else body["Key"]
                hash_value, range_value = backend.get_keys_value(table, key)
                current = table.get_item(hash_value, range_value)
                backups.append((table, hash_value, range_value, copy.deepcopy(current)))
        except Exception:
            original(backend, transact_items)  # let moto raise its validation error
            return
        models.copy = _NoTableCopy
        try:
            original(backend, transact_items)
        except BaseException:
            for table, hash_value, range_value, item in reversed(backups):
                if item is None:
                    table.delete_item(hash_value, range_value)
                elif range_value is not None:
                    table.items[hash_value][range_value] = item
                else:
                    table.items[hash_value] = item
            raise
        finally:
            models.copy = real_copy

    models.DynamoDBBackend.transact_write_items = transact_write_items
    try:
        yield
    finally:
        models.DynamoDBBackend.transact_write_items = original


@contextmanager
def linear_item_size_checks() -> Iterator[None]:
    """moto re-measures the whole item on every attribute it sets (to refuse items over 400 KB):
    quadratic in the number of attributes, ~3 ms per 25-attribute item. The bench keeps a running
    size per item instead; the limit is enforced the same way."""
    dynamo_type: Any = importlib.import_module("moto.dynamodb.models.dynamo_type")
    cls = dynamo_type.LimitedSizeDict
    original = cls.__setitem__

    def measure(key: Any, value: Any) -> int:
        value_size = (
            value.size() if type(value) is dynamo_type.DynamoType else dynamo_type.bytesize(str(value))
        )
        return int(dynamo_type.bytesize(key)) + int(value_size)

    def setitem(self: Any, key: str, value: Any) -> None:
        total = self.__dict__.get("_bench_size")
        if total is None:
            total = sum(measure(k, v) for k, v in self.items())
        if key in self:
            total -= measure(key, dict.__getitem__(self, key))
        total += measure(key, value)
        if total > 405000:
            raise dynamo_type.ItemSizeTooLarge
        dict.__setitem__(self, key, value)
        self.__dict__["_bench_size"] = total

    def invalidate(method: Any) -> Any:
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            self.__dict__.pop("_bench_size", None)
            return method(self, *args, **kwargs)

        return wrapper

    originals = {name: getattr(cls, name) for name in ("__delitem__", "pop", "update", "clear", "popitem")}
    cls.__setitem__ = setitem
    for name, method in originals.items():
        setattr(cls, name, invalidate(method))
    try:
        yield
    finally:
        cls.__setitem__ = original
        for name, method in originals.items():
            setattr(cls, name, method)


@contextmanager
def partition_scoped_queries() -> Iterator[None]:
    """Let moto's table ``Query`` look at the queried partition only.

    moto answers every Query by sorting the *whole table* and then walking every item of it, so
    one Query against a 40,000-item table takes seconds. For a table (not index) query the bench
    hands moto only the items of the queried partition that satisfy the sort key condition; the
    answer (items, order, pages, LastEvaluatedKey) is the same, since moto would have skipped
    every other item."""
    table_class: Any = importlib.import_module("moto.dynamodb.models.table").Table
    original = table_class.query
    signature = inspect.signature(original)

    def query(table: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(table, *args, **kwargs)
        hash_key = bound.arguments.get("hash_key")
        comparison = bound.arguments.get("range_comparison")
        if bound.arguments.get("index_name") or hash_key is None or not table.range_key_attr:
            return original(table, *args, **kwargs)
        partition = table.items.get(hash_key, {})
        values = bound.arguments.get("range_objs") or []
        if comparison == "BEGINS_WITH" and len(values) == 1 and values[0].type == "S":
            prefix = values[0].value  # the common case, as a plain string test
            partition = {
                key: item
                for key, item in partition.items()
                if key.type == "S" and key.value.startswith(prefix)
            }
        elif comparison:
            partition = {key: item for key, item in partition.items() if key.compare(comparison, values)}
        partition = _page_of(partition, table.range_key_attr, bound.arguments)
        everything = table.items
        table.items = {hash_key: partition} if partition else {}
        try:
            return original(table, *args, **kwargs)
        finally:
            table.items = everything

    table_class.query = query
    try:
        yield
    finally:
        table_class.query = original


def _page_of(partition: dict[Any, Any], range_key: str, arguments: dict[str, Any]) -> dict[Any, Any]:
    """Of a partition with string sort keys, the items a page can hold: those after the exclusive
    start key in the query's order, the first ``limit + 1`` of them (moto counts ``Limit`` before
    the filter expression, and sets LastEvaluatedKey when one more item exists). Without it every
    page of a 100,000-item partition sorted and walked all of it (an export paged through one in
    O(n²))."""
    limit = arguments.get("limit")
    if not limit or not partition or any(key.type != "S" for key in partition):
        return partition
    forward = arguments.get("scan_index_forward") is not False
    start = (arguments.get("exclusive_start_key") or {}).get(range_key)
    ordered = sorted(partition, key=lambda key: key.value, reverse=not forward)
    if isinstance(start, dict) and isinstance(start.get("S"), str):
        after = start["S"]
        ordered = [key for key in ordered if (key.value > after if forward else key.value < after)]
    return {key: partition[key] for key in ordered[: int(limit) + 1]}


# Data-plane operations whose moto results are plain JSON-able dicts in DynamoDB's wire format.
_DATA_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactWriteItems",
        "TransactGetItems",
    }
)


# Results moto builds in the wire format already, by service; GetRecords' only non-JSON value is
# each record's ApproximateCreationDateTime, a datetime the JSON protocol sends as epoch seconds.
_DIRECT_RESULTS = {"dynamodb": _DATA_OPERATIONS, "dynamodbstreams": frozenset({"GetRecords"})}


@contextmanager
def direct_json_responses() -> Iterator[None]:
    """Encode moto's DynamoDB data-plane results (and the stream's records) with ``json.dumps``
    instead of moto's generic, shape-driven serializer, which takes ~0.5 ms per attribute value (a
    100-item BatchGetItem answer: ~2 s). The results already are DynamoDB's JSON wire format;
    datetimes become epoch seconds as moto's serializer writes them; anything else ``json.dumps``
    cannot encode falls back to moto's serializer."""
    serialize: Any = importlib.import_module("moto.core.serialize")
    serializer_class: Any = serialize.BaseJSONSerializer
    original = serializer_class._serialize_result
    epoch_seconds = serialize.TimestampSerializer._timestamp_unixtimestamp

    def encode_datetime(value: Any) -> Any:
        if isinstance(value, datetime):
            return epoch_seconds(serialize.parse_to_aware_datetime(value))
        raise TypeError(f"{type(value).__name__} is not JSON")

    def serialize_result(serializer: Any, resp: Any, result: Any) -> Any:
        operation = serializer.operation_model
        if operation.name in _DIRECT_RESULTS.get(operation.service_model.service_name, ()) and isinstance(
            result, dict
        ):
            try:
                resp["body"] = json.dumps(result, default=encode_datetime)
            except (TypeError, ValueError):
                return original(serializer, resp, result)
            resp["headers"]["Content-Type"] = serializer._get_protocol_specific_content_type()
            return resp
        return original(serializer, resp, result)

    serializer_class._serialize_result = serialize_result
    try:
        yield
    finally:
        serializer_class._serialize_result = original


@contextmanager
def direct_json_requests() -> Iterator[None]:
    """Decode DynamoDB data-plane requests with ``json.loads`` instead of moto's shape-driven
    parser. For these operations the two agree except for binary values (base64 in JSON) and
    timestamps, which the bench's requests do not carry; a request with a binary value takes the
    parser."""
    parser_class: Any = importlib.import_module("moto.core.parse").JSONParser
    original = parser_class._do_parse

    def do_parse(parser: Any, request_dict: Any, shape: Any) -> Any:
        operation = parser.operation_model
        body = request_dict.get("body")
        if operation.service_model.service_name == "dynamodb" and operation.name in _DATA_OPERATIONS and body:
            text = body.decode("utf-8") if isinstance(body, bytes) else str(body)
            if '"B":' not in text and '"BS":' not in text:
                parsed = json.loads(text)
                if isinstance(parsed, dict):
                    return parsed
        return original(parser, request_dict, shape)

    parser_class._do_parse = do_parse
    try:
        yield
    finally:
        parser_class._do_parse = original


@contextmanager
def cached_action_lookup() -> Iterator[None]:
    """moto lists the handler class's methods with ``inspect.getmembers`` on every request (~1 ms);
    the list never changes, so the bench remembers it per class."""
    responses: Any = importlib.import_module("moto.core.responses")
    original = responses.method_names_from_class
    cache: dict[object, list[str]] = {}

    def method_names(clazz: object) -> list[str]:
        if clazz not in cache:
            cache[clazz] = original(clazz)
        return list(cache[clazz])

    responses.method_names_from_class = method_names
    try:
        yield
    finally:
        responses.method_names_from_class = original


@contextmanager
def cached_host_lookup() -> Iterator[None]:
    """moto's server lists its own package directory and tries every service's URL patterns for
    the Host header of every request (~300 regular expressions, then the same again for the host
    it infers from the signature); the answer for a host never changes, so it is remembered."""
    werkzeug_app: Any = importlib.import_module("moto.moto_server.werkzeug_app")
    dispatcher = werkzeug_app.DomainDispatcherApplication
    original = dispatcher.get_backend_for_host
    cache: dict[tuple[int, str | None], Any] = {}

    def get_backend_for_host(app: Any, host: str | None) -> Any:
        key = (id(app), host)
        if key not in cache:
            cache[key] = original(app, host)
        return cache[key]

    dispatcher.get_backend_for_host = get_backend_for_host
    try:
        yield
    finally:
        dispatcher.get_backend_for_host = original


STREAM_RECORDS_KEPT = 20_000


@contextmanager
def bounded_stream_retention(kept: int = STREAM_RECORDS_KEPT) -> Iterator[None]:
    """Trim a stream shard's oldest records once it holds twice ``kept``: a reader that fell that
    far behind reads from the oldest record left, as after DynamoDB's 24-hour trim."""
    shard_class: Any = importlib.import_module("moto.dynamodb.models.table").StreamShard
    record_class: Any = importlib.import_module("moto.dynamodb.models.table").StreamRecord
    original_add, original_get = shard_class.add, shard_class.get

    def add(shard: Any, old: Any, new: Any) -> None:
        trimmed = getattr(shard, "trimmed", 0)
        event_name = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
        seq = trimmed + len(shard.items) + shard.starting_sequence_number
        view = shard.table.stream_specification["StreamViewType"]
        shard.items.append(record_class(shard.table, view, event_name, old, new, seq))
        if len(shard.items) >= 2 * kept:
            shard.trimmed = trimmed + len(shard.items) - kept
            del shard.items[: len(shard.items) - kept]

    def get(shard: Any, start: int, quantity: int) -> list[dict[str, Any]]:
        begin = max(0, start - shard.starting_sequence_number - getattr(shard, "trimmed", 0))
        return [record.to_json() for record in shard.items[begin : begin + quantity]]

    shard_class.add, shard_class.get = add, get
    try:
        yield
    finally:
        shard_class.add, shard_class.get = original_add, original_get


@contextmanager
def installed() -> Iterator[None]:
    """Every shortcut, for as long as the context is open."""
    with ExitStack() as stack:
        for shortcut in SHORTCUTS:
            stack.enter_context(shortcut())
        yield


SHORTCUTS = (
    item_scoped_transactions,
    partition_scoped_queries,
    linear_item_size_checks,
    direct_json_requests,
    direct_json_responses,
    cached_action_lookup,
    cached_host_lookup,
    bounded_stream_retention,
    *moto_queue_shortcuts.SHORTCUTS,
    *moto_request_shortcuts.SHORTCUTS,
)
