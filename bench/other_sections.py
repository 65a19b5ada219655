"""Sections 4-8 of ``python -m bench``: the naive baseline, cold start, read cost, cost per million
SES events and what the engagement classifier costs, with their goals."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from bench import coldstart, cost, prices
from bench.counting import Tally
from bench.engagement import ClassifierCost
from bench.reads import ROUTES, SIZES, PageCost
from bench.report import Goal, heading, ratio, table
from bench.runs import RunResult
from bench.stack_floors import is_floor

IMPORT_RATIO = 1.5
COST_GOAL = 2.00
READ_GOAL = "each list page: ≤ 2 DynamoDB requests, identical at 100 and 100,000 recipients"


def naive_section() -> str:
    return (
        heading("4", "Naive baseline")
        + "\n  bench/naive.py, its own models and table, measured with the same meter: beside ours in 1, 2, 3 and 7"
    )


def cold_start_section(imports: Sequence[coldstart.ImportTime], runs: int, goals: list[Goal]) -> str:
    text = f"every handler imports in ≤ {IMPORT_RATIO}x the time of `import boto3` alone (CPU time)"
    lines = [heading("5", "Cold start: import time of each handler module")]
    if not imports:
        lines.append("  skipped (--skip-cold-start)")
        goals.append(Goal(text, None, "not measured"))
        return "\n".join(lines)
    baseline, baseline_cpu = imports[0].median, imports[0].cpu_median
    rows = []
    for entry in imports:
        if entry.error:
            rows.append([entry.module, "failed", "", "", "", entry.error[:60]])
            continue
        spread = f"{min(entry.samples) * 1000:,.0f}-{max(entry.samples) * 1000:,.0f}"
        rows.append(
            [
                entry.module,
                f"{entry.cpu_median * 1000:,.0f}",
                f"{entry.cpu_median / baseline_cpu:.2f}x",
                f"{entry.median * 1000:,.0f}",
                f"{entry.median / baseline:.2f}x",
                spread,
            ]
        )
    lines.append(
        table(
            ["module", "CPU median (ms)", "x boto3", "wall median (ms)", "x boto3", "wall range (ms)"],
            rows,
            "lrrrrr",
        )
    )
    lines.append(
        f"  {runs} fresh interpreters per module (after one warm-up round), round robin, PYTHONPATH=functions,\n"
        "  LAMBDA_TASK_ROOT set, SDK_TRACING as deployed by default (false: Lambda's active tracing alone, no\n"
        "  X-Ray SDK); the row marked (sdkTracing=true) is the same handler with the SDK loaded and botocore\n"
        "  patched, as that context value deploys it (tracker/handlers/tracing.py), and is not judged;\n"
        "  byte-code caches warm. The modules: every *_HANDLER entry point of tracker/constants.py.\n"
        "  The floor rows are the libraries alone, no code of ours (bench/stack_floors.py), loaded as a\n"
        "  handler loads in Lambda; they are not judged.\n"
        "  The goal is judged on CPU time (the same as wall on a quiet machine; wall grows with the load)."
    )
    handlers = [
        e
        for e in imports[1:]
        if not e.error and not e.module.endswith(coldstart.SDK_TRACING_SUFFIX) and not is_floor(e.module)
    ]
    slow = [e for e in handlers if e.cpu_median > IMPORT_RATIO * baseline_cpu]
    culprits = [
        f"  {e.module}: " + ", ".join(f"{p} {t * 1000:,.0f} ms" for p, t in coldstart.beyond_boto3(e.module))
        for e in slow
    ]
    floors = [
        f"  {e.module}: {e.cpu_median / baseline_cpu:.2f}x"
        for e in imports
        if is_floor(e.module) and not e.error
    ]
    if floors:
        culprits += ["  The libraries alone, before any code of ours:", *floors]
    goals.append(
        Goal(
            text,
            bool(handlers) and not slow and not any(e.error for e in imports),
            ", ".join(f"{e.module.rsplit('.', 1)[-1]} {e.cpu_median / baseline_cpu:.2f}x" for e in handlers)
            + f" (boto3 {baseline_cpu * 1000:,.0f} ms CPU, {baseline * 1000:,.0f} ms wall)",
            why="Why: import time spent in packages `import boto3` does not load (python -X importtime, one run):\n"
            + "\n".join(culprits),
        )
    )
    return "\n".join(lines)


def read_section(pages: Sequence[PageCost], skipped: bool, goals: list[Goal]) -> str:
    lines = [heading("6", "Read cost: one page (default limit) of each list route")]
    if skipped:
        lines.append("  skipped (--skip-reads)")
        goals.append(Goal(READ_GOAL, None, "not measured"))
        return "\n".join(lines)
    rows = []
    for page in pages:
        if not page.available:
            rows.append([page.route, f"{page.recipients:,}", "-", "-", "-", "-", "-", page.note])
            continue
        rows.append(
            [
                page.route,
                f"{page.recipients:,}",
                str(page.status),
                f"{page.rows}/{page.expected_rows}" if page.expected_rows else "-",
                f"{page.requests}",
                f"{page.items_read}",
                f"{page.read_units:g}",
                page.operations,
            ]
        )
    headers = ["route", "recipients", "status", "rows", "requests", "items read", "RRU", "operations"]
    lines.append(table(headers, rows, "lrrrrrrl"))
    lines.append(
        "  through tracker.handlers.api.handler with API Gateway events (Cognito claims); data seeded straight\n"
        "  into the emulator (message_item/recipient_item), 60 other messages per tenant, 60 recipients with history;\n"
        "  rows: items on the page / items the seeded data puts on it"
    )
    list_routes = [r.name for r in ROUTES if r.is_list]
    by_route = {(p.route, p.recipients): p for p in pages}
    missing = [
        name
        for name in list_routes
        if not all(by_route.get((name, s), PageCost(name, s, False)).available for s in SIZES)
    ]
    if missing:
        goals.append(Goal(READ_GOAL, None, f"not available: {', '.join(missing)}"))
        return "\n".join(lines)
    bad = []
    for name in list_routes:
        costs = [by_route[(name, s)] for s in SIZES]
        if (
            any(c.requests > 2 or c.status != 200 or c.rows != c.expected_rows for c in costs)
            or len({(c.requests, c.items_read) for c in costs}) > 1
        ):
            bad.append(name)
    goals.append(
        Goal(
            READ_GOAL,
            not bad,
            "; ".join(
                f"{name} {by_route[(name, SIZES[0])].requests}/{by_route[(name, SIZES[-1])].requests}"
                for name in list_routes
            )
            + " requests (100 / 100,000)",
            why=f"Why: {', '.join(bad)} differ between sizes, need more than 2 requests or miss rows (see the table).",
        )
    )
    return "\n".join(lines)


def cost_section(ours: RunResult, naive: RunResult, goals: list[Goal]) -> str:
    memory = cost.ingest_memory().value
    projector_memory = cost.deployed_setting("PROJECTOR_MEMORY_MB", cost.ASSUMED_PROJECTOR_MEMORY_MB).value
    lines = [
        heading("7", "Cost per million SES events, us-east-1"),
        f"  unit prices: bench/prices.py (AWS pricing pages, as of {prices.PRICES_AS_OF}); free tiers not deducted",
    ]
    ours_lines = cost.per_million(
        Tally.of(ours.requests),
        ours.records,
        len(ours.batches),
        cost.batch_duration(ours.batches, memory),
        projector=(
            len(ours.projector_batches),
            cost.batch_duration(ours.projector_batches, projector_memory),
        ),
    )
    naive_lines = cost.per_million(
        Tally.of(naive.requests),
        naive.records,
        len(naive.batches),
        cost.batch_duration(naive.batches, memory),
    )
    rows = [
        [a.item, a.quantity, f"${a.dollars:,.2f}", b.quantity, f"${b.dollars:,.2f}"]
        for a, b in zip(ours_lines, naive_lines, strict=True)
    ]
    total_ours = sum(line.dollars for line in ours_lines)
    total_naive = sum(line.dollars for line in naive_lines)
    rows.append(["total", "", f"${total_ours:,.2f}", "", f"${total_naive:,.2f}"])
    lines.append(table(["per 1M SES events", "ours", "$", "naive", "$"], rows, "llrlr"))
    lines.append(
        f"  naive/ours: {ratio(total_naive, total_ours)} in total. Not included: storage, CloudWatch Logs and X-Ray\n"
        "  traces, idle SQS long polling, the send path. Lambda reads a table's stream at no charge."
    )
    floor = sum(line.dollars for line in ours_lines if line.item.startswith(("SQS", "SNS")))
    goals.append(
        Goal(
            f"≤ ${COST_GOAL:.2f} per million SES events in the bench's cost model",
            total_ours <= COST_GOAL,
            f"${total_ours:,.2f} (naive ${total_naive:,.2f}; SNS + SQS alone ${floor:,.2f})",
        )
    )
    return "\n".join(lines)


def classifier_section(measured: ClassifierCost | None, ours: RunResult) -> str:
    lines = [heading("8", "Engagement classifier: what telling machines from people adds per open or click")]
    if measured is None:
        lines.append("  skipped")
        return "\n".join(lines)
    sizes = list(ours.recipient_sizes)
    stored = ours.classifier_bytes
    lines += [
        f"  CPU, this machine: {measured.total_us:,.1f} µs per open/click = classify_fetch {measured.classify_us:,.1f} µs "
        f"(user agent + address) + the timing rules {measured.timing_us:,.1f} µs",
        f"    over the send's {measured.fetches:,} opens and clicks ({measured.agents} distinct agents), median of warm passes;",
        f"    a new container's first pass (regexes compiled, Apple snapshot loaded): {measured.first_pass_ms:,.0f} ms in all",
        f"  item size: the class codes in the timelines take {stored / max(1, len(sizes)):,.1f} B per recipient item on average "
        f"({stored / max(1, ours.stored_fetches):,.1f} B per stored open/click)",
        f"    ({statistics.mean(sizes) if sizes else 0:,.0f} B mean recipient item): "
        f"{stored / max(1, sum(sizes)):.1%} of the recipient bytes",
    ]
    return "\n".join(lines)
