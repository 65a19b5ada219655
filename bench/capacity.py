"""DynamoDB item sizes and capacity units, computed by DynamoDB's published rules.

moto answers ``ReturnConsumedCapacity`` with fixed placeholder numbers (e.g. 1.0 per request,
whatever the item size), so the bench computes capacity from the item sizes instead:

* item size: attribute names plus values (strings and binaries by length in UTF-8 bytes; numbers
  ~1 byte per 2 significant digits + 1; null and booleans 1 byte; lists and maps 3 bytes plus
  1 byte per element; sets the sum of their elements).
* writes: ``ceil(size / 1 KB)`` write units per item, the larger of the item before and after the
  write, at least 1 (a failed condition still consumes them); twice that inside
  ``TransactWriteItems`` (ConditionCheck included, charged like a transactional write).
* global secondary indexes (all projected ``ALL`` here): each write that puts, changes or removes
  an item in an index costs ``ceil((item size + 100 bytes) / 1 KB)`` index write units (twice when
  the index key changes: a delete and a put), not doubled for transactions.
* reads: ``GetItem`` and every item of ``BatchGetItem`` ``ceil(size / 4 KB)``, ``Query`` and
  ``Scan`` ``ceil(sum of the item sizes / 4 KB)`` (at least 1), halved when eventually
  consistent (always on an index).

Reference: Amazon DynamoDB Developer Guide, "Item sizes and formats", "DynamoDB read and write
capacity modes", "Capacity management for transactions", "Provisioned throughput
considerations for Global Secondary Indexes".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
INDEX_ENTRY_OVERHEAD_BYTES = 100

WireItem = Mapping[str, Mapping[str, Any]]


def _number_size(text: str) -> int:
    try:
        digits = Decimal(text).as_tuple().digits
    except InvalidOperation:
        return len(text)
    significant = "".join(map(str, digits)).strip("0") or "0"
    return math.ceil(len(significant) / 2) + 1


def _blob_size(value: Any) -> int:
    return len(value) if isinstance(value, bytes | bytearray) else len(str(value).encode("utf-8"))


def value_size(value: Any) -> int:
    """Size of one attribute value in DynamoDB's wire format (``{"S": "..."}``, ``{"N": "1"}``...),
    or of an object with ``type`` and ``value`` (moto's in-memory form)."""
    if isinstance(value, Mapping):
        (kind, raw), *_ = value.items()
    else:
        kind, raw = value.type, value.value
    if kind == "S":
        return len(str(raw).encode("utf-8"))
    if kind == "N":
        return _number_size(str(raw))
    if kind == "B":
        return _blob_size(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(v).encode("utf-8")) for v in raw)
    if kind == "NS":
        return sum(_number_size(str(v)) for v in raw)
    if kind == "BS":
        return sum(_blob_size(v) for v in raw)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in raw)
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + value_size(v) for k, v in raw.items())
    raise ValueError(f"unknown DynamoDB attribute type {kind!r}")


def item_size(item: WireItem | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def write_units(size_before: int, size_after: int, *, transactional: bool) -> float:
    units = max(1, math.ceil(max(size_before, size_after) / WRITE_UNIT_BYTES))
    return float(units * (2 if transactional else 1))


def read_units(total_size: int, *, consistent: bool, transactional: bool = False) -> float:
    units = max(1, math.ceil(total_size / READ_UNIT_BYTES))
    if transactional:
        return float(units * 2)
    return float(units) if consistent else units / 2


@dataclass(frozen=True)
class Image:
    """What capacity needs of one item version: its size and its key in each index."""

    size: int
    index_keys: tuple[tuple[Any, Any] | None, ...]  # per global secondary index, None if absent

    @classmethod
    def of(cls, attributes: Mapping[str, Any], indexes: Sequence[tuple[str, str]]) -> Image:
        """``attributes``: wire-format values or moto's in-memory ones (see ``value_size``)."""
        size = sum(len(name.encode("utf-8")) + value_size(value) for name, value in attributes.items())
        keys = tuple(
            (_plain(attributes[partition]), _plain(attributes[sort]))
            if partition in attributes and sort in attributes
            else None
            for partition, sort in indexes
        )
        return cls(size, keys)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(value.items())
    return (value.type, value.value)


def index_write_units(before: Image | None, after: Image | None, *, changed: bool) -> float:
    """Write units the table's global secondary indexes consume for one item write."""
    if not changed:
        return 0.0  # e.g. a failed condition: nothing to propagate
    units = 0.0

    def entry_units(image: Image) -> int:
        return max(1, math.ceil((image.size + INDEX_ENTRY_OVERHEAD_BYTES) / WRITE_UNIT_BYTES))

    reference = before or after
    count = len(reference.index_keys) if reference is not None else 0
    for position in range(count):
        key_before = before.index_keys[position] if before else None
        key_after = after.index_keys[position] if after else None
        if key_after is not None and after is not None:
            units += entry_units(after)
        if key_before is not None and before is not None and key_before != key_after:
            units += entry_units(before)
    return units
