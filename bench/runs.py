"""Feeding a synthetic send through an ingest handler against moto, batch by batch, metered.

``run_ingest`` seeds the message and its recipients (not metered), hands the handler one SQS
batch after another (records it fails are redelivered in a later batch, as SQS would), measures
every batch, then checks the final state against the ground truth (not metered):

* the counts on the message item (with no count deltas left pending),
* a recount of the recipient items' statuses,
* every recipient's status and open count,

each against the model answer from ``SyntheticSend.truth``.
"""

from __future__ import annotations

import contextlib
import io
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.counting import Backend, Meter, Request, round_trips
from bench.emulator import ACCOUNT_ID, REGION, emulated_table
from bench.generator import TENANT, EventSpec, SyntheticSend, Truth
from tracker.dal import keys
from tracker.dal.messages import put_message
from tracker.dal.models import CountDeltaItem, MessageItem, RecipientItem
from tracker.dal.recipients import facts_from_item
from tracker.domain.status import Status

Handler = Callable[[dict[str, Any]], dict[str, Any]]
BATCH_SIZE = 100


@dataclass(frozen=True)
class BatchStats:
    records: int
    requests: tuple[Request, ...]
    wall_seconds: float
    cpu_seconds: float  # this process's CPU time, all threads
    latency_seconds: float  # the injected per-request latency (0: none)

    @property
    def emulator_seconds(self) -> float:
        return sum(r.emulator_seconds for r in self.requests)

    @property
    def overhead_seconds(self) -> float:
        return sum(r.overhead_seconds for r in self.requests)

    @property
    def round_trips(self) -> float:
        return round_trips(self.requests)

    @property
    def handler_cpu_seconds(self) -> float:
        """CPU the handler itself used: the process's CPU minus moto and the meter (both CPU-bound)."""
        return max(0.0, self.cpu_seconds - self.emulator_seconds - self.overhead_seconds)


@dataclass(frozen=True)
class Check:
    ok: bool
    expected: dict[str, int]
    message_item: dict[str, int]
    pending_deltas: int
    recount: dict[str, int]
    wrong_recipients: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        found = []
        if self.message_item != self.expected:
            found.append(f"message item counts {_fmt(self.message_item)} != expected {_fmt(self.expected)}")
        if self.pending_deltas:
            found.append(f"{self.pending_deltas} count deltas still pending")
        if self.recount != self.expected:
            found.append(f"recount of recipient items {_fmt(self.recount)} != expected {_fmt(self.expected)}")
        if self.wrong_recipients:
            sample = ", ".join(self.wrong_recipients[:5])
            found.append(
                f"{len(self.wrong_recipients)} recipients differ from the model answer ({sample}...)"
            )
        return found


@dataclass(frozen=True)
class RunResult:
    name: str
    recipients: int
    records: int  # SQS records delivered (each one SES event; redeliveries included)
    redelivered: int
    batches: list[BatchStats]
    check: Check
    seconds: float

    @property
    def requests(self) -> list[Request]:
        return [r for b in self.batches for r in b.requests]


def _fmt(counts: dict[str, int]) -> str:
    return ", ".join(f"{tally} {n}" for tally, n in sorted(counts.items()))


