"""``python -m bench.apple_ranges``: what loading Apple's ranges costs, from the CSV and from the
compact form the refresher stores, on a synthetic list shaped like Apple's (docs/engagement.md).

Loads are timed in this process, alternating the two forms, median of the rounds; both forms must
answer the same lookups, or it exits 1.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence

from tests.apple_ranges import synthetic_egress_csv, synthetic_prefixes
from tracker.domain.engagement import AppleRanges


def _timed(load: Callable[[], AppleRanges]) -> tuple[float, AppleRanges]:
    start = time.perf_counter()
    ranges = load()
    return time.perf_counter() - start, ranges


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.apple_ranges", description=__doc__)
    parser.add_argument("--prefixes", type=int, default=250_000, help="lines of the synthetic list")
    parser.add_argument("--rounds", type=int, default=5, help="CSV loads (3 compact loads each)")
    args = parser.parse_args(argv)

    text = synthetic_egress_csv(args.prefixes)
    parsed = AppleRanges.from_csv(text)
    start = time.perf_counter()
    blob = parsed.to_compact()
    encode_seconds = time.perf_counter() - start

    csv_times, compact_times = [], []
    loaded = parsed
    for _ in range(args.rounds):
        seconds, _ = _timed(lambda: AppleRanges.from_csv(text))
        csv_times.append(seconds)
        for _ in range(3):
            seconds, loaded = _timed(lambda: AppleRanges.from_compact(blob))
            compact_times.append(seconds)

    probes = [prefix.split("/")[0] for prefix in synthetic_prefixes(2_000, seed=11)]
    mismatches = [p for p in probes if (p in parsed) != (p in loaded)]
    csv_ms, compact_ms = statistics.median(csv_times) * 1000, statistics.median(compact_times) * 1000
    print(f"synthetic list: {args.prefixes:,} prefixes, {len(text) / 1e6:.1f} MB of CSV")
    print(
        f"merged: {len(parsed.table):,} intervals; compact form {len(blob) / 1e6:.2f} MB (encoded in {encode_seconds * 1000:.0f} ms)"
    )
    print(
        f"load from CSV:          median {csv_ms:,.0f} ms (min {min(csv_times) * 1000:,.0f}, {len(csv_times)} runs)"
    )
    print(
        f"load from compact form: median {compact_ms:,.1f} ms (min {min(compact_times) * 1000:,.1f}, {len(compact_times)} runs)"
    )
    print(f"compact / CSV: 1/{csv_ms / compact_ms:.0f} of the time")
    if mismatches:
        print(f"FAIL: {len(mismatches)} lookups differ, e.g. {mismatches[:3]}", file=sys.stderr)
        return 1
    print(f"the two forms answer {len(probes):,} lookups alike")
    return 0


if __name__ == "__main__":
    sys.exit(main())
