"""Address lookups: Apple's ranges (its own block and the iCloud Private Relay egress list) and the
published networks of link-scanning mail gateways.

Both are sorted, non-overlapping integer intervals searched with ``bisect``: one ``ip_address``
parse and one binary search per lookup, whatever the size of the list (Apple's egress file has
hundreds of thousands of prefixes).
"""

from __future__ import annotations

import bisect
import ipaddress
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from tracker.domain.engagement import compact

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Apple's own /8 (ARIN registration APPLE-WWNET): MPP fetches come from here as well as from the
# Private Relay egress ranges, so it is always part of AppleRanges, whatever the CSV holds.
APPLE_BLOCK = "17.0.0.0/8"
SNAPSHOT_FILE = "apple_ranges.csv"
APPLE_LABEL = "apple"


class AddressSet(Protocol):
    """What the classifier asks of Apple's ranges: an AppleRanges, or a provider that loads one."""

    def __contains__(self, address: object) -> bool: ...


def parse_address(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address SES reported, or None when it is missing or not an IP address."""
    if not text:
        return None
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


class _Intervals:
    """Disjoint [start, end] integer intervals of one IP version, each with a label; values may be
    kept in blocks of ``2**shift`` addresses (``compact.Intervals``), so a lookup shifts first."""

    _starts: Sequence[int]
    _ends: Sequence[int]
    _labels: list[str]
    _shift: int

    def __init__(self, rows: Iterable[tuple[int, int, str]]) -> None:
        spans = sorted(rows)
        merged: list[tuple[int, int, str]] = []
        for start, end, label in spans:
            if merged and start <= merged[-1][1] + 1 and label == merged[-1][2]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]), label)
            elif merged and start <= merged[-1][1]:
                raise ValueError(f"networks of {merged[-1][2]!r} and {label!r} overlap")
            else:
                merged.append((start, end, label))
        self._starts = [start for start, _, _ in merged]
        self._ends = [end for _, end, _ in merged]
        self._labels = [label for _, _, label in merged]
        self._shift = 0

    @classmethod
    def of_one_label(cls, intervals: compact.Intervals, label: str) -> _Intervals:
        """From intervals already sorted, disjoint and merged (``compact.decode`` checked them)."""
        table = cls.__new__(cls)
        table._starts, table._ends, table._shift = intervals.starts, intervals.ends, intervals.shift
        table._labels = [label] * len(intervals.starts)
        return table

    def bounds(self) -> compact.Intervals:
        return compact.Intervals(list(self._starts), list(self._ends), self._shift)

    def labels(self) -> frozenset[str]:
        return frozenset(self._labels)

    def label_of(self, value: int) -> str | None:
        value >>= self._shift
        index = bisect.bisect_right(self._starts, value) - 1
        if index >= 0 and value <= self._ends[index]:
            return self._labels[index]
        return None

    def __len__(self) -> int:
        return len(self._starts)


class AddressTable:
    """Networks, each with a label; ``label_of(address)`` finds the one that contains an address."""

    def __init__(self, rows: Iterable[tuple[str | IPNetwork, str]]) -> None:
        spans = []
        for network, label in rows:
            net = ipaddress.ip_network(network, strict=False) if isinstance(network, str) else network
            spans.append((net.version, int(net.network_address), int(net.broadcast_address), label))
        self._build(spans)

    @classmethod
    def from_spans(cls, spans: Iterable[tuple[int, int, int, str]]) -> AddressTable:
        """From (IP version, first address, last address, label) integer spans."""
        table = cls.__new__(cls)
        table._build(spans)
        return table

    def _build(self, spans: Iterable[tuple[int, int, int, str]]) -> None:
        v4: list[tuple[int, int, str]] = []
        v6: list[tuple[int, int, str]] = []
        for version, start, end, label in spans:
            (v4 if version == 4 else v6).append((start, end, label))
        self._v4 = _Intervals(v4)
        self._v6 = _Intervals(v6)

    @classmethod
    def of_one_label(cls, v4: compact.Intervals, v6: compact.Intervals, label: str) -> AddressTable:
        """From merged intervals of a single label (the compact form of Apple's ranges)."""
        table = cls.__new__(cls)
        table._v4 = _Intervals.of_one_label(v4, label)
        table._v6 = _Intervals.of_one_label(v6, label)
        return table

    def intervals(self) -> tuple[compact.Intervals, compact.Intervals]:
        """The merged IPv4 and IPv6 intervals (labels aside)."""
        return self._v4.bounds(), self._v6.bounds()

    def labels(self) -> frozenset[str]:
        return self._v4.labels() | self._v6.labels()

    def label_of(self, address: str | ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> str | None:
        ip = parse_address(address) if isinstance(address, str | None) else address
        if ip is None:
            return None
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        table = self._v4 if ip.version == 4 else self._v6
        return table.label_of(int(ip))

    def __len__(self) -> int:
        return len(self._v4) + len(self._v6)


def prefix_span(prefix: str) -> tuple[int, int, int]:
    """(IP version, first address, last address) of a prefix such as ``172.224.224.0/27``.

    ``socket.inet_pton`` instead of ``ipaddress.ip_network``: Apple's list has hundreds of
    thousands of lines, and this is several times faster per line.
    """
    address, _, length_text = prefix.partition("/")
    family, bits = (socket.AF_INET6, 128) if ":" in address else (socket.AF_INET, 32)
    try:
        value = int.from_bytes(socket.inet_pton(family, address), "big")
    except OSError as error:
        raise ValueError(f"{address!r} is not an IP address") from error
    length = int(length_text) if length_text else bits
    if not 0 <= length <= bits:
        raise ValueError(f"/{length} is not a prefix length of IPv{4 if bits == 32 else 6}")
    host = (1 << (bits - length)) - 1
    start = value & ~host
    return (4 if bits == 32 else 6, start, start | host)


def parse_egress_csv(text: str) -> list[tuple[int, int, int]]:
    """The prefixes of Apple's egress list (``prefix,country,region,city,`` per line, RFC 8805),
    as ``prefix_span`` spans.

    Blank lines and ``#`` comments are skipped; a line whose first field is not a network raises
    ValueError with its line number, so a truncated or wrong download is refused as a whole.
    """
    spans: list[tuple[int, int, int]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        prefix = line.split(",", 1)[0].strip()
        try:
            spans.append(prefix_span(prefix))
        except ValueError as error:
            raise ValueError(f"line {number}: {prefix!r} is not an IP network") from error
    return spans


@dataclass(frozen=True)
class AppleRanges:
    """Apple's addresses: 17.0.0.0/8 plus the iCloud Private Relay egress prefixes."""

    table: AddressTable
    prefixes: int

    @classmethod
    def from_csv(cls, text: str) -> AppleRanges:
        """From the text of Apple's egress CSV (a refreshed download or the shipped snapshot)."""
        spans = parse_egress_csv(text)
        rows = [(*prefix_span(APPLE_BLOCK), APPLE_LABEL)] + [(*span, APPLE_LABEL) for span in spans]
        return cls(AddressTable.from_spans(rows), len(spans))

    def to_compact(self) -> bytes:
        """The merged intervals in ``compact``'s form: what the refresher stores, and what
        ``from_compact`` loads in milliseconds where ``from_csv`` would parse for seconds."""
        if self.table.labels() - {APPLE_LABEL}:
            raise ValueError("only Apple's ranges have a compact form")
        v4, v6 = self.table.intervals()
        return compact.encode(self.prefixes, v4, v6)

    @classmethod
    def from_compact(cls, blob: bytes) -> AppleRanges:
        """From ``to_compact``'s bytes; ValueError when they are corrupt, truncated or of another
        format version (the caller then keeps what it has)."""
        prefixes, v4, v6 = compact.decode(blob)
        return cls(AddressTable.of_one_label(v4, v6, APPLE_LABEL), prefixes)

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, str | ipaddress.IPv4Address | ipaddress.IPv6Address):
            return False
        return self.table.label_of(address) is not None


@cache
def default_apple_ranges() -> AppleRanges:
    """The shipped snapshot, read on first use (not at import: the import is on the cold start)."""
    from importlib import resources

    text = resources.files(__package__).joinpath(SNAPSHOT_FILE).read_text(encoding="utf-8")
    return AppleRanges.from_csv(text)


@dataclass(frozen=True)
class ScannerNetwork:
    code: str
    networks: tuple[str, ...]
    source: str


# Mail-security gateways' published sending networks. Their URL scanners fetch from the same
# networks (customers allow-list exactly these for that reason); a person's browser never does.
SCANNER_NETWORKS: tuple[ScannerNetwork, ...] = (
    ScannerNetwork(
        "scanner:defender",
        (
            "40.92.0.0/15",
            "40.107.0.0/16",
            "52.100.0.0/14",
            "104.47.0.0/17",
            "2a01:111:f400::/48",
            "2a01:111:f403::/48",
        ),
        "Microsoft: Exchange Online Protection's published SPF record spf.protection.outlook.com "
        "(the EOP ranges of 'Microsoft 365 URLs and IP address ranges')",
    ),
    ScannerNetwork(
        "scanner:mimecast",
        (
            "205.139.110.0/24",
            "207.211.30.64/26",
            "207.211.30.128/25",
            "207.211.31.0/25",
            "216.205.24.0/24",
            "216.145.221.0/24",
            "63.128.21.0/24",
            "170.10.128.0/24",
            "170.10.129.0/24",
            "170.10.132.56/29",
            "170.10.132.64/29",
            "170.10.133.0/24",
        ),
        "Mimecast: published SPF record us._netblocks.mimecast.com (US data centres)",
    ),
    ScannerNetwork(
        "scanner:proofpoint",
        ("67.231.144.0/20", "148.163.128.0/19", "205.220.160.0/19"),
        "Proofpoint: the networks of its hosted service (pphosted.com MX hosts, e.g. 205.220.168.131, "
        "148.163.150.75 and 67.231.145.42 in public mailing-list headers)",
    ),
    ScannerNetwork(
        "scanner:barracuda",
        ("64.235.144.0/20",),
        "Barracuda: published SPF record of its hosted services (64.235.144.0/20)",
    ),
)


@cache
def scanner_networks() -> AddressTable:
    return AddressTable((net, entry.code) for entry in SCANNER_NETWORKS for net in entry.networks)
