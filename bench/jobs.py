"""The parts of a run that go to the second process (``python -m bench`` runs them there while it
measures our handler, so a default run uses both cores). Module-level functions, so that a
``spawn`` worker can import them; results are plain picklable dataclasses."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache

from bench.emulator import configure_environment
from bench.generator import SyntheticSend, Truth
from bench.reads import PageCost
from bench.runs import RunResult


def _progress(message: str) -> None:
    print(f"  [worker] {message}", file=sys.stderr, flush=True)


@lru_cache(maxsize=2)
def synthetic_send(recipients: int, seed: int) -> SyntheticSend:
    return SyntheticSend(recipients, seed)


@lru_cache(maxsize=2)
def truth(recipients: int, seed: int) -> Truth:
    configure_environment()
    from tracker.models.ses import parse_record_body

    _progress(f"ground truth of {recipients:,} recipients")
    return synthetic_send(recipients, seed).truth(parse_record_body)


def naive(recipients: int, seed: int, sample: int, latency_seconds: float, latency_batches: int) -> RunResult:
    configure_environment()
    from bench.runs import NAIVE, run_ingest

    send = synthetic_send(recipients, seed)
    indexes = list(range(sample))
    expected = truth(recipients, seed)
    return run_ingest(
        NAIVE,
        send,
        send.stream(set(indexes)),
        indexes,
        lambda: expected,
        latency_seconds=latency_seconds,
        latency_batches=latency_batches,
        progress=_progress,
    )


def reads() -> list[PageCost]:
    configure_environment()
    from bench.reads import run_reads

    return run_reads(progress=_progress)


@dataclass(frozen=True)
class StatsMeasured:
    """The statistics hour item writes of a run of the real ingest and projector (moto)."""

    recipients: int
    events: int
    writes: int
    max_writes_per_item_and_batch: int
    exact: bool  # counts = recount = model answer, as in the main run


@dataclass(frozen=True)
class StatsWrites:
    """Statistics hour item writes modelled for the send's events (bench/stats_model.py)."""

    events: int
    shuffled: int  # in the measured run's order and projector cuts
    in_time_order: int  # as SES publishes them, with the same cuts
    in_time_order_full_batches: int  # ... and the deployed mapping's batches of 1,000 records
    measured: StatsMeasured | None = None  # the real ingest and projector, events in time order
    projector_records: int = 100  # the cuts of ``shuffled`` and ``in_time_order`` (the main run's)


@dataclass(frozen=True)
class ItemsAtBatch:
    """Items a run of ours wrote and read (the projector's among them) with projector batches of
    ``batch_size`` records."""

    batch_size: int
    recipients: int
    events: int
    items_written: int
    projector_items_written: int
    items_read: int
    write_units: float  # index writes included
    stats_writes: int  # of the items written, statistics hour items
    exact: bool

    def per_event(self, value: float) -> float:
        return value / self.events if self.events else 0.0


def items_at_batch(recipients: int, seed: int, sample: int, batch_size: int) -> ItemsAtBatch:
    """The first ``sample`` recipients' records, in the main run's (shuffled) order, through the
    real ingest and projector with projector batches of ``batch_size``: the main run's items per
    event at another stream batching (per event they do not depend on how many recipients)."""
    configure_environment()
    from bench.counting import Tally
    from bench.hot import hot_items
    from bench.runs import OURS, run_ingest

    send = synthetic_send(recipients, seed)
    indexes = list(range(sample))
    expected = truth(recipients, seed)
    _progress(f"items at projector batches of {batch_size}: {sample:,} recipients' records, shuffled")
    result = run_ingest(
        OURS, send, send.stream(set(indexes)), indexes, lambda: expected, projector_batch_size=batch_size
    )
    everything, projector = Tally.of(result.requests), Tally.of(result.projector_requests)
    return ItemsAtBatch(
        batch_size=batch_size,
        recipients=sample,
        events=result.records,
        items_written=everything.items_written,
        projector_items_written=projector.items_written,
        items_read=everything.items_read,
        write_units=everything.write_units + everything.index_write_units,
        stats_writes=hot_items(
            [*result.batches, *result.projector_batches], result.records
        ).stats_writes_total,
        exact=result.check.ok,
    )


def stats_measured_in_time_order(recipients: int, seed: int, sample: int) -> StatsMeasured:
    """The first ``sample`` recipients' events (duplicates included) in the order SES publishes
    them, through the real ingest handler and projector: what a deployment writes for the
    statistics, measured rather than modelled."""
    configure_environment()
    from bench.hot import hot_items
    from bench.runs import OURS, run_ingest
    from bench.stats_model import in_time_order

    send = synthetic_send(recipients, seed)
    indexes = list(range(sample))
    expected = truth(recipients, seed)
    _progress(f"statistics writes: {sample:,} recipients' events in time order through ingest and projector")
    result = run_ingest(OURS, send, in_time_order(send.stream(set(indexes))), indexes, lambda: expected)
    hot = hot_items([*result.batches, *result.projector_batches], result.records)
    return StatsMeasured(
        recipients=sample,
        events=result.records,
        writes=hot.stats_writes_total,
        max_writes_per_item_and_batch=hot.max_stats_writes_per_batch,
        exact=result.check.ok,
    )


def stats_writes(recipients: int, seed: int, projector_records: int, measured_sample: int = 0) -> StatsWrites:
    configure_environment()
    from bench.stats_model import in_time_order, stats_writes
    from tracker.models.ses import parse_record_body

    _progress("statistics writes: modelling the send's events in two orders")
    send = synthetic_send(recipients, seed)
    ordered = in_time_order(send.specs)
    return StatsWrites(
        events=len(send.specs),
        shuffled=stats_writes(send, send.specs, parse_record_body, projector_records),
        in_time_order=stats_writes(send, ordered, parse_record_body, projector_records),
        in_time_order_full_batches=stats_writes(send, ordered, parse_record_body, 1000),
        measured=stats_measured_in_time_order(recipients, seed, measured_sample) if measured_sample else None,
        projector_records=projector_records,
    )
