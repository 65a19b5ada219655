"""Cost per million SES events, from measured figures and the unit prices in ``bench.prices``."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from pathlib import Path

from bench import prices
from bench.counting import Tally
from bench.runs import BatchStats

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MEMORY_MB = 256
EVENTS = 1_000_000
# The SQS event source mapping receives up to 10 messages per ReceiveMessage call and deletes the
# processed ones with DeleteMessageBatch (10 per call); SNS's delivery is one SendMessage each.
SQS_MESSAGES_PER_RECEIVE = 10


def ingest_memory_mb() -> tuple[int, str]:
    """The ingest function's memory as configured in infra/ (read from the source, so the bench
    need not import the CDK), else the 256 MB default."""
    source = ROOT / "infra" / "ingestion.py"
    try:
        match = re.search(r"^INGEST_MEMORY_MB\s*=\s*(\d+)", source.read_text(), re.MULTILINE)
    except OSError:
        match = None
    if match:
        return int(match.group(1)), "infra/ingestion.py INGEST_MEMORY_MB"
    return DEFAULT_MEMORY_MB, "default (not found in infra/)"


def ingest_concurrency() -> tuple[int, str]:
    """The event source mapping's maximum concurrency as configured in infra/ (0: not found)."""
    source = ROOT / "infra" / "ingestion.py"
    try:
        match = re.search(r"^INGEST_MAX_CONCURRENCY\s*=\s*(\d+)", source.read_text(), re.MULTILINE)
    except OSError:
        match = None
    return (int(match.group(1)), "infra/ingestion.py") if match else (0, "")


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
    measured = [b for b in batches if b.latency_seconds > 0] or batches
    latency = measured[0].latency_seconds
    return Duration(
        io_ms=statistics.mean(b.round_trips * latency * 1000 for b in measured),
        cpu_ms=statistics.mean(b.handler_cpu_seconds * 1000 for b in measured),
        memory_mb=memory_mb,
    )


@dataclass(frozen=True)
class CostLine:
    item: str
    quantity: str
    dollars: float


def per_million(tally: Tally, records: int, batches: int, duration: Duration) -> list[CostLine]:
    """Dollars per million SES events (one SQS record each)."""
    scale = EVENTS / records
    invocations = EVENTS / (records / batches)
    wru = (tally.write_units + tally.index_write_units) * scale
    rru = tally.read_units * scale
    gb_seconds = invocations * duration.total_ms / 1000 * duration.memory_mb / 1024
    sqs_requests = EVENTS * (1 + 2 / SQS_MESSAGES_PER_RECEIVE)
    return [
        CostLine("DynamoDB writes", f"{wru / 1e6:,.2f} M WRU", wru * prices.DYNAMODB_WRITE_REQUEST_UNIT),
        CostLine("DynamoDB reads", f"{rru / 1e6:,.2f} M RRU", rru * prices.DYNAMODB_READ_REQUEST_UNIT),
        CostLine(
            "Lambda duration (arm64)",
            f"{gb_seconds:,.0f} GB-s ({invocations:,.0f} x {duration.total_ms:,.0f} ms x {duration.memory_mb} MB)",
            gb_seconds * prices.LAMBDA_ARM_GB_SECOND,
        ),
        CostLine("Lambda requests", f"{invocations:,.0f} invocations", invocations * prices.LAMBDA_REQUEST),
        CostLine(
            "SQS requests",
            f"{sqs_requests / 1e6:,.1f} M (send + receive/10 + delete/10)",
            sqs_requests * prices.SQS_REQUEST,
        ),
        CostLine("SNS publishes (SES -> topic)", f"{EVENTS / 1e6:,.1f} M", EVENTS * prices.SNS_PUBLISH),
        CostLine("SNS deliveries to SQS", f"{EVENTS / 1e6:,.1f} M", EVENTS * prices.SNS_DELIVERY_TO_SQS),
    ]
