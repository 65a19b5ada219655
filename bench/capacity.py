"""DynamoDB item sizes and capacity units, computed by DynamoDB's published rules.

moto answers ``ReturnConsumedCapacity`` with fixed placeholder numbers (e.g. 1.0 per request,
whatever the item size), so the bench computes capacity from the item sizes instead:

* item size: attribute names plus values (strings and binaries by length in UTF-8 bytes; numbers
  ~1 byte per 2 significant digits + 1; null and booleans 1 byte; lists and maps 3 bytes plus
  1 byte per element; sets the sum of their elements).
* writes: ``ceil(size / 1 KB)`` write units per item, the larger of the item before and after the
  write, at least 1 (a failed condition still consumes them); twice that inside
  ``TransactWriteItems`` (ConditionCheck included, charged like a transactional write).
* global secondary indexes: an index entry holds the index and table keys and the projected
  attributes (``KEYS_ONLY``: none; ``INCLUDE``: the listed ones; ``ALL``: every one), and its size
  is theirs + 100 bytes. A write costs ``ceil(entry size / 1 KB)`` index write units when it puts
  an entry (a new key, or a changed projected attribute), the same for the entry it removes (the
  key gone or changed: a delete and a put), and nothing in an index whose key and projected
  attributes it leaves as they were (an open that rewrites a recipient under a ``KEYS_ONLY`` index
  writes no entry); not doubled for transactions.
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
class IndexSchema:
    """One global secondary index as the table defines it."""

    partition: str
    sort: str | None
    projection: str  # "KEYS_ONLY" | "INCLUDE" | "ALL"
    included: tuple[str, ...] = ()
    table_keys: tuple[str, ...] = ("pk", "sk")


@dataclass(frozen=True)
class IndexEntry:
    """What an item puts into one index: the entry's key, its projected content and its size."""

    key: tuple[Any, Any]
    content: tuple[Any, ...]  # the projected non-key attributes' values (ALL: the whole item)
    size: int  # bytes, the 100-byte overhead included


@dataclass(frozen=True)
class Image:
    """What capacity needs of one item version: its size and its entry in each index."""

    size: int
    entries: tuple[IndexEntry | None, ...]  # per global secondary index, None if not in it

    @classmethod
    def of(cls, attributes: Mapping[str, Any], indexes: Sequence[IndexSchema]) -> Image:
        """``attributes``: wire-format values or moto's in-memory ones (see ``value_size``)."""
        sizes = {name: len(name.encode("utf-8")) + value_size(value) for name, value in attributes.items()}
        size = sum(sizes.values())
        return cls(size, tuple(_entry(attributes, sizes, size, index) for index in indexes))


def _entry(
    attributes: Mapping[str, Any], sizes: Mapping[str, int], size: int, index: IndexSchema
) -> IndexEntry | None:
    key_names = (index.partition, index.sort) if index.sort else (index.partition,)
    if any(name not in attributes for name in key_names):
        return None  # sparse: an item without the index key is not in the index
    key = (_plain(attributes[index.partition]), _plain(attributes[index.sort]) if index.sort else None)
    if index.projection == "ALL":
        content = tuple(sorted((name, _plain(value)) for name, value in attributes.items()))
        return IndexEntry(key, content, size + INDEX_ENTRY_OVERHEAD_BYTES)
    projected = index.included if index.projection == "INCLUDE" else ()
    names = {*key_names, *index.table_keys, *projected}
    content = tuple((name, _plain(attributes[name])) for name in projected if name in attributes)
    entry_size = sum(sizes[name] for name in names if name in sizes) + INDEX_ENTRY_OVERHEAD_BYTES
    return IndexEntry(key, content, entry_size)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        (kind, raw), *_ = value.items()
    else:
        kind, raw = value.type, value.value
    if kind in ("SS", "NS", "BS"):
        return (kind, tuple(sorted(str(v) for v in raw)))
    return (kind, _hashable(raw))


def _hashable(raw: Any) -> Any:
    if isinstance(raw, Mapping):
        return tuple(sorted((k, _plain(v)) for k, v in raw.items()))
    if isinstance(raw, list):
        return tuple(_plain(v) if isinstance(v, Mapping) or hasattr(v, "type") else v for v in raw)
    if isinstance(raw, set | frozenset):
        return tuple(sorted(raw))
    return raw


def entry_units(entry: IndexEntry) -> int:
    return max(1, math.ceil(entry.size / WRITE_UNIT_BYTES))


def index_write_units(before: Image | None, after: Image | None, *, changed: bool) -> float:
    """Write units the table's global secondary indexes consume for one item write."""
    if not changed:
        return 0.0  # e.g. a failed condition: nothing to propagate
    reference = before or after
    units = 0.0
    for position in range(len(reference.entries) if reference is not None else 0):
        old = before.entries[position] if before else None
        new = after.entries[position] if after else None
        if new is not None and (old is None or old.key != new.key or old.content != new.content):
            units += entry_units(new)  # an entry put (new, moved or with changed projected values)
        if old is not None and (new is None or old.key != new.key):
            units += entry_units(old)  # an entry removed
    return units
