"""Feeding a synthetic send through an ingest design against moto, batch by batch, metered.

``run_ingest`` seeds the message and its recipients (not metered), hands the design's handler one
SQS batch after another (records it fails are redelivered in a later batch, as SQS would) and,
for a design with a projector, drains the table's stream through the projector's handler as
Lambda's event source mapping would (``local.streams``: the mapping's reads of the stream cost
nothing, the projector's writes are metered like the ingest's). Every ingest batch and every
projector invocation is measured; then the final state is checked against the ground truth (not
metered):

* the counts on the message item,
* a recount of the recipient items' tallies,
* every recipient's status and open count,

each against the model answer from ``SyntheticSend.truth``.
"""

from __future__ import annotations

import contextlib
import io
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from bench import capacity
from bench.counting import Backend, Meter, Request, round_trips
from bench.emulator import ACCOUNT_ID, REGION, TABLE, emulated_table, emulator
from bench.generator import TENANT, EventSpec, SyntheticSend, Truth
from tracker.domain.events import EventKind
from tracker.domain.status import Status

Handler = Callable[[dict[str, Any]], dict[str, Any]]
BATCH_SIZE = 100
# The projector's stream batches unless a run says otherwise: the records of about one ingest
# batch each, what a mapping without a batching window hands out at a few thousand events/s (the
# statistics' worst case). ``python -m bench`` runs its main run at the deployed mapping's batches
# (bench/stream_batches.py).
PROJECTOR_BATCH_SIZE = 100


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
class RecipientState:
    status: Status
    tallies: frozenset[str]
    open_count: int
    size: int  # bytes, by DynamoDB's rules
    classifier_bytes: int = 0  # the opens' and clicks' class codes in its timeline
    stored_fetches: int = 0  # the opens and clicks its timeline keeps


@dataclass(frozen=True)
class FinalState:
    message_counts: dict[str, int]
    recipients: dict[str, RecipientState]


@dataclass(frozen=True)
class Check:
    ok: bool
    expected: dict[str, int]
    message_item: dict[str, int]
    recount: dict[str, int]
    wrong_recipients: list[str] = field(default_factory=list)
    projection_failures: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        found = []
        if self.message_item != self.expected:
            found.append(f"message item counts {_fmt(self.message_item)} != expected {_fmt(self.expected)}")
        if self.recount != self.expected:
            found.append(f"recount of recipient items {_fmt(self.recount)} != expected {_fmt(self.expected)}")
        if self.wrong_recipients:
            sample = ", ".join(self.wrong_recipients[:5])
            found.append(
                f"{len(self.wrong_recipients)} recipients differ from the model answer ({sample}...)"
            )
        if self.projection_failures:
            found.append(f"the projector kept failing on shards {', '.join(self.projection_failures)}")
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
    projector_batches: list[BatchStats] = field(default_factory=list)
    recipient_sizes: tuple[int, ...] = ()  # final recipient items, bytes
    classifier_bytes: int = 0  # of them, the class codes of the kept opens and clicks
    stored_fetches: int = 0

    @property
    def requests(self) -> list[Request]:
        """Every metered request: the ingest's and the projector's."""
        return [r for b in (*self.batches, *self.projector_batches) for r in b.requests]

    @property
    def ingest_requests(self) -> list[Request]:
        return [r for b in self.batches for r in b.requests]

    @property
    def projector_requests(self) -> list[Request]:
        return [r for b in self.projector_batches for r in b.requests]


def _fmt(counts: dict[str, int]) -> str:
    return ", ".join(f"{tally} {n}" for tally, n in sorted(counts.items()))


@dataclass(frozen=True)
class Design:
    """What ``run_ingest`` needs of an ingest design: its table(s), how the send path seeds them,
    its ingest handler, its projector (None: counts are written by the ingest) and how to read
    the final state back."""

    name: str
    table: Callable[[], AbstractContextManager[None]]
    seed: Callable[[SyntheticSend, Sequence[int]], None]
    make_handler: Callable[[], Handler]
    final_state: Callable[[SyntheticSend], FinalState]
    make_projector: Callable[[], Handler] | None = None


class _Timed:
    """Runs handlers under the meter and keeps one BatchStats per call."""

    def __init__(self, meter: Meter) -> None:
        self.meter = meter

    def call(
        self, handler: Handler, event: dict[str, Any], latency: float, phase: str
    ) -> tuple[Any, BatchStats]:
        mark = self.meter.mark()
        cpu, wall = time.process_time(), time.perf_counter()
        with self.meter.latency(latency), self.meter.phase(phase), contextlib.redirect_stdout(io.StringIO()):
            response = handler(event)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        stats = BatchStats(len(event["Records"]), tuple(self.meter.since(mark)), wall, cpu, latency)
        return response, stats


