"""``python -m bench`` (``make bench``): ingest cost (with the projector), hot items, batch latency and
the Lambda model, the naive baseline, cold start, read cost, cost per million SES events, the
engagement classifier's cost and sending at the account's SES rate, in one run, with the goals we
hold them to (``--only-send`` runs the last alone, ``--only-cold-start`` the cold start alone).

Exits 1 when the final counts of either ingest run differ from the ground truth (and says so
loudly); a missed goal is reported, not an error.
"""

from __future__ import annotations

import argparse
import multiprocessing
import platform
import sys
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import UTC, datetime
from importlib import metadata

from bench import coldstart, engagement, jobs, sending
from bench.emulator import configure_environment
from bench.generator import SyntheticSend
from bench.hot import hot_items
from bench.ingest_sections import hot_section, ingest_section, latency_section
from bench.other_sections import (
    classifier_section,
    cold_start_section,
    cost_section,
    naive_section,
    read_section,
)
from bench.reads import PageCost
from bench.report import Goal, heading
from bench.runs import OURS, run_ingest
from bench.stream_batches import WORST_CASE_BATCH, StreamBatching, deployed_batching

DEFAULT_RECIPIENTS = 10_000
DEFAULT_NAIVE_RECIPIENTS = 1_000
LATENCY_SECONDS = 0.005


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--recipients", type=int, default=DEFAULT_RECIPIENTS, help="recipients of the synthetic send"
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the event generator")
    parser.add_argument(
        "--naive-recipients",
        type=int,
        default=DEFAULT_NAIVE_RECIPIENTS,
        help="recipients the naive baseline ingests (a proportional sample; 0 = all)",
    )
    parser.add_argument(
        "--naive-latency-batches", type=int, default=5, help="naive batches measured at 5 ms per request"
    )
    parser.add_argument("--import-runs", type=int, default=11, help="fresh interpreters per module (median)")
    parser.add_argument(
        "--event-rate", type=int, default=3000, help="SES events/s of the 1M-recipient send (hot items, lag)"
    )
    parser.add_argument(
        "--stats-recipients",
        type=int,
        default=2000,
        help="recipients whose events run in time order through ingest and projector for the statistics' writes (0: none)",
    )
    parser.add_argument(
        "--worst-case-recipients",
        type=int,
        default=2000,
        help=f"recipients whose records (shuffled) run again with projector batches of {WORST_CASE_BATCH} (0: none)",
    )
    parser.add_argument("--skip-reads", action="store_true", help="leave out the read-cost part")
    parser.add_argument("--skip-cold-start", action="store_true", help="leave out the cold-start part")
    parser.add_argument("--skip-send", action="store_true", help="leave out the sending part")
    parser.add_argument("--only-send", action="store_true", help="run only the sending part")
    parser.add_argument("--only-cold-start", action="store_true", help="run only the cold-start part")
    parser.add_argument(
        "--send-seconds", type=float, default=10.0, help="about how long each run of the sending part takes"
    )
    return parser.parse_args(argv)


def progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    configure_environment()
    started = time.perf_counter()
    if args.only_send:
        return send_only(args, started)
    if args.only_cold_start:
        return cold_start_only(args, started)
    send = jobs.synthetic_send(args.recipients, args.seed)
    sample = min(args.naive_recipients or args.recipients, args.recipients)
    batching = main_run_batching(send, args.event_rate)
    out: list[str] = [intro(args)]

    # Cold start and the classifier first, while nothing else of the bench runs; then the worker
    # process takes the ground truth, the naive baseline and the read cost while this one
    # measures our handlers.
    imports = [] if args.skip_cold_start else coldstart.measure(args.import_runs, progress)
    progress("engagement classifier: timing the send's opens and clicks")
    classifier = engagement.measure(send)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as worker:
        truth = worker.submit(jobs.truth, args.recipients, args.seed)
        naive_future = worker.submit(
            jobs.naive, args.recipients, args.seed, sample, LATENCY_SECONDS, args.naive_latency_batches
        )
        reads_future: Future[list[PageCost]] | None = None if args.skip_reads else worker.submit(jobs.reads)
        stats_future = worker.submit(
            jobs.stats_writes,
            args.recipients,
            args.seed,
            batching.whole_records,
            min(args.stats_recipients, args.recipients),
        )
        worst_sample = min(args.worst_case_recipients, args.recipients)
        worst_future = (
            worker.submit(jobs.items_at_batch, args.recipients, args.seed, worst_sample, WORST_CASE_BATCH)
            if worst_sample
            else None
        )
        progress(
            f"ours: {len(send.specs):,} records through the ingest handler, then the projector "
            f"(stream batches of ~{batching.whole_records:,})"
        )
        ours = run_ingest(
            OURS,
            send,
            send.specs,
            list(range(args.recipients)),
            truth.result,
            latency_seconds=LATENCY_SECONDS,
            projector_batch_size=batching.whole_records,
            progress=progress,
        )
        naive = naive_future.result()
        reads = reads_future.result() if reads_future else []
        stats_writes = stats_future.result()
        worst = worst_future.result() if worst_future else None

    goals: list[Goal] = []
    out.append(ingest_section(send, ours, naive, goals, batching, worst))
    hot_ours = hot_items([*ours.batches, *ours.projector_batches], ours.records)
    hot_ingest = hot_items(ours.batches, ours.records)
    out.append(
        hot_section(
            hot_ours, hot_ingest, hot_items(naive.batches), ours, args.event_rate, goals, stats_writes
        )
    )
    out.append(latency_section(ours, naive, args.event_rate, goals))
    out.append(naive_section())
    out.append(cold_start_section(imports, args.import_runs, goals))
    out.append(read_section(reads, args.skip_reads, goals))
    out.append(cost_section(ours, naive, goals))
    out.append(classifier_section(classifier, ours))
    # Alone, after the second process has finished: its threads' pace is what it measures.
    send_runs = [] if args.skip_send else sending.measure(args.send_seconds, progress)
    out.append(sending.send_section(send_runs, args.send_seconds, goals))
    out.append(heading("", "Goals"))
    out.extend(goal.render() for goal in goals)
    failed = [run for run in (ours, naive) if not run.check.ok]
    out.append(f"\nfinished in {time.perf_counter() - started:,.0f} s")
    print("\n".join(out), flush=True)
    if failed:
        print(
            "\n"
            + "!" * 78
            + "\nBENCH FAILED: final counts differ from the ground truth:\n"
            + "\n".join(f"  {run.name}: {problem}" for run in failed for problem in run.check.problems())
            + "\n"
            + "!" * 78,
            file=sys.stderr,
        )
        return 1
    if not all(run.exact for run in send_runs):
        print("\nBENCH FAILED: a recipient was sent twice or left without an outcome", file=sys.stderr)
        return 1
    return 0


def main_run_batching(send: SyntheticSend, rate: int) -> StreamBatching:
    """The projector's stream batches in the main run: the deployed mapping's at the bench's SES
    event rate (``--event-rate``, the rate the hot items and the count lag are judged at). It has
    to be known before the run, so the recipient changes per event are estimated as the share of
    records that are not duplicate deliveries (a duplicate changes nothing; the count lag uses the
    measured share, ~the same)."""
    counts = send.event_counts(send.specs)
    distinct_share = 1 - counts["duplicate deliveries"] / len(send.specs) if send.specs else 1.0
    return deployed_batching(rate, distinct_share)


def send_only(args: argparse.Namespace, started: float) -> int:
    goals: list[Goal] = []
    runs = sending.measure(args.send_seconds, progress)
    out = [intro(args), sending.send_section(runs, args.send_seconds, goals), heading("", "Goals")]
    out.extend(goal.render() for goal in goals)
    out.append(f"\nfinished in {time.perf_counter() - started:,.0f} s")
    print("\n".join(out), flush=True)
    if not all(run.exact for run in runs):
        print("\nBENCH FAILED: a recipient was sent twice or left without an outcome", file=sys.stderr)
        return 1
    return 0


def cold_start_only(args: argparse.Namespace, started: float) -> int:
    goals: list[Goal] = []
    imports = coldstart.measure(args.import_runs, progress)
    out = [intro(args), cold_start_section(imports, args.import_runs, goals), heading("", "Goals")]
    out.extend(goal.render() for goal in goals)
    out.append(f"\nfinished in {time.perf_counter() - started:,.0f} s")
    print("\n".join(out), flush=True)
    return 0


def intro(args: argparse.Namespace) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    versions = ", ".join(
        f"{p} {metadata.version(p)}" for p in ("moto", "boto3", "pynamodb", "aws-lambda-powertools")
    )
    return (
        f"Delivery tracker benchmarks: {args.recipients:,} recipients, seed {args.seed}, SQS batches of 100\n"
        f"  {now}; Python {platform.python_version()} on {multiprocessing.cpu_count()} CPUs; {versions}\n"
        f"  emulator: moto in-process (mock_aws), one request at a time; shortcuts in moto's\n"
        f"  bookkeeping (local/moto_shortcuts.py) change its speed, not what is stored or answered"
    )


if __name__ == "__main__":
    sys.exit(main())
