"""The in-process AWS emulator the bench runs against: moto's ``mock_aws`` with our table.

Two bench-only adjustments to moto, neither of which changes what the code under test sends or
what DynamoDB would answer:

* calls are serialized by the meter's lock (moto is not thread-safe);
* moto backs up a transaction by deep-copying the *whole table* once per action (100 copies of
  a 40,000-item table per ``TransactWriteItems``: hours for one run). The bench backs up only the
  items the transaction touches and restores them if it is cancelled: the same all-or-nothing
  behaviour, at a cost proportional to the transaction instead of the table.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import json
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

TABLE = "delivery-tracker-bench"
ACCOUNT_ID = "123456789012"  # moto's default account
REGION = "us-east-1"

# Fake credentials before any client exists: the bench never reaches an AWS account.
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "POWERTOOLS_SERVICE_NAME": "delivery-tracker",
    "POWERTOOLS_METRICS_NAMESPACE": "DeliveryTrackerBench",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
    "TABLE_NAME": TABLE,
    "CURSOR_SECRET": "bench-cursor-secret-0123456789abcdef",
}


def configure_environment() -> None:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "DYNAMODB_ENDPOINT_URL"):
        os.environ.pop(name, None)
    os.environ.update(ENVIRONMENT)
    # Powertools warns once per invocation that a batch published no metric (e.g. only duplicates).
    warnings.filterwarnings("ignore", message="No application metrics to publish")


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


@contextmanager
def direct_json_responses() -> Iterator[None]:
    """Encode moto's DynamoDB data-plane results with ``json.dumps`` instead of moto's generic,
    shape-driven serializer, which takes ~0.5 ms per attribute value (a 100-item BatchGetItem
    answer: ~2 s). The results already are DynamoDB's JSON wire format; anything ``json.dumps``
    cannot encode falls back to moto's serializer."""
    serializer_class: Any = importlib.import_module("moto.core.serialize").BaseJSONSerializer
    original = serializer_class._serialize_result

    def serialize_result(serializer: Any, resp: Any, result: Any) -> Any:
        operation = serializer.operation_model
        if (
            operation.service_model.service_name == "dynamodb"
            and operation.name in _DATA_OPERATIONS
            and isinstance(result, dict)
        ):
            try:
                resp["body"] = json.dumps(result)
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
def emulated_table() -> Iterator[None]:
    """moto with the tracker's table created and bound to every model (and the handlers' caches
    cleared, so they bind to it too)."""
    import boto3
    from moto import mock_aws

    from tracker.dal.models import bind_table, table_schema

    with (
        mock_aws(),
        item_scoped_transactions(),
        partition_scoped_queries(),
        linear_item_size_checks(),
        direct_json_requests(),
        direct_json_responses(),
        cached_action_lookup(),
    ):
        bind_table(TABLE, region=REGION)
        boto3.client("dynamodb", region_name=REGION).create_table(**table_schema())
        _clear_handler_caches()
        try:
            yield
        finally:
            _clear_handler_caches()


def _clear_handler_caches() -> None:
    from tracker.handlers import ingest

    ingest.default_ingestor.cache_clear()
    try:
        from tracker.handlers import api
    except ImportError:
        return
    api.default_app.cache_clear()
