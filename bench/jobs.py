"""The parts of a run that go to the second process (``python -m bench`` runs them there while it
measures our handler, so a default run uses both cores). Module-level functions, so that a
``spawn`` worker can import them; results are plain picklable dataclasses."""

from __future__ import annotations

import sys
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