def run_ingest(
    name: str,
    send: SyntheticSend,
    specs: Sequence[EventSpec],
    indexes: Sequence[int],
    truth: Callable[[], Truth],
    make_handler: Callable[[], Handler],
    *,
    latency_seconds: float = 0.0,
    latency_batches: int | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> RunResult:
    """Ingest ``specs`` (the stream for the recipients ``indexes``) in batches of 100.

    The first ``latency_batches`` batches (all when None) run with ``latency_seconds`` per request.
    ``truth`` is called only for the final check (it may still be computed elsewhere meanwhile)."""
    meter = Meter(Backend(ACCOUNT_ID, REGION))
    started = time.perf_counter()
    with emulated_table(), meter.installed():
        with meter.pause():
            put_message(send.message(), send.new_recipients(indexes))
        handler = make_handler()
        queue: list[dict[str, Any]] = []
        batches: list[BatchStats] = []
        redelivered = 0
        chunks = [specs[start : start + BATCH_SIZE] for start in range(0, len(specs), BATCH_SIZE)]
        chunks.reverse()  # popped from the end
        total = len(chunks)
        number = 0
        while chunks or queue:
            event = send.sqs_event(chunks.pop()) if chunks else {"Records": []}
            # Redeliveries join the next batch as SQS would hand them out again (up to 100 records).
            room = BATCH_SIZE - len(event["Records"])
            if queue and room > 0:
                event = {"Records": [*event["Records"], *queue[:room]]}
                del queue[:room]
            latency = latency_seconds if latency_batches is None or number < latency_batches else 0.0
            mark = meter.mark()
            cpu, wall = time.process_time(), time.perf_counter()
            with meter.latency(latency), contextlib.redirect_stdout(io.StringIO()):
                response = handler(event)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            batches.append(BatchStats(len(event["Records"]), tuple(meter.since(mark)), wall, cpu, latency))
            failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
            for record in event["Records"]:
                if record["messageId"] in failed:
                    again = dict(record)
                    attributes = dict(again["attributes"])
                    attributes["ApproximateReceiveCount"] = str(
                        int(attributes["ApproximateReceiveCount"]) + 1
                    )
                    again["attributes"] = attributes
                    queue.append(again)
                    redelivered += 1
            number += 1
            if number % 25 == 0 or not (chunks or queue):
                progress(f"{name}: batch {number}/{total}")
        with meter.pause():
            check = verify(send, indexes, truth())
    return RunResult(
        name=name,
        recipients=len(indexes),
        records=sum(b.records for b in batches),
        redelivered=redelivered,
        batches=batches,
        check=check,
        seconds=time.perf_counter() - started,
    )


def verify(send: SyntheticSend, indexes: Sequence[int], truth: Truth) -> Check:
    pk = keys.message_pk(TENANT, send.message_id)
    header = MessageItem.get(pk, keys.MESSAGE_SK, consistent_read=True)
    message_counts = {status: n for status, n in header.counts().items() if n}
    pending = list(
        CountDeltaItem.query(pk, CountDeltaItem.sk.startswith(keys.DELTA_SK_PREFIX), consistent_read=True)
    )
    items = list(
        RecipientItem.query(pk, RecipientItem.sk.startswith(keys.RECIPIENT_SK_PREFIX), consistent_read=True)
    )
    wanted = [send.recipient_id(i) for i in indexes]
    expected = dict(Counter(tally for r in wanted for tally in truth.tallies[r]))
    recount = dict(Counter(tally for item in items for tally in facts_from_item(item).tallies))
    by_id = {item.recipient_id: item for item in items}
    wrong = [
        r
        for r in wanted
        if r not in by_id
        or Status(by_id[r].status) != truth.statuses[r]
        or int(by_id[r].open_count or 0) != truth.open_counts[r]
    ]
    ok = message_counts == expected and not pending and recount == expected and not wrong
    return Check(ok, expected, message_counts, len(pending), recount, wrong)


def ours_handler() -> Handler:
    """The real ingest Lambda handler (Powertools decorators, default Ingestor, DynamoDB store)."""
    from tests.lambda_context import FakeLambdaContext
    from tracker.handlers import ingest

    ingest.default_ingestor.cache_clear()
    context = FakeLambdaContext(function_name="delivery-tracker-ingest", memory_limit_in_mb=512)

    def handle(event: dict[str, Any]) -> dict[str, Any]:
        return dict(ingest.handler(event, context))

    return handle


def naive_handler() -> Handler:
    from bench.naive import NaiveIngestor
    from tracker.models.ses import parse_record_body

    ingestor = NaiveIngestor(parse_record_body)

    def handle(event: dict[str, Any]) -> dict[str, Any]:
        return dict(ingestor.handle(event))

    return handle
