"""Sections 1-3 of ``python -m bench``: ingest cost per SES event, hot items, batch latency and the
Lambda model (throughput, count lag), ours beside the naive baseline, with their goals."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from bench import cost, prices
from bench.counting import Request, Tally
from bench.generator import Kind, SyntheticSend
from bench.hot import HotItems, item_kind
from bench.jobs import ItemsAtBatch, StatsWrites
from bench.report import FAIL, PASS, Goal, heading, ratio, table
from bench.runs import BatchStats, RunResult
from bench.stream_batches import (
    STREAM_POLL_SECONDS,
    WORST_CASE_BATCH,
    StreamBatching,
    batching_lines,
    deployed_batching,
    worst_case_lines,
)

PER_ITEM_WRITES_PER_SECOND = 1000
MILLION_SEND = 1_000_000


def per_record(value: float, run: RunResult) -> float:
    return value / run.records if run.records else 0.0


def percentile(values: Sequence[int], share: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0


# --- 1. ingest cost -------------------------------------------------------------------------------


def ingest_section(
    send: SyntheticSend,
    ours: RunResult,
    naive: RunResult,
    goals: list[Goal],
    batching: StreamBatching | None = None,
    worst: ItemsAtBatch | None = None,
) -> str:
    counts = send.event_counts(send.specs)
    distinct = len(send.specs) - counts["duplicate deliveries"]
    mix = " · ".join(
        f"{kind.value.replace('_', ' ')} {counts[kind.value]:,}" for kind in Kind if counts[kind.value]
    )
    full_naive_minutes = naive.seconds / naive.records * len(send.specs) / 60 if naive.records else 0
    lines = [
        heading("1", "Ingest cost per SES event"),
        f"  synthetic send: {send.recipients:,} recipients -> {distinct:,} SES events + "
        f"{counts['duplicate deliveries']:,} duplicate deliveries ({counts['duplicate deliveries'] / distinct:.1%}) = "
        f"{len(send.specs):,} SQS records, shuffled",
        f"    {mix}",
        "  ours:  tracker.handlers.ingest.handler (Powertools, default Ingestor, DynamoDB store), every record,",
        f"         {len(ours.batches):,} batches, then tracker.handlers.projector.handler on the table's stream,",
        f"         {len(ours.projector_batches):,} invocations (local.streams: read as the event source mapping reads it); {ours.seconds:,.0f} s",
        f"  naive: bench/naive.py (its own table: ALL-projected indexes, an event-log item per event) on a\n"
        f"         proportional sample: recipients 0-{naive.recipients - 1:,} "
        f"({naive.recipients / send.recipients:.0%}), their {naive.records:,} records in the same order"
        + (
            f";\n         all {len(send.specs):,} would take ~{full_naive_minutes:,.0f} min in moto"
            if naive.recipients < send.recipients
            else ""
        ),
    ]
    lines += batching_lines(ours, batching)
    lines.append("")
    t_ours, t_naive = Tally.of(ours.requests), Tally.of(naive.requests)
    t_proj = Tally.of(ours.projector_requests)
    rows = []
    for label, a, b, p in (
        ("items written (write requests)", t_ours.items_written, t_naive.items_written, t_proj.items_written),
        ("  write API calls", t_ours.write_requests, t_naive.write_requests, t_proj.write_requests),
        ("items read (read requests)", t_ours.items_read, t_naive.items_read, t_proj.items_read),
        ("  read API calls", t_ours.read_requests, t_naive.read_requests, t_proj.read_requests),
        ("write units, table (WRU)", t_ours.write_units, t_naive.write_units, t_proj.write_units),
        (
            "write units, global indexes (WRU)",
            t_ours.index_write_units,
            t_naive.index_write_units,
            t_proj.index_write_units,
        ),
        (
            "write units, total (WRU)",
            t_ours.write_units + t_ours.index_write_units,
            t_naive.write_units + t_naive.index_write_units,
            t_proj.write_units + t_proj.index_write_units,
        ),
        ("read units (RRU)", t_ours.read_units, t_naive.read_units, t_proj.read_units),
    ):
        x, y, z = per_record(a, ours), per_record(b, naive), per_record(p, ours)
        rows.append([label, f"{x:.3f}", f"{z:.3f}", f"{y:.3f}", ratio(y, x)])
    lines.append(
        table(
            [
                "per SES event (SQS record, duplicates included)",
                "ours",
                "of it projector",
                "naive",
                "naive/ours",
            ],
            rows,
        )
    )
    lines.append(
        "  capacity units: computed from item sizes by DynamoDB's rules (bench/capacity.py), because moto\n"
        "  answers ReturnConsumedCapacity with a fixed placeholder; transactional writes count double; an\n"
        "  index entry is its keys + projected attributes + 100 bytes, written only when a write puts,\n"
        "  moves or changes it (KEYS_ONLY/INCLUDE: an open or a click writes none)"
    )
    lines.append(size_lines(ours, naive))
    lines.append("")
    lines.append(writes_by_kind(ours, naive))
    lines.append("")
    lines.append(operations_table("ours, ingest", ours.ingest_requests))
    lines.append(operations_table("ours, projector", ours.projector_requests))
    lines.append(operations_table("naive", naive.requests))
    lines.append("")
    lines += exactness_lines(ours, naive)
    lines += worst_case_lines(worst)
    w_items, r_items = per_record(t_ours.items_written, ours), per_record(t_ours.items_read, ours)
    at = f" at the deployed mapping's stream batches of ~{batching.whole_records:,}" if batching else ""
    rate = f" at {batching.rate:,} events/s (the deployed stream batches)" if batching else ""
    goals.append(
        Goal(
            f"≤ 1.1 items written and ≤ 1.0 item read per SES event{rate} (duplicates included), counts "
            "exact (message counts = recount = model answer; in the worst-case run too)",
            w_items <= 1.1 and r_items <= 1.0 and ours.check.ok and (worst is None or worst.exact),
            f"{w_items:.3f} items written ({per_record(t_proj.items_written, ours):.3f} of them by the projector){at} and "
            f"{r_items:.3f} read per event; {per_record(t_ours.write_requests, ours):.3f} write and "
            f"{per_record(t_ours.read_requests, ours):.3f} read API calls; counts exact: {PASS if ours.check.ok else FAIL}"
            + (
                f"\n      at stream batches of {worst.batch_size} (the worst case, {worst.recipients:,} recipients' "
                f"records): {worst.per_event(worst.items_written):.3f} items written "
                f"({worst.per_event(worst.projector_items_written):.3f} by the projector)"
                if worst
                else ""
            ),
        )
    )
    wru = per_record(t_ours.write_units + t_ours.index_write_units, ours)
    goals.append(
        Goal(
            "≤ 1.6 write units per SES event, index writes included",
            wru <= 1.6,
            f"{wru:.3f} WRU per event ({per_record(t_ours.index_write_units, ours):.3f} of them index writes; "
            f"naive {per_record(t_naive.write_units + t_naive.index_write_units, naive):.3f})",
        )
    )
    return "\n".join(lines)


def size_lines(ours: RunResult, naive: RunResult) -> str:
    def over_one_unit(run: RunResult) -> tuple[int, int]:
        puts = [
            r
            for r in run.requests
            if r.operation == "PutItem" and r.written and item_kind(r.written[0]) == "recipient"
        ]
        return sum(1 for r in puts if r.write_units > 1), len(puts)

    out = []
    for run in (ours, naive):
        sizes = run.recipient_sizes
        if not sizes:
            continue
        over, puts = over_one_unit(run)
        out.append(
            f"  recipient item size, {run.name}: mean {statistics.mean(sizes):,.0f} B, median {percentile(sizes, 0.5):,} B, "
            f"p99 {percentile(sizes, 0.99):,} B, max {max(sizes):,} B (final items); "
            f"{over:,} of {puts:,} recipient writes over 1 KB"
        )
    return "\n".join(out)


def exactness_lines(ours: RunResult, naive: RunResult) -> list[str]:
    lines = []
    for run in (ours, naive):
        check = run.check
        lines.append(
            f"  exactness, {run.name}: {PASS if check.ok else FAIL} message item counts"
            + (" (after projection)" if run.projector_batches else "")
            + f" = recount of recipient items = model answer ({len(check.wrong_recipients)} recipients differ"
            + (f", {run.redelivered} records redelivered" if run.redelivered else "")
            + ")"
        )
        lines.append("    " + " · ".join(f"{tally} {n:,}" for tally, n in sorted(check.expected.items())))
        lines += [f"    {FAIL} {problem}" for problem in check.problems()]
    return lines


def writes_by_kind(ours: RunResult, naive: RunResult) -> str:
    def breakdown(run: RunResult) -> dict[str, tuple[float, float]]:
        found: dict[str, list[float]] = {}
        for request in run.requests:
            if not request.written:
                continue
            share = (request.write_units + request.index_write_units) / len(request.written)
            for key in request.written:
                kind = item_kind(key)
                entry = found.setdefault(kind, [0.0, 0.0])
                entry[0] += 1
                entry[1] += share
        return {kind: (n / run.records, units / run.records) for kind, (n, units) in found.items()}

    a, b = breakdown(ours), breakdown(naive)
    rows = [
        [
            kind,
            f"{a.get(kind, (0.0, 0.0))[0]:.3f}",
            f"{a.get(kind, (0.0, 0.0))[1]:.3f}",
            f"{b.get(kind, (0.0, 0.0))[0]:.3f}",
            f"{b.get(kind, (0.0, 0.0))[1]:.3f}",
        ]
        for kind in sorted(set(a) | set(b))
    ]
    headers = [
        "items written per SES event, by item",
        "ours: items",
        "WRU (+index)",
        "naive: items",
        "WRU (+index)",
    ]
    return table(headers, rows)


def operations_table(name: str, requests: Sequence[Request]) -> str:
    by_op: dict[str, list[Request]] = {}
    for request in requests:
        by_op.setdefault(request.operation, []).append(request)
    rows = [
        [
            op,
            f"{len(rs):,}",
            f"{statistics.mean(r.batch_size for r in rs):.1f}",
            f"{max(r.batch_size for r in rs)}",
            f"{sum(r.items_written or r.items_read for r in rs):,}",
        ]
        for op, rs in sorted(by_op.items())
    ]
    return table([f"requests by operation, {name}", "requests", "items/request", "max", "items"], rows)


# --- 2. hot items ---------------------------------------------------------------------------------


def hot_section(
    ours: HotItems,
    ours_ingest: HotItems,
    naive: HotItems,
    ours_run: RunResult,
    rate: int,
    goals: list[Goal],
    stats: StatsWrites | None = None,
) -> str:
    """``ours``: ingest batches and projector invocations; ``ours_ingest``: the ingest batches alone."""
    rows = [
        [
            "most writes to one item in one batch",
            f"{ours.max_item_writes_per_batch} ({ours.max_item_kind})",
            f"{naive.max_item_writes_per_batch} ({naive.max_item_kind})",
        ],
        [
            "most writes to the message item in one batch",
            f"{ours.max_message_writes_per_batch}",
            f"{naive.max_message_writes_per_batch}",
        ],
        [
            "writes to the message item, whole run",
            f"{ours.message_writes_total:,}",
            f"{naive.message_writes_total:,}",
        ],
        [
            "  per SES event",
            f"{ours.message_writes_per_record:.4f}",
            f"{naive.message_writes_per_record:.4f}",
        ],
        [
            "writes to the statistics hour items, whole run",
            f"{ours.stats_writes_total:,}",
            "-",
        ],
        [
            "  per SES event",
            f"{ours.stats_writes_per_record:.4f}",
            "-",
        ],
        [
            "most writes to one statistics item in one batch",
            f"{ours.max_stats_writes_per_batch}",
            "-",
        ],
        [
            "most writes to one recipient item, whole run",
            f"{ours.max_recipient_writes_total}",
            f"{naive.max_recipient_writes_total}",
        ],
        [
            "most items written into one partition key in a batch",
            f"{ours.max_partition_items_per_batch}",
            f"{naive.max_partition_items_per_batch}",
        ],
        [
            "write units into the message's partition per event",
            f"{ours.partition_write_units_per_record:.2f}",
            f"{naive.partition_write_units_per_record:.2f}",
        ],
    ]
    lines = [
        heading("2", "Hot items"),
        "  a batch: an ingest batch of 100 SQS records, or one projector invocation (ours)",
        table(["", "ours", "naive"], rows, "lrr"),
        "",
    ]
    events = MILLION_SEND * (ours.records / ours_run.recipients) if ours_run.recipients else 0
    naive_rate = rate * naive.message_writes_per_record
    lines += [
        f"  A 1M-recipient send: ~{events / 1e6:.2f}M SES events; at {rate:,} events/s (e.g. SES sending ~1,000",
        f"  messages/s: Send + Delivery + early opens) it takes ~{events / rate / 60:,.0f} min. DynamoDB's limit is",
        f"  ~{PER_ITEM_WRITES_PER_SECOND:,} write units/s per item (and per partition until it splits):",
        f"    message item, ours:  {rate * ours.message_writes_per_record:,.0f} writes/s (one count update per projector "
        "invocation per message)",
        f"    message item, naive: {naive_rate:,.0f} writes/s ({naive.message_writes_per_record:.2f} per event)"
        + (" > the limit: throttled" if naive_rate > PER_ITEM_WRITES_PER_SECOND else ""),
        f"    the message's partition (its recipients and header share its key): ours "
        f"{rate * ours.partition_write_units_per_record:,.0f} WRU/s, naive {rate * naive.partition_write_units_per_record:,.0f} WRU/s;",
        "      above 1,000 WRU/s one partition key relies on DynamoDB splitting the item collection by sort key",
        "      (split for heat: the table has no local secondary index), which takes minutes to adapt.",
    ]
    goals.append(
        Goal(
            "no item written more than once per ingest batch",
            ours_ingest.max_item_writes_per_batch <= 1,
            f"ours: at most {ours_ingest.max_item_writes_per_batch} write(s) to one item in any of "
            f"{ours_ingest.batches:,} ingest batches (naive: up to {naive.max_item_writes_per_batch}); the projector: "
            f"at most {ours.max_item_writes_per_batch} to one item per invocation ({ours.max_item_kind}: an address\n"
            "      whose evidence changes its suppression gets the evidence, then the record with its history)",
        )
    )
    lines += stats_lines(ours, stats, goals)
    goals.append(
        Goal(
            "no statistics item written more than once per projector batch",
            ours.max_stats_writes_per_batch <= 1 if ours.stats_writes_total else None,
            f"at most {ours.max_stats_writes_per_batch} write(s) to one statistics hour item in one projector invocation",
        )
    )
    return "\n".join(lines)


# The tenants' hourly statistics (tracker.logic.stats_projection): one update per hour item per
# projector batch, so their writes per event fall with the batch's size.
STATS_WRITES_GOAL = 0.05


def stats_lines(ours: HotItems, stats: StatsWrites | None, goals: list[Goal]) -> list[str]:
    """The statistics' writes: measured (events shuffled over their four days: many hours per
    batch) and modelled for the same events in the order SES publishes them (bench/stats_model.py)."""
    measured = f"{ours.stats_writes_total:,} writes for {ours.records:,} SES events ({ours.stats_writes_per_record:.4f} per event)"
    if stats is None or not stats.events:
        goals.append(
            Goal(
                f"the projector's extra writes for the statistics ≤ {STATS_WRITES_GOAL} items per SES event (amortized)",
                None,
                measured,
            )
        )
        return []
    ordered = stats.in_time_order / stats.events
    full = stats.in_time_order_full_batches / stats.events
    lines = [
        "",
        "  Statistics hour items (one update per hour item whose counts move, per projector invocation):",
        f"    measured, this run (events shuffled over their 4 days, batches of ~{stats.projector_records:,}): {measured}",
        f"    modelled, the same order and cuts:                       {stats.shuffled:,} writes ({stats.shuffled / stats.events:.4f} per event)",
        f"    modelled, in time order as SES publishes them:           {stats.in_time_order:,} writes ({ordered:.4f} per event)",
        f"      ... in the deployed mapping's full batches of 1,000:   {stats.in_time_order_full_batches:,} writes ({full:.4f} per event)",
    ]
    shuffled_note = (
        f"{ours.stats_writes_per_record:.4f} measured with them shuffled over 4 days in stream batches of "
        f"~{stats.projector_records:,} (section 1 has the worst case, batches of 100)"
    )
    timed = stats.measured
    if timed is None or not timed.events:
        value, passed = (
            f"{ordered:.4f} per event modelled in time order; {shuffled_note}",
            ordered <= STATS_WRITES_GOAL,
        )
    else:
        per_event = timed.writes / timed.events
        lines.append(
            f"    measured, {timed.recipients:,} recipients' events in time order (real ingest + projector, stream batches of {WORST_CASE_BATCH}): "
            f"{timed.writes:,} writes for {timed.events:,} SES events ({per_event:.4f} per event), "
            f"at most {timed.max_writes_per_item_and_batch} to one hour item per invocation, "
            f"counts {'exact' if timed.exact else 'NOT EXACT'}"
        )
        value = (
            f"{per_event:.4f} per event measured in time order in stream batches of {WORST_CASE_BATCH} "
            f"({ordered:.4f} modelled at ~{stats.projector_records:,}; {full:.4f} at 1,000); {shuffled_note}"
        )
        passed = per_event <= STATS_WRITES_GOAL and timed.exact and timed.max_writes_per_item_and_batch <= 1
    goals.append(
        Goal(
            f"the projector's extra writes for the statistics ≤ {STATS_WRITES_GOAL} items per SES event (amortized)",
            passed,
            value,
        )
    )
    return lines


# --- 3. latency, throughput, lag ------------------------------------------------------------------


@dataclass(frozen=True)
class BatchFigures:
    batches: int
    records: float
    requests: float
    requests_max: int
    median: float
    p95: float
    max: float
    cpu_ms: float
    wall_ms: float
    emulator_ms: float


def figures(batches: Sequence[BatchStats], full_only: bool = True) -> BatchFigures:
    measured = [b for b in batches if b.records >= 100 or not full_only] or list(batches)
    if not measured:
        return BatchFigures(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    trips = sorted(b.round_trips for b in measured)
    return BatchFigures(
        batches=len(measured),
        records=statistics.mean(b.records for b in measured),
        requests=statistics.mean(len(b.requests) for b in measured),
        requests_max=max(len(b.requests) for b in measured),
        median=statistics.median(trips),
        p95=trips[min(len(trips) - 1, int(len(trips) * 0.95))],
        max=trips[-1],
        cpu_ms=statistics.mean(b.handler_cpu_seconds for b in measured) * 1000,
        wall_ms=statistics.mean(b.wall_seconds for b in measured) * 1000,
        emulator_ms=statistics.mean(b.emulator_seconds + b.overhead_seconds for b in measured) * 1000,
    )


def latency_section(ours: RunResult, naive: RunResult, rate: int, goals: list[Goal]) -> str:
    memory = cost.ingest_memory()
    concurrency = cost.ingest_concurrency()
    projector_memory = cost.deployed_setting("PROJECTOR_MEMORY_MB", cost.ASSUMED_PROJECTOR_MEMORY_MB)
    o, n, p = figures(ours.batches), figures(naive.batches), figures(ours.projector_batches, full_only=False)
    d_ours = cost.batch_duration(ours.batches, memory.value)
    d_naive = cost.batch_duration(naive.batches, memory.value)
    d_proj = cost.batch_duration(ours.projector_batches, projector_memory.value)
    rows = [
        ["batches measured", f"{o.batches:,}", f"{n.batches:,}", f"{p.batches:,}"],
        ["records per batch (mean)", f"{o.records:.0f}", f"{n.records:.0f}", f"{p.records:.0f}"],
        [
            "DynamoDB requests per batch (mean / max)",
            f"{o.requests:.1f} / {o.requests_max}",
            f"{n.requests:.1f} / {n.requests_max}",
            f"{p.requests:.1f} / {p.requests_max}",
        ],
        ["sequential round trips (median)", f"{o.median:.1f}", f"{n.median:.1f}", f"{p.median:.1f}"],
        [
            "sequential round trips (p95 / max)",
            f"{o.p95:.1f} / {o.max:.1f}",
            f"{n.p95:.1f} / {n.max:.1f}",
            f"{p.p95:.1f} / {p.max:.1f}",
        ],
        [
            "wall time per batch here (ms, incl. moto)",
            f"{o.wall_ms:,.0f}",
            f"{n.wall_ms:,.0f}",
            f"{p.wall_ms:,.0f}",
        ],
        [
            "  of which inside moto and the meter (ms)",
            f"{o.emulator_ms:,.0f}",
            f"{n.emulator_ms:,.0f}",
            f"{p.emulator_ms:,.0f}",
        ],
        [
            "handler CPU per batch, this machine (ms)",
            f"{o.cpu_ms:,.0f}",
            f"{n.cpu_ms:,.0f}",
            f"{p.cpu_ms:,.1f}",
        ],
        [
            "est. Lambda duration per batch (ms)",
            f"{d_ours.total_ms:,.0f} at {memory.value} MB",
            f"{d_naive.total_ms:,.0f} at {memory.value} MB",
            f"{d_proj.total_ms:,.0f} at {projector_memory.value} MB",
        ],
    ]
    per_batch = ours.records / len(ours.batches) if ours.batches else 100
    throughput = concurrency.value * per_batch / (d_ours.total_ms / 1000) if d_ours.total_ms else 0.0
    # What that rate writes on the table (the ingest's units per event, index writes included): the
    # concurrency is chosen to stay below the table's warm throughput (tracker/constants.py).
    units = sum(r.write_units + r.index_write_units for r in ours.ingest_requests) / max(1, ours.records)
    lines = [
        heading("3", "Batch latency at 5 ms per DynamoDB request, the Lambda model"),
        "  (ours and the naive baseline's first batches run with a 5 ms sleep per request, as in AWS)",
        table(["per batch", "ours: ingest", "naive", "ours: projector"], rows, "lrrr"),
        "  round trips: the requests one after another in a thread, the busiest thread of each thread pool",
        "  (requests a pool issues side by side overlap); Lambda duration = round trips x 5 ms + handler CPU x",
        f"  max(1, {prices.LAMBDA_MB_PER_VCPU} MB / memory) (Lambda's CPU share; CPU time excludes moto and the meter)",
        f"  ingest memory {memory.value} MB ({memory.source}, what the stack deploys)",
        f"  projector memory {projector_memory.value} MB ({projector_memory.source})",
        f"  => ingest throughput at {memory.value} MB and maximum concurrency {concurrency.value} ({concurrency.source}):",
        f"     ~{throughput:,.0f} events/s ({d_ours.total_ms:,.0f} ms per batch of {per_batch:.0f}; the handler's CPU is "
        f"{d_ours.cpu_ms * d_ours.cpu_scale / d_ours.total_ms if d_ours.total_ms else 0:.0%} of it);"
        f" the table takes ~{throughput * units:,.0f} WRU/s at that rate ({units:.2f} per event)",
    ]
    lines += lag_lines(ours, d_proj, rate, goals)
    over = [b for b in ours.batches if b.records >= 100 and b.round_trips > 15]
    goals.append(
        Goal(
            f"ingest throughput ≥ 8,000 events/s in the Lambda model at {memory.value} MB, concurrency {concurrency.value}",
            throughput >= 8000,
            f"~{throughput:,.0f} events/s ({d_ours.total_ms:,.0f} ms per 100-record batch: {d_ours.io_ms:,.0f} ms "
            f"waiting on DynamoDB + {d_ours.cpu_ms * d_ours.cpu_scale:,.0f} ms CPU)"
            + ("" if memory.found else f"; memory: {memory.source}"),
            why=(
                f"Why: at concurrency {concurrency.value} a 100-record batch must finish within "
                f"{concurrency.value * per_batch / 8000 * 1000:,.0f} ms; more concurrency (or memory) closes it."
            ),
        )
    )
    goals.append(
        Goal(
            "≤ 15 sequential round trips per 100-record batch at 5 ms per request",
            o.max <= 15,
            f"ingest: median {o.median:.1f}, p95 {o.p95:.1f}, max {o.max:.1f} ({len(over)} of {o.batches} batches over 15); "
            f"projector: median {p.median:.1f}, max {p.max:.1f} per invocation; naive: median {n.median:.0f}",
        )
    )
    return "\n".join(lines)


def lag_lines(ours: RunResult, d_proj: cost.Duration, rate: int, goals: list[Goal]) -> list[str]:
    """How long a recipient's change takes to reach its message's counts at ``rate`` events/s."""
    if not ours.projector_batches or not ours.records:
        return ["  count lag: no projector in this run"]
    changes_per_event = sum(b.records for b in ours.projector_batches) / ours.records
    model = deployed_batching(rate, changes_per_event)
    batch_size, window, records = model.batch_size, model.window, model.records
    measured_records = statistics.mean(b.records for b in ours.projector_batches)
    # Its round trips do not grow with the batch (one update per message), its CPU does.
    cpu_per_record_ms = (d_proj.total_ms - d_proj.io_ms) / measured_records
    duration_ms = d_proj.io_ms + cpu_per_record_ms * records
    capacity = batch_size.value / (duration_ms / 1000) if duration_ms else float("inf")
    lag_ms = STREAM_POLL_SECONDS / 2 * 1000 + model.fill_seconds * 1000 + duration_ms
    keeps_up = capacity >= model.per_shard
    goals.append(
        Goal(
            f"count lag at {rate:,} events/s: the counts converge within one projector batch",
            keeps_up,
            f"~{lag_ms:,.0f} ms modelled ({model.shards} stream shard(s) of the message's partition, "
            f"{model.per_shard:,.0f} changes/s each; batches of ~{records:,.0f} changes projected in "
            f"~{duration_ms:,.0f} ms; one shard projects up to {capacity:,.0f} changes/s)",
            why="Why: a shard's changes arrive faster than one invocation at a time projects them: a backlog grows.",
        )
    )
    return [
        f"  => count lag at {rate:,} events/s: ~{lag_ms:,.0f} ms from a recipient's write to its message's counts",
        f"     = half of Lambda's {STREAM_POLL_SECONDS * 1000:.0f} ms stream poll + the batching window "
        f"({window.value} s, {window.source}) + one projector invocation",
        f"     ({changes_per_event:.2f} recipient changes per event = {rate * changes_per_event:,.0f}/s on "
        f"{model.shards} shard(s); batch size {batch_size.value} ({batch_size.source}); "
        f"{d_proj.io_ms:,.0f} ms of round trips + {cpu_per_record_ms:.2f} ms CPU per change measured)",
    ]
