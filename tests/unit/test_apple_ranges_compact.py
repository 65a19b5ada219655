"""The compact form of Apple's ranges: what the refresher stores and the ingest function loads.

It must answer every lookup exactly as the CSV it came from, and refuse any blob that is not what
``to_compact`` wrote (a corrupt, truncated or foreign one), so the caller can keep what it has.
"""

from __future__ import annotations

import gzip
import ipaddress
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.apple_ranges import egress_csv, synthetic_egress_csv
from tracker.domain.engagement import AppleRanges, classify_fetch, compact, default_apple_ranges
from tracker.domain.engagement.networks import scanner_networks

V4 = st.builds(
    lambda address, length: str(ipaddress.ip_network((address, length), strict=False)),
    st.integers(0, 2**32 - 1),
    st.integers(8, 32),
)
# Whole /64s or larger (Apple's shape: stored in blocks of 64 bits) ...
V6_BLOCKS = st.builds(
    lambda address, length: str(ipaddress.ip_network((address << 64, length), strict=False)),
    st.integers(0, 2**64 - 1),
    st.integers(16, 64),
)
# ... and longer prefixes, which make the form keep full 128-bit values.
V6_ANY = st.builds(
    lambda address, length: str(ipaddress.ip_network((address, length), strict=False)),
    st.integers(0, 2**128 - 1),
    st.integers(16, 128),
)


def probes_around(prefixes: list[str]) -> list[str]:
    """Each prefix's first and last address and their outside neighbours."""
    probes = []
    for prefix in prefixes:
        network = ipaddress.ip_network(prefix)
        first, last = int(network.network_address), int(network.broadcast_address)
        top = 2**network.max_prefixlen - 1
        for value in (first - 1, first, last, last + 1):
            if 0 <= value <= top:
                probes.append(
                    str(ipaddress.ip_address(value) if network.version == 4 else ipaddress.IPv6Address(value))
                )
    return probes


def in_any(address: str, prefixes: list[str]) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # looked up as IPv4, as the classifier does
    apple = ipaddress.ip_network("17.0.0.0/8")
    return (ip.version == 4 and ip in apple) or any(
        ip.version == ipaddress.ip_network(p).version and ip in ipaddress.ip_network(p) for p in prefixes
    )


def test_the_snapshot_round_trips_with_its_prefix_count_and_apples_block() -> None:
    snapshot = default_apple_ranges()
    blob = snapshot.to_compact()
    loaded = AppleRanges.from_compact(blob)
    assert loaded.prefixes == snapshot.prefixes == 12
    assert len(loaded.table) == len(snapshot.table)
    for address in (
        "17.0.0.0",
        "17.255.255.255",
        "172.225.46.127",
        "2a02:26f7:b3c0:4000::1",
        "::ffff:17.1.2.3",
    ):
        assert address in loaded, address
    for address in ("16.255.255.255", "18.0.0.0", "172.225.46.128", "2a02:26f7:b3c0:4001::"):
        assert address not in loaded, address
    assert loaded.to_compact() == blob  # the same ranges, the same bytes


def test_a_loaded_list_classifies_as_the_csv_does() -> None:
    refreshed = AppleRanges.from_compact(AppleRanges.from_csv(egress_csv(["203.0.113.0/24"])).to_compact())
    assert classify_fetch("open", "Mozilla/5.0", "203.0.113.9", refreshed).code == "apple_mpp"
    assert classify_fetch("open", "Mozilla/5.0", "172.225.46.70", refreshed).code == "mpp_ua"


@given(
    st.lists(st.one_of(V4, V6_BLOCKS), max_size=40),
    st.lists(st.one_of(V4, V6_ANY), max_size=40),
    st.lists(st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)), max_size=30),
)
@settings(max_examples=120, deadline=None)
def test_the_compact_form_answers_every_lookup_as_the_csv_does(
    whole_blocks: list[str], any_prefixes: list[str], random_probes: list[object]
) -> None:
    for prefixes in (whole_blocks, any_prefixes):
        from_csv = AppleRanges.from_csv(egress_csv(prefixes))
        blob = from_csv.to_compact()
        loaded = AppleRanges.from_compact(blob)
        assert loaded.prefixes == len(prefixes)
        for address in [*probes_around(prefixes), *map(str, random_probes)]:
            expected = in_any(address, prefixes)
            assert (address in from_csv) is expected, address
            assert (address in loaded) is expected, address
        assert loaded.to_compact() == blob


