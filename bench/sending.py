"""Section 9 of ``python -m bench``: sending at the account's SES rate.

The real sender (``tracker.logic.sending.Sender`` with the real SES adapter ``dal.outbound.SesMailer``
and the rate read through ``SesSendRate`` from ``GetAccount``) against an in-process SES
(``bench.send_fakes.LatentSes``: 50 ms per call, a token bucket of the account's rate with one
second of burst that answers ``TooManyRequestsException`` when empty) and an in-memory store with
the table's conditional writes and 5 ms per DynamoDB request (``MemorySendStore``, counting the
requests and write units the DynamoDB adapter makes: ``tests/unit/test_sender_parallel.py`` holds
it to them). N workers (the sender invocations the event source mapping runs at once) take jobs
from one queue; a job that is not done goes back to the queue at once (SQS would wait for the
visibility timeout), with its receive count.

Three designs at each rate:

* **naive**: today's sender before pacing: 2 workers, jobs of 10, one SES call after another, no
  pacer (the same code with ``parallel_calls=1`` and no ``Pacing``);
* **ours**: the deployed defaults (tracker/constants.py): 4 workers, jobs of 50, 16 calls in
  flight each, each worker paced to rate / 4;
* **bulk**: the same workers and jobs, but ``SendBulkEmail`` (one call for up to 50 destinations,
  one token each) instead of ``SendEmail``: claims and outcomes as ours, one paced bulk call per
  job of up to 50 destinations (at most one second of the rate: SES spends a token per destination)
  (bench-only: see the README for why the sender does not use it).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from botocore.exceptions import ClientError

from bench.report import Goal, heading, table
from bench.send_fakes import LatentSes, MemorySendStore, NoSuppressions
from tracker import constants
from tracker.dal.outbound import SesMailer, SesSendRate
from tracker.domain.facts import RecipientFacts
from tracker.domain.messages import MessageContent, SendJob, SendTarget
from tracker.domain.status import Status
from tracker.logic.pacing import Pacer, PaceShare
from tracker.logic.sending import Pacing, Sender, SenderPolicy

SES_LATENCY = 0.05
STORE_LATENCY = 0.005
RATES = (1000.0, 14.0)
RATE_GOAL = 0.90
THROTTLE_GOAL = 0.01
LARGE_SEND = 100_000
CONTENT = MessageContent(subject="Spring term", text="Hello", html="<p>Hello</p>")
SENDER = "billing@studio.example"
BULK_LIMIT = 50  # SendBulkEmail's destinations per call


@dataclass(frozen=True)
class Design:
    name: str
    workers: int
    job_size: int
    parallel_calls: int
    paced: bool
    bulk: bool = False


NAIVE = Design("naive", workers=2, job_size=10, parallel_calls=1, paced=False)
OURS = Design(
    "ours",
    workers=constants.DEFAULT_SENDER_CONCURRENCY,
    job_size=constants.DEFAULT_SEND_JOB_SIZE,
    parallel_calls=constants.DEFAULT_SEND_PARALLEL_CALLS,
    paced=True,
)
BULK = Design("bulk", OURS.workers, OURS.job_size, OURS.parallel_calls, paced=True, bulk=True)


@dataclass(frozen=True)
class SendRun:
    design: Design
    rate: float
    recipients: int
    seconds: float
    sent: int
    failed: int
    ses_calls: int
    throttled: int
    doubles: int  # addresses SES accepted more than once
    unsettled: int  # recipients left without an outcome
    requests: int
    write_units: float

    @property
    def per_second(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    @property
    def share_of_rate(self) -> float:
        return self.per_second / self.rate

    @property
    def throttled_share(self) -> float:
        return self.throttled / self.ses_calls if self.ses_calls else 0.0

    @property
    def exact(self) -> bool:
        return self.doubles == 0 and self.unsettled == 0


def _recipients(design: Design, rate: float, seconds: float) -> int:
    """A run of about ``seconds``: ours and bulk at the rate, naive at what one call after another
    allows (~16/s a worker), in whole jobs (at least one per worker)."""
    expected = rate if design.paced else min(rate, design.workers / (SES_LATENCY + 3 * STORE_LATENCY))
    jobs = max(design.workers, round(expected * seconds / design.job_size))
    return jobs * design.job_size


def run(design: Design, rate: float, seconds: float) -> SendRun:
    n = _recipients(design, rate, seconds)
    store = MemorySendStore(latency_seconds=STORE_LATENCY)
    ses = LatentSes(rate, latency_seconds=SES_LATENCY)
    ids = store.add_message(
        "tenant-a", "m1", [(f"r{i:06d}", f"person{i}@example.com") for i in range(n)], CONTENT
    )
    jobs: queue.Queue[tuple[SendJob, int]] = queue.Queue()
    for start in range(0, n, design.job_size):
        jobs.put((SendJob("tenant-a", "m1", tuple(ids[start : start + design.job_size])), 1))
    outstanding = [jobs.qsize()]
    lock = threading.Lock()

    def worker() -> None:
        process = _bulk_worker(store, ses, design) if design.bulk else _sender(store, ses, design)
        while True:
            with lock:
                if outstanding[0] == 0:
                    return
            try:
                job, receive_count = jobs.get(timeout=0.05)
            except queue.Empty:
                continue
            done = process(job, receive_count)
            with lock:
                if done or receive_count >= constants.MAX_RECEIVE_COUNT:
                    outstanding[0] -= 1
                else:
                    jobs.put((job, receive_count + 1))

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, name=f"sender-{i}") for i in range(design.workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds_taken = time.perf_counter() - started
    rows = store.rows().values()
    return SendRun(
        design=design,
        rate=rate,
        recipients=n,
        seconds=seconds_taken,
        sent=sum(1 for r in rows if r.facts.send_outcome is Status.SENT),
        failed=sum(1 for r in rows if r.facts.send_outcome is Status.FAILED),
        ses_calls=ses.calls,
        throttled=ses.throttled,
        doubles=sum(1 for count in ses.sent.values() if count > 1),
        unsettled=sum(1 for r in rows if r.facts.send_outcome is Status.QUEUED or r.claim is not None),
        requests=store.request_count,
        write_units=store.write_units,
    )


def _sender(store: MemorySendStore, ses: LatentSes, design: Design) -> Callable[[SendJob, int], bool]:
    pacing = (
        Pacing(Pacer(None), SesSendRate(ses), PaceShare(workers=design.workers))  # type: ignore[arg-type]
        if design.paced
        else None
    )
    sender = Sender(
        store,
        SesMailer(ses, SENDER, constants.CONFIGURATION_SET_NAME),  # type: ignore[arg-type]
        NoSuppressions(store),
        SenderPolicy(parallel_calls=design.parallel_calls),
        pacing=pacing,
    )
    return lambda job, count: sender.process_job(job, receive_count=count).done


def _bulk_worker(store: MemorySendStore, ses: LatentSes, design: Design) -> Callable[[SendJob, int], bool]:
    """One job: the sender's reads, claims in parallel, one ``SendBulkEmail`` paced for all its
    destinations (retried whole on throttling), outcomes in parallel."""
    share, rate = PaceShare(workers=design.workers), SesSendRate(ses).max_send_rate()  # type: ignore[arg-type]
    pacer = Pacer(share.per_worker(rate), burst=share.burst(rate))
    pool = ThreadPoolExecutor(design.parallel_calls)
    # SES spends one token per destination: a call may not exceed the bucket (one second of the rate).
    call_size = max(1, min(BULK_LIMIT, int(ses.limiter.rate) if ses.limiter else BULK_LIMIT))
    suppressions = NoSuppressions(store)

    def process(job: SendJob, _receive_count: int) -> bool:
        targets = store.load_targets(job.tenant_id, job.message_id, job.recipient_ids)
        todo = [t for t in targets.values() if t.unclaimed_unsent]
        if not todo:
            return True
        suppressions.active_reasons(job.tenant_id, [t.email for t in todo])
        store.load_content(job.tenant_id, job.message_id)
        now = datetime.now(UTC)
        claimed = list(pool.map(lambda t: store.claim(t, "bulk", now), todo))
        done = True
        for start in range(0, len(claimed), call_size):
            done = _bulk_call(claimed[start : start + call_size]) and done
        return done

    def _bulk_call(claimed: list[SendTarget]) -> bool:
        entries = [{"Destination": {"ToAddresses": [t.email]}} for t in claimed]
        for attempt in range(6):
            for _ in entries:
                pacer.acquire()
            try:
                answer = ses.send_bulk_email(BulkEmailEntries=entries)
                break
            except ClientError:  # throttled: the whole call again, after a pause
                pacer.throttled()
                time.sleep(0.2 * 2**attempt)
        else:
            for target in claimed:
                store.release(target)
            return False
        results = answer["BulkEmailEntryResults"]
        list(
            pool.map(
                lambda pair: store.record(pair[0], _sent(pair[0].facts), pair[1]["MessageId"]),
                zip(claimed, results, strict=True),
            )
        )
        return True

    return process


def _sent(facts: RecipientFacts) -> RecipientFacts:
    return replace(facts, send_outcome=Status.SENT)


def measure(seconds: float, progress: Callable[[str], None]) -> list[SendRun]:
    runs = []
    for rate in RATES:
        for design in (NAIVE, OURS, BULK):
            progress(f"sending: {design.name} at {rate:,.0f}/s")
            runs.append(run(design, rate, seconds))
            progress(f"  {runs[-1].sent:,} sent in {runs[-1].seconds:,.1f} s, {runs[-1].throttled} throttled")
    return runs


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:,.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:,.1f} min"
    return f"{seconds:,.0f} s"


def send_section(runs: list[SendRun], seconds: float, goals: list[Goal], number: str = "9") -> str:
    lines = [heading(number, "Sending at the account's SES rate")]
    if not runs:
        lines.append("  skipped (--skip-send)")
        goals.append(Goal("sends at ≥ 90% of the SES rate", None, "not measured"))
        return "\n".join(lines)
    rows = []
    for r in runs:
        rows.append(
            [
                f"{r.design.name} @ {r.rate:,.0f}/s",
                f"{r.sent:,}/{r.recipients:,}",
                f"{r.seconds:,.1f}",
                f"{r.per_second:,.1f}",
                f"{r.share_of_rate:.0%}",
                f"{r.ses_calls / max(r.sent, 1):.2f}",
                f"{r.throttled_share:.1%}",
                f"{r.requests / max(r.sent, 1):.2f}",
                f"{r.write_units / max(r.sent, 1):.2f}",
                _duration(LARGE_SEND / r.per_second) if r.per_second else "-",
                "yes" if r.exact else f"NO ({r.doubles} doubled, {r.unsettled} unsettled)",
            ]
        )
    lines.append(
        table(
            [
                "design @ SES rate",
                "sent",
                "s",
                "sends/s",
                "of rate",
                "SES calls/sent",
                "throttled",
                "DDB req/sent",
                "WU/sent",
                "100,000 in",
                "exact",
            ],
            rows,
            "lrrrrrrrrrl",
        )
    )
    lines.append(
        f"  SES in-process: {SES_LATENCY * 1000:.0f} ms a call, a token bucket of the rate with 1 s of burst"
        f" (throttles like SES); store: {STORE_LATENCY * 1000:.0f} ms a DynamoDB request, conditional writes\n"
        f"  runs of ~{seconds:.0f} s each; '100,000 in' extrapolated from the measured sends/s; unfinished"
        " jobs are redelivered at once\n"
        "  naive: 2 workers, jobs of 10, one SES call after another, no pacing (the sender before this change);\n"
        f"  ours: {OURS.workers} workers x {OURS.parallel_calls} calls in flight, jobs of {OURS.job_size},"
        " each paced to rate/N; bulk: ours with one SendBulkEmail per job"
    )
    for rate in RATES:
        ours = next(r for r in runs if r.design is OURS and r.rate == rate)
        naive = next(r for r in runs if r.design is NAIVE and r.rate == rate)
        goals.append(
            Goal(
                f"sends at ≥ {RATE_GOAL:.0%} of a {rate:,.0f}/s SES rate, ≤ {THROTTLE_GOAL:.0%} of SES calls"
                " throttled, every recipient sent once",
                ours.share_of_rate >= RATE_GOAL and ours.throttled_share <= THROTTLE_GOAL and ours.exact,
                f"{ours.per_second:,.1f}/s ({ours.share_of_rate:.0%}), {ours.throttled_share:.1%} throttled,"
                f" exact: {ours.exact}; naive {naive.per_second:,.1f}/s ({naive.share_of_rate:.0%}),"
                f" {naive.throttled_share:.1%} throttled; 100,000 in {_duration(LARGE_SEND / ours.per_second)}"
                f" (naive {_duration(LARGE_SEND / max(naive.per_second, 1e-9))})",
                why="the machine's other load slows the workers' threads (the SES and store latencies are sleeps)",
            )
        )
    return "\n".join(lines)