class _Projection:
    """The projector on the table's stream, as its event source mapping runs it."""

    def __init__(self, timed: _Timed, make_projector: Callable[[], Handler], batch_size: int) -> None:
        from local.streams import TableStream

        self._timed = timed
        self._handler = make_projector()
        self._stream = TableStream(TABLE, region=REGION, batch_size=batch_size)
        self.batches: list[BatchStats] = []
        self.failures: list[str] = []

    def drain(self, latency: float, metered: bool = True) -> None:
        def invoke(event: dict[str, Any]) -> dict[str, Any]:
            response, stats = self._timed.call(self._handler, event, latency, "projector")
            if metered:
                self.batches.append(stats)
            return dict(response or {})

        with contextlib.ExitStack() as stack:
            if not metered:
                stack.enter_context(self._timed.meter.pause())
            report = self._stream.drain(invoke)
        self.failures += report.failed_batches


def run_ingest(
    design: Design,
    send: SyntheticSend,
    specs: Sequence[EventSpec],
    indexes: Sequence[int],
    truth: Callable[[], Truth],
    *,
    latency_seconds: float = 0.0,
    latency_batches: int | None = None,
    projector_batch_size: int = PROJECTOR_BATCH_SIZE,
    progress: Callable[[str], None] = lambda _: None,
) -> RunResult:
    """Ingest ``specs`` (the stream for the recipients ``indexes``) in batches of 100.

    The first ``latency_batches`` batches (all when None) run with ``latency_seconds`` per request,
    and so do the projector invocations that follow them. ``truth`` is called only for the final
    check (it may still be computed elsewhere meanwhile)."""
    meter = Meter(Backend(ACCOUNT_ID, REGION))
    timed = _Timed(meter)
    started = time.perf_counter()
    with design.table(), meter.installed():
        with meter.pause():
            design.seed(send, indexes)
        projection = (
            _Projection(timed, design.make_projector, projector_batch_size) if design.make_projector else None
        )
        if projection is not None:
            projection.drain(0.0, metered=False)  # the send path's inserts: not SES events
        handler = design.make_handler()
        batches: list[BatchStats] = []
        queue: list[dict[str, Any]] = []
        redelivered = 0
        drain_every = max(1, projector_batch_size // BATCH_SIZE)
        chunks = [specs[start : start + BATCH_SIZE] for start in range(0, len(specs), BATCH_SIZE)]
        chunks.reverse()  # popped from the end
        total = len(chunks)
        for number in _count():
            if not (chunks or queue):
                break
            event = send.sqs_event(chunks.pop()) if chunks else {"Records": []}
            # Redeliveries join the next batch as SQS would hand them out again (up to 100 records).
            room = BATCH_SIZE - len(event["Records"])
            if queue and room > 0:
                event = {"Records": [*event["Records"], *queue[:room]]}
                del queue[:room]
            latency = latency_seconds if latency_batches is None or number < latency_batches else 0.0
            response, stats = timed.call(handler, event, latency, "core")
            batches.append(stats)
            redelivered += _requeue(event, response, queue)
            if projection is not None and ((number + 1) % drain_every == 0 or not (chunks or queue)):
                projection.drain(latency)
            if (number + 1) % 25 == 0 or not (chunks or queue):
                progress(f"{design.name}: batch {number + 1}/{total}")
        with meter.pause():
            state = design.final_state(send)
            check = verify(send, indexes, truth(), state, projection.failures if projection else [])
    return RunResult(
        name=design.name,
        recipients=len(indexes),
        records=sum(b.records for b in batches),
        redelivered=redelivered,
        batches=batches,
        check=check,
        seconds=time.perf_counter() - started,
        projector_batches=projection.batches if projection else [],
        recipient_sizes=tuple(sorted(r.size for r in state.recipients.values())),
        classifier_bytes=sum(r.classifier_bytes for r in state.recipients.values()),
        stored_fetches=sum(r.stored_fetches for r in state.recipients.values()),
    )


def _count() -> Iterator[int]:
    number = 0
    while True:
        yield number
        number += 1


def _requeue(event: dict[str, Any], response: dict[str, Any], queue: list[dict[str, Any]]) -> int:
    failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
    again = 0
    for record in event["Records"]:
        if record["messageId"] in failed:
            copy = dict(record)
            attributes = dict(copy["attributes"])
            attributes["ApproximateReceiveCount"] = str(int(attributes["ApproximateReceiveCount"]) + 1)
            copy["attributes"] = attributes
            queue.append(copy)
            again += 1
    return again


def verify(
    send: SyntheticSend, indexes: Sequence[int], truth: Truth, state: FinalState, failures: Sequence[str]
) -> Check:
    wanted = [send.recipient_id(i) for i in indexes]
    expected = dict(Counter(tally for r in wanted for tally in truth.tallies[r]))
    message_counts = {tally: n for tally, n in state.message_counts.items() if n}
    recount = dict(Counter(tally for r in state.recipients.values() for tally in r.tallies))
    found = state.recipients
    wrong = [
        r
        for r in wanted
        if r not in found
        or found[r].status != truth.statuses[r]
        or found[r].open_count != truth.open_counts[r]
    ]
    ok = message_counts == expected and recount == expected and not wrong and not failures
    return Check(ok, expected, message_counts, recount, wrong, list(failures))


# --- ours -------------------------------------------------------------------------------------------


def _ours_seed(send: SyntheticSend, indexes: Sequence[int]) -> None:
    from tracker.dal.messages import put_message

    put_message(send.message(), send.new_recipients(indexes))


def _ours_state(send: SyntheticSend) -> FinalState:
    from tracker.dal import keys
    from tracker.dal.models import MessageItem, RecipientItem
    from tracker.dal.recipients import facts_from_item

    pk = keys.message_pk(TENANT, send.message_id)
    header = MessageItem.get(pk, keys.MESSAGE_SK, consistent_read=True)
    recipients = {}
    for item in RecipientItem.query(
        pk, RecipientItem.sk.startswith(keys.RECIPIENT_SK_PREFIX), consistent_read=True
    ):
        facts = facts_from_item(item)
        kept = [entry for entry in facts.timeline if entry.kind in (EventKind.OPEN, EventKind.CLICK)]
        recipients[item.recipient_id] = RecipientState(
            Status(item.status),
            facts.tallies,
            facts.open_count,
            capacity.item_size(item.serialize()),
            sum(len(entry.info.split("|", 1)[0]) for entry in kept),
            len(kept),
        )
    return FinalState(header.counts(), recipients)


def ours_handler() -> Handler:
    """The real ingest Lambda handler (Powertools decorators, default Ingestor, DynamoDB store)."""
    from tests.lambda_context import FakeLambdaContext
    from tracker.handlers import ingest

    ingest.default_ingestor.cache_clear()
    context = FakeLambdaContext(function_name="delivery-tracker-ingest", memory_limit_in_mb=1769)

    def handle(event: dict[str, Any]) -> dict[str, Any]:
        return dict(ingest.handler(event, context))

    return handle


def projector_handler() -> Handler:
    """The real projector Lambda handler (Powertools decorators, default Projector)."""
    from tests.lambda_context import FakeLambdaContext
    from tracker.handlers import projector

    projector.default_projector.cache_clear()
    context = FakeLambdaContext(function_name="delivery-tracker-projector", memory_limit_in_mb=1769)

    def handle(event: dict[str, Any]) -> dict[str, Any]:
        return dict(projector.handler(event, context))

    return handle


OURS = Design("ours", emulated_table, _ours_seed, ours_handler, _ours_state, projector_handler)


# --- naive ------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _naive_table() -> Iterator[None]:
    from bench.naive import naive_table

    with emulator(), naive_table(REGION):
        yield


def _naive_seed(send: SyntheticSend, indexes: Sequence[int]) -> None:
    from bench.naive import seed

    seed(send.message(), send.new_recipients(indexes))


def _naive_state(send: SyntheticSend) -> FinalState:
    from bench.naive import load, message_pk

    counts, people = load(message_pk(TENANT, send.message_id))
    recipients = {
        item.recipient_id: RecipientState(
            Status(item.status),
            frozenset(item.tallies or ()),
            int(item.open_count or 0),
            capacity.item_size(item.serialize()),
        )
        for item in people
    }
    return FinalState(counts, recipients)


def naive_handler() -> Handler:
    from bench.naive import NaiveIngestor
    from tracker.models.ses import parse_record_body

    ingestor = NaiveIngestor(parse_record_body)

    def handle(event: dict[str, Any]) -> dict[str, Any]:
        return dict(ingestor.handle(event))

    return handle


NAIVE = Design("naive", _naive_table, _naive_seed, naive_handler, _naive_state)