def test_a_full_sized_list_round_trips_and_is_much_smaller_than_its_csv() -> None:
    text = synthetic_egress_csv(20_000)
    from_csv = AppleRanges.from_csv(text)
    blob = from_csv.to_compact()
    loaded = AppleRanges.from_compact(blob)
    assert loaded.prefixes == 20_000
    assert len(loaded.table) == len(from_csv.table)
    assert len(blob) < len(text) / 5
    first_lines = [line.split(",", 1)[0] for line in text.splitlines()[:200]]
    for address in probes_around(first_lines):
        assert (address in loaded) is (address in from_csv), address


# --- refusals -----------------------------------------------------------------------------------


def blob_of(prefixes: list[str]) -> bytes:
    return AppleRanges.from_csv(egress_csv(prefixes)).to_compact()


GOOD = blob_of(["172.224.224.0/27", "2a02:26f7:b3c0:4000::/64", "2a02:26f7:b3c0:5000::/100"])


def payload(blob: bytes) -> bytes:
    return gzip.decompress(blob)


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"", "truncated"),
        (GOOD[: len(GOOD) // 2], "truncated"),
        (GOOD[:-1], "truncated"),
        (GOOD + b"x", "trailing data"),
        (GOOD[:20] + bytes([GOOD[20] ^ 0xFF]) + GOOD[21:], "not a compact ranges blob"),
        (b"172.224.224.0/27,GB,GB-EN,London,\n", "not a compact ranges blob"),
        (gzip.compress(b"172.224.224.0/27,GB,GB-EN,London,\n"), "wrong magic"),
        (gzip.compress(b"TRK"), "no header"),
        (gzip.compress(payload(GOOD).replace(b"TRKRANGES\x01", b"TRKRANGES\x02", 1)), "version 2"),
        (gzip.compress(payload(GOOD)[:-8]), "counts do not match"),
        (gzip.compress(payload(GOOD) + b"\0" * 8), "counts do not match"),
    ],
    ids=[
        "empty",
        "half",
        "last byte cut",
        "trailing",
        "flipped byte",
        "the csv itself",
        "gzip of something else",
        "short header",
        "other version",
        "payload cut",
        "payload padded",
    ],
)
def test_a_blob_that_is_not_what_to_compact_wrote_is_refused(blob: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AppleRanges.from_compact(blob)


def test_intervals_out_of_order_are_refused() -> None:
    backwards = compact.encode(2, compact.Intervals([20, 10], [29, 19]), compact.Intervals([], []))
    with pytest.raises(ValueError, match="IPv4 intervals are not sorted"):
        AppleRanges.from_compact(backwards)
    overlapping = compact.encode(2, compact.Intervals([], []), compact.Intervals([1, 2], [5, 9], shift=64))
    with pytest.raises(ValueError, match="IPv6 intervals are not sorted"):
        AppleRanges.from_compact(overlapping)


def test_a_blob_that_inflates_beyond_the_bound_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compact, "MAX_PAYLOAD_BYTES", 64)
    with pytest.raises(ValueError, match="larger than 64 bytes"):
        AppleRanges.from_compact(gzip.compress(b"TRKRANGES" + b"\0" * 100))


def test_the_header_names_the_prefix_and_interval_counts() -> None:
    magic, version, prefixes, n4, n6, shift = struct.unpack_from(">9sBQIIB", payload(GOOD))
    assert (magic, version, prefixes, n4, n6, shift) == (b"TRKRANGES", 1, 3, 2, 2, 0)  # the /8 and the /27


def test_only_apples_ranges_have_a_compact_form() -> None:
    with pytest.raises(ValueError, match="only Apple's ranges"):
        AppleRanges(scanner_networks(), 0).to_compact()
