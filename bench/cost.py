"""Cost per million SES events, from measured figures and the unit prices in ``bench.prices``."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from pathlib import Path

from bench import prices
from bench.counting import Tally
from bench.runs import BatchStats
from tracker import constants

ROOT = Path(__file__).resolve().parent.parent
EVENTS = 1_000_000
# The SQS event source mapping receives up to 10 messages per ReceiveMessage call and deletes the
# processed ones with DeleteMessageBatch (10 per call); SNS's delivery is one SendMessage each.
SQS_MESSAGES_PER_RECEIVE = 10
# What one DynamoDB request takes from a Lambda function in the same region, round trip.
REQUEST_LATENCY_SECONDS = 0.005
ASSUMED_PROJECTOR_MEMORY_MB = 512
# Sources, in order: the shared constants module, then the infra/ modules (read as text, so the
# bench need not import the CDK).
_SOURCES = (ROOT / "functions" / "tracker" / "constants.py", *sorted((ROOT / "infra").glob("*.py")))


@dataclass(frozen=True)
class Setting:
    value: int
    source: str
    found: bool


def deployed_setting(name: str, assumed: int) -> Setting:
    """A function setting as the stack defines it (``NAME = <int>``), else ``assumed``."""
    # "NAME = 100", "NAME: int = 100" or "NAME = Duration.seconds(5)"
    pattern = re.compile(rf"^{name}\s*(?::\s*\w+\s*)?=\s*(?:Duration\.seconds\()?(\d[\d_]*)\b", re.MULTILINE)
    for source in _SOURCES:
        try:
            match = pattern.search(source.read_text())
        except OSError:
            continue
        if match:
            return Setting(int(match.group(1).replace("_", "")), f"{source.relative_to(ROOT)} {name}", True)
    return Setting(assumed, f"{name} not found in tracker/constants.py or infra/: {assumed} assumed", False)


def ingest_memory() -> Setting:
    """The memory the throughput goal is held at: the stack's default (infra/ingestion.py deploys
    tracker.constants.INGEST_MEMORY_MB unless a context value overrides it)."""
    return Setting(constants.INGEST_MEMORY_MB, "tracker/constants.py INGEST_MEMORY_MB", True)


def ingest_concurrency() -> Setting:
    """The events queue's maximum concurrency as deployed by default (the same constant)."""
    return Setting(constants.INGEST_MAX_CONCURRENCY, "tracker/constants.py INGEST_MAX_CONCURRENCY", True)


@dataclass(frozen=True)
class Duration:
    """Estimated Lambda duration of one batch: waiting on DynamoDB plus the handler's own CPU,
    scaled to the CPU share Lambda gives the configured memory."""

    io_ms: float
    cpu_ms: float  # on this machine, one core
    memory_mb: int

    @property
    def cpu_scale(self) -> float:
        return max(1.0, prices.LAMBDA_MB_PER_VCPU / self.memory_mb)

    @property
    def total_ms(self) -> float:
        return self.io_ms + self.cpu_ms * self.cpu_scale


def batch_duration(batches: list[BatchStats], memory_mb: int) -> Duration:
    """The mean Lambda duration of these batches: their round trips at REQUEST_LATENCY_SECONDS
    each, plus their CPU."""
    if not batches:
        return Duration(0.0, 0.0, memory_mb)
    return Duration(
        io_ms=statistics.mean(b.round_trips * REQUEST_LATENCY_SECONDS * 1000 for b in batches),
        cpu_ms=statistics.mean(b.handler_cpu_seconds * 1000 for b in batches),
        memory_mb=memory_mb,
    )


@dataclass(frozen=True)
class CostLine:
    item: str
    quantity: str
    dollars: float


def per_million(
    tally: Tally,
    records: int,
    batches: int,
    duration: Duration,
    projector: tuple[int, Duration] | None = None,
) -> list[CostLine]:
    """Dollars per million SES events (one SQS record each). ``projector``: its invocations in
    the run and its duration per invocation (its reads of the table's stream cost nothing)."""
    scale = EVENTS / records
    invocations = EVENTS / (records / batches)
    wru = (tally.write_units + tally.index_write_units) * scale
    rru = tally.read_units * scale
    gb_seconds = invocations * duration.total_ms / 1000 * duration.memory_mb / 1024
    sqs_requests = EVENTS * (1 + 2 / SQS_MESSAGES_PER_RECEIVE)
    lines = [
        CostLine("DynamoDB writes", f"{wru / 1e6:,.2f} M WRU", wru * prices.DYNAMODB_WRITE_REQUEST_UNIT),
        CostLine("DynamoDB reads", f"{rru / 1e6:,.2f} M RRU", rru * prices.DYNAMODB_READ_REQUEST_UNIT),
        CostLine(
            "Lambda duration, ingest (arm64)",
            f"{gb_seconds:,.0f} GB-s ({invocations:,.0f} x {duration.total_ms:,.0f} ms x {duration.memory_mb} MB)",
            gb_seconds * prices.LAMBDA_ARM_GB_SECOND,
        ),
        CostLine(
            "Lambda requests, ingest", f"{invocations:,.0f} invocations", invocations * prices.LAMBDA_REQUEST
        ),
    ]
    if projector is not None:
        runs, spent = projector
        calls = runs * scale
        seconds = calls * spent.total_ms / 1000 * spent.memory_mb / 1024
        lines += [
            CostLine(
                "Lambda duration, projector (arm64)",
                f"{seconds:,.0f} GB-s ({calls:,.0f} x {spent.total_ms:,.0f} ms x {spent.memory_mb} MB)",
                seconds * prices.LAMBDA_ARM_GB_SECOND,
            ),
            CostLine(
                "Lambda requests, projector", f"{calls:,.0f} invocations", calls * prices.LAMBDA_REQUEST
            ),
            CostLine("DynamoDB Streams reads (by Lambda)", "GetRecords", 0.0),
        ]
    else:
        lines += [
            CostLine("Lambda duration, projector (arm64)", "-", 0.0),
            CostLine("Lambda requests, projector", "-", 0.0),
            CostLine("DynamoDB Streams reads (by Lambda)", "-", 0.0),
        ]
    return [
        *lines,
        CostLine(
            "SQS requests",
            f"{sqs_requests / 1e6:,.1f} M (send + receive/10 + delete/10)",
            sqs_requests * prices.SQS_REQUEST,
        ),
        CostLine("SNS publishes (SES -> topic)", f"{EVENTS / 1e6:,.1f} M", EVENTS * prices.SNS_PUBLISH),
        CostLine("SNS deliveries to SQS", f"{EVENTS / 1e6:,.1f} M", EVENTS * prices.SNS_DELIVERY_TO_SQS),
    ]
