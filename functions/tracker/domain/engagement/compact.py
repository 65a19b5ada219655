"""A compact binary form of merged address intervals, for Apple's ranges as the refresher stores them.

Parsing Apple's egress CSV (hundreds of thousands of lines) takes seconds, too long for the ingest
function's first bare-agent event; this form holds the already merged intervals as fixed-width
big-endian integers, column by column, gzipped. Loading is decompression plus ``array``
conversions: no per-line parsing. IPv6 intervals that are whole /64s or larger (all of Apple's)
are kept as their upper 64 bits, which halves the payload and spares building 128-bit integers.

Layout of the decompressed payload (version 1)::

    magic b"TRKRANGES" | version u8 | prefixes u64 | IPv4 count u32 | IPv6 count u32 | IPv6 shift u8
    IPv4 starts (u32 each) | IPv4 ends (u32 each)
    shift 64: IPv6 starts, ends (upper 64 bits, u64 each)
    shift 0:  IPv6 starts high, starts low, ends high, ends low (u64 each, one column after another)

gzip's CRC-32 and length trailer catch corruption and truncation; the counts must match the
payload's length exactly, and the intervals must be sorted and disjoint, or the blob is refused.
"""

from __future__ import annotations

import operator
import struct
import sys
import zlib
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice

MAGIC = b"TRKRANGES"
VERSION = 1
_HEADER = struct.Struct(">9sBQIIB")
_LOW_64 = (1 << 64) - 1
# Far above any plausible list (4 million IPv6 intervals) and a bound on what a bad blob can cost.
MAX_PAYLOAD_BYTES = 64 * 1024 * 1024
_GZIP = 31  # zlib's wbits for the gzip container (header, CRC-32 and length trailer)
# array's typecodes are platform-sized: "I" is 4 bytes wherever CPython runs Lambda, "L" elsewhere.
_U32 = "I" if array("I").itemsize == 4 else "L"
_U64 = "Q"


@dataclass(frozen=True)
class Intervals:
    """Sorted, disjoint, inclusive ``[start, end]`` intervals of one IP version, counted in
    blocks of ``2**shift`` addresses: block ``b`` covers addresses ``b << shift`` to
    ``(b << shift) | (2**shift - 1)``, so an address ``a`` is looked up as ``a >> shift``."""

    starts: Sequence[int]  # a list, or an array as decoded (bisect searches either)
    ends: Sequence[int]
    shift: int = 0

    def in_blocks_of_64(self) -> Intervals | None:
        """The same intervals with ``shift`` 64, or None when one is not whole /64s."""
        if self.shift == 64:
            return self
        if self.shift != 0:
            return None
        if any(start & _LOW_64 for start in self.starts) or any(
            end & _LOW_64 != _LOW_64 for end in self.ends
        ):
            return None
        return Intervals([s >> 64 for s in self.starts], [e >> 64 for e in self.ends], 64)

    def exact(self) -> Intervals:
        """The same intervals with ``shift`` 0 (one block per address)."""
        if self.shift == 0:
            return self
        low = (1 << self.shift) - 1
        return Intervals([s << self.shift for s in self.starts], [(e << self.shift) | low for e in self.ends])


def _column(typecode: str, values: Sequence[int]) -> bytes:
    column = array(typecode, values)
    if sys.byteorder == "little":
        column.byteswap()
    return column.tobytes()


def _read_column(typecode: str, data: memoryview) -> array[int]:
    # Kept as an array, not a list: no Python int per value until a lookup reads it.
    column = array(typecode)
    column.frombytes(data)
    if sys.byteorder == "little":
        column.byteswap()
    return column


def encode(prefixes: int, v4: Intervals, v6: Intervals) -> bytes:
    """The gzipped payload; equal ranges give equal bytes (no timestamp in the gzip header)."""
    v4 = v4.exact()
    blocks = v6.in_blocks_of_64()
    if blocks is not None:
        v6_columns = [_column(_U64, blocks.starts), _column(_U64, blocks.ends)]
    else:
        v6 = v6.exact()
        v6_columns = [
            _column(_U64, [start >> 64 for start in v6.starts]),
            _column(_U64, [start & _LOW_64 for start in v6.starts]),
            _column(_U64, [end >> 64 for end in v6.ends]),
            _column(_U64, [end & _LOW_64 for end in v6.ends]),
        ]
    header = _HEADER.pack(
        MAGIC, VERSION, prefixes, len(v4.starts), len(v6.starts), 0 if blocks is None else 64
    )
    payload = b"".join([header, _column(_U32, v4.starts), _column(_U32, v4.ends), *v6_columns])
    compressor = zlib.compressobj(6, zlib.DEFLATED, _GZIP)
    return compressor.compress(payload) + compressor.flush()


def _decompress(blob: bytes) -> bytes:
    decompressor = zlib.decompressobj(_GZIP)
    try:
        payload = decompressor.decompress(blob, MAX_PAYLOAD_BYTES)
    except zlib.error as error:
        raise ValueError(f"not a compact ranges blob: {error}") from error
    if decompressor.unconsumed_tail:
        raise ValueError(f"compact ranges blob larger than {MAX_PAYLOAD_BYTES} bytes")
    if not decompressor.eof:
        raise ValueError("compact ranges blob is truncated")
    if decompressor.unused_data:
        raise ValueError("compact ranges blob has trailing data")
    return payload


def _checked(version: int, intervals: Intervals) -> Intervals:
    starts, ends = intervals.starts, intervals.ends
    # map(operator...) keeps the loop in C: this runs on the ingest function's first bare-agent event.
    if not all(map(operator.le, starts, ends)) or not all(map(operator.lt, ends, islice(starts, 1, None))):
        raise ValueError(f"compact ranges blob: IPv{version} intervals are not sorted and disjoint")
    return intervals


def decode(blob: bytes) -> tuple[int, Intervals, Intervals]:
    """(prefixes, IPv4 intervals, IPv6 intervals) of an ``encode`` result; ValueError if it is not one."""
    payload = memoryview(_decompress(blob))
    if len(payload) < _HEADER.size:
        raise ValueError("compact ranges blob: no header")
    magic, version, prefixes, n4, n6, shift = _HEADER.unpack_from(payload)
    if magic != MAGIC:
        raise ValueError("compact ranges blob: wrong magic")
    if version != VERSION:
        raise ValueError(f"compact ranges blob of version {version}; this code reads {VERSION}")
    if shift not in (0, 64):
        raise ValueError(f"compact ranges blob: IPv6 shift {shift}")
    v6_width = 16 if shift == 64 else 32
    if len(payload) != _HEADER.size + 8 * n4 + v6_width * n6:
        raise ValueError("compact ranges blob: the counts do not match its length")

    v4_starts = _read_column(_U32, payload[_HEADER.size : _HEADER.size + 4 * n4])
    v4_ends = _read_column(_U32, payload[_HEADER.size + 4 * n4 : _HEADER.size + 8 * n4])
    v6_data = payload[_HEADER.size + 8 * n4 :]
    v6_columns = [_read_column(_U64, v6_data[8 * n6 * i : 8 * n6 * (i + 1)]) for i in range(v6_width // 8)]
    if shift == 64:
        v6 = Intervals(v6_columns[0], v6_columns[1], 64)
    else:
        starts_high, starts_low, ends_high, ends_low = v6_columns
        v6 = Intervals(
            [(high << 64) | low for high, low in zip(starts_high, starts_low, strict=True)],
            [(high << 64) | low for high, low in zip(ends_high, ends_low, strict=True)],
        )
    return prefixes, _checked(4, Intervals(v4_starts, v4_ends)), _checked(6, v6)
