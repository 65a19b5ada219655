"""`make localload`: local mode (`python -m local`) under load, end to end, over HTTP.

One run starts local mode as a subprocess with no demo data and, like a person or an integrator:

1. sends one message to ``--send`` recipients (500 by default) through ``POST /messages`` and
   times it until every recipient is ``sent`` (the sender poller, the SES simulator and the
   ingest of the Send events);
2. sends a message to ``--recipients`` recipients (200), and once they are sent posts ``--events``
   SES events (2,000) for them to ``/local/ses-events`` from a few client threads: the synthetic
   mix of the bench (``bench.generator``) with more engagement, about a sixth of the events posted twice
   (a second SNS notification of the same SES event), the whole stream shuffled;
3. times the drain: from the first post until the events queue is empty and every recipient's
   status and open count, and the message's counts, equal the model answer (the distinct events
   applied in time order with ``RecipientFacts``);
4. reads the process's peak resident memory, then stops it with SIGINT (Ctrl+C) and times the stop.

It prints the figures beside the goals and exits 1 when local mode got something wrong (a count
off, an event lost, a failed request, an unclean stop); a missed speed goal is printed, not fatal.
"""

from __future__ import annotations

import argparse
import functools
import http.client
import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import boto3
import requests

from bench.generator import TENANT, EventSpec, Mix, SyntheticSend
from bench.local_process import LocalProcess, wait_until
from local.emulator_tally import TALLY_PATH, difference
from tracker.domain.status import Status

GOAL_EVENTS_PER_SECOND = 200.0
GOAL_SEND_SECONDS = 10.0
GOAL_STOP_SECONDS = 5.0
GOAL_PEAK_RSS_BYTES = 1024**3
# The load-robust figure: each process runs on one core at most (one interpreter lock each), so at
# 200 events/s each may spend at most 5 s of CPU per 1,000 events, however loaded the machine is.
GOAL_CPU_SECONDS_PER_1000 = 1000 / GOAL_EVENTS_PER_SECOND
# More engagement than the bench's newsletter: ~10 SQS records per recipient.
# Heavier than a real send (most recipients open several times) so that 200 recipients make the
# 2,000 events the load asks for; a slice of Apple MPP fetches keeps the classifier in the path.
LOAD_MIX = Mix(
    open=0.9,
    click=0.5,
    duplicate=0.2,
    opens=((5, 0.3), (8, 0.3), (10, 0.4)),
    clicks=((1, 0.5), (2, 0.3), (3, 0.2)),
    apple_mpp=0.1,
)
QUEUE_EMPTY_GRACE_SECONDS = 30.0  # an empty queue and a wrong state for this long: something was lost


@dataclass(frozen=True)
class LoadPlan:
    recipients: int = 200
    events: int = 2000
    send: int = 500
    posters: int = 4
    seed: int = 7
    timeout_seconds: float = 900.0  # per phase: only a hung local mode takes this long


@dataclass
class LoadResult:
    plan: LoadPlan
    send_seconds: float = 0.0
    posted: int = 0
    duplicates: int = 0
    post_seconds: float = 0.0
    drain_seconds: float = 0.0
    peak_rss_bytes: int = 0
    cpu_seconds: list[float] = field(default_factory=list)  # during the load: local mode, then the emulator
    # During the load, per AWS operation: the emulator's requests and its CPU seconds on them.
    operations: dict[str, tuple[int, float]] = field(default_factory=dict)
    post_waits: list[float] = field(default_factory=list)  # seconds each post waited for its answer
    depths: list[tuple[float, int]] = field(
        default_factory=list
    )  # (seconds since the first post, queue depth)
    exact_seconds: float = 0.0  # since the first post: when the state first equalled the model answer
    stop_seconds: float = 0.0
    exit_code: int | None = None
    problems: list[str] = field(default_factory=list)
    output: str = ""

    @property
    def events_per_second(self) -> float:
        return self.posted / self.drain_seconds if self.drain_seconds else 0.0


@dataclass(frozen=True)
class Identity:
    recipient_id: str
    email: str
    ses_message_id: str
    sent_at: datetime
    message_id: str


@dataclass
class LoadSend(SyntheticSend):
    """The bench's synthetic send, for recipients that exist: their ids come from the API."""

    identities: list[Identity] = field(default_factory=list)

    def sent_at(self, index: int) -> datetime:
        # The real send time: the engagement rules judge fetches by their distance from it.
        return self.identities[index].sent_at

    def recipient_id(self, index: int) -> str:
        return self.identities[index].recipient_id

    def email(self, index: int) -> str:
        return self.identities[index].email

    def ses_message_id(self, index: int) -> str:
        return self.identities[index].ses_message_id

    def ses_event(self, spec: EventSpec) -> dict[str, Any]:
        self.message_id = self.identities[spec.recipient].message_id  # the tags name its message
        return super().ses_event(spec)

    def messages(self) -> dict[str, range]:
        """Each message of the load and the indexes of its recipients."""
        found: dict[str, list[int]] = {}
        for index, identity in enumerate(self.identities):
            found.setdefault(identity.message_id, []).append(index)
        return {message: range(indexes[0], indexes[-1] + 1) for message, indexes in found.items()}


class Api:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        token = self.session.post(f"{base_url}/local/token", json={"tenant_id": TENANT}, timeout=30)
        token.raise_for_status()
        self.headers = {"Authorization": f"Bearer {token.json()['token']}"}

    def call(self, method: str, path: str, session: requests.Session | None = None, **kwargs: Any) -> Any:
        response = (session or self.session).request(
            method, f"{self.base_url}{path}", headers=self.headers, timeout=60, **kwargs
        )
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path} answered {response.status_code}: {response.text[:500]}")
        return response.json()

    def send(self, recipients: int, subject: str) -> str:
        body = {
            "kind": "email",
            "subject": subject,
            "text": "Hello",
            "recipients": [
                {"customer_id": f"cust-{i}", "email": f"person{i}@example.com"} for i in range(recipients)
            ],
        }
        return str(self.call("POST", "/messages", json=body)["message_id"])

    def counts(self, message_id: str) -> dict[str, int]:
        return dict(self.call("GET", f"/messages/{message_id}")["counts"])

    def recipients(self, message_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            query = f"?limit=200&cursor={cursor}" if cursor else "?limit=200"
            page = self.call("GET", f"/messages/{message_id}/recipients{query}")
            items += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                return items


def all_sent(api: Api, message_id: str, recipients: int) -> bool:
    counts = api.counts(message_id)
    return counts.get(Status.SENT, 0) == recipients


def timed_send(api: Api, recipients: int, timeout: float) -> tuple[str, float]:
    started = time.monotonic()
    message_id = api.send(recipients, f"{recipients} recipients")
    wait_until(lambda: all_sent(api, message_id, recipients), timeout, f"{recipients} recipients sent")
    return message_id, time.monotonic() - started


def build_load(api: Api, plan: LoadPlan) -> LoadSend:
    """The load's recipients, sent in messages of at most MAX_RECIPIENTS, and its event stream."""
    from tracker.models.send import MAX_RECIPIENTS

    identities: list[Identity] = []
    for start in range(0, plan.recipients, MAX_RECIPIENTS):
        identities += sent_recipients(api, min(MAX_RECIPIENTS, plan.recipients - start), plan.timeout_seconds)
    load = LoadSend(plan.recipients, seed=plan.seed, mix=LOAD_MIX, identities=identities)
    if len(load.specs) < plan.events:
        raise ValueError(f"{plan.recipients} recipients make only {len(load.specs)} events: ask for fewer")
    load.specs = first_copies_first(load.specs[: plan.events])
    return load


def sent_recipients(api: Api, recipients: int, timeout: float) -> list[Identity]:
    """Send one message and wait for its Send events: its recipients, in customer order."""
    message_id, _ = timed_send(api, recipients, timeout)

    def with_send_times() -> list[dict[str, Any]] | None:
        items = api.recipients(message_id)
        return items if all(item["sent_at"] for item in items) else None

    items = wait_until(with_send_times, timeout, "the Send events of the load's recipients")
    by_index = sorted(items, key=lambda item: int(item["customer_id"].split("-")[1]))
    return [
        Identity(
            r["recipient_id"],
            r["email"],
            r["ses_message_id"],
            datetime.fromisoformat(r["sent_at"]),
            message_id,
        )
        for r in by_index
    ]


def first_copies_first(specs: Sequence[EventSpec]) -> list[EventSpec]:
    """The stream with each event's first delivery marked as the original (``copy`` 0): cutting the
    stream short may have dropped an original and kept its second delivery."""
    seen: set[tuple[Any, ...]] = set()
    marked = []
    for spec in specs:
        first = spec.identity not in seen
        seen.add(spec.identity)
        marked.append(replace(spec, copy=0 if first else 1))
    return marked


def post_events(api: Api, bodies: Sequence[bytes], posters: int) -> list[float]:
    """POST each body to /local/ses-events from ``posters`` threads, each over one kept-alive
    connection (http.client: the client's own CPU competes with local mode's on this machine);
    how long each post waited for its answer."""
    address = urlsplit(api.base_url)
    headers = {**api.headers, "Content-Type": "application/json"}

    def post_share(share: Sequence[bytes]) -> list[float]:
        waits = []
        connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=60)
        try:
            for body in share:
                started = time.monotonic()
                connection.request("POST", "/local/ses-events", body=body, headers=headers)
                response = connection.getresponse()
                answer = response.read()
                waits.append(time.monotonic() - started)
                if response.status != 202:
                    raise RuntimeError(f"POST /local/ses-events answered {response.status}: {answer[:300]!r}")
        finally:
            connection.close()
        return waits

    with ThreadPoolExecutor(max_workers=posters) as pool:
        shares = pool.map(post_share, [bodies[i::posters] for i in range(posters)])
        return [wait for share in shares for wait in share]


class DepthSampler:
    """The events queue's depth twice a second, in a thread, from the first post until stopped:
    where the events wait (a deep queue: the pollers are behind; an empty one while the counts
    are still wrong: the projector is)."""

    def __init__(self, endpoint: str | None, started: float) -> None:
        self.samples: list[tuple[float, int]] = []
        self._endpoint, self._started = endpoint, started
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            try:
                self.samples.append((time.monotonic() - self._started, queue_depth(self._endpoint)))
            except Exception:
                continue

    def stop(self) -> list[tuple[float, int]]:
        self._stop.set()
        self._thread.join(timeout=5)
        return self.samples


Expected = dict[str, tuple[dict[str, tuple[str, int]], Counter[str]]]


def expected_state(load: LoadSend) -> Expected:
    """Per message: recipient id -> (status, open count), and the message's counts, from the model
    answer. A recipient none of whose events made it into the stream is still ``sent`` (its real Send)."""
    from tracker.models.ses.parsing import parse_record_body

    expected: Expected = {}
    for message_id, indexes in load.messages().items():
        truth = load.truth(parse_record_body, indexes)
        state = {
            rid: (str(Status.SENT if status == Status.QUEUED else status), truth.customer_opens[rid])
            for rid, status in truth.statuses.items()
        }
        # The counts: each recipient's status and engagement tallies (a recipient still queued in
        # the model answer is sent, as above).
        counts = Counter(
            str(Status.SENT) if tally == Status.QUEUED else str(tally)
            for tallies in truth.tallies.values()
            for tally in tallies
        )
        expected[message_id] = (state, counts)
    return expected


def queue_depth(endpoint: str | None) -> int:
    """Messages in the events queue, visible or in flight (0 when the emulator is not reachable)."""
    if endpoint is None:
        return 0
    sqs, url = events_queue(endpoint)
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


@functools.cache
def events_queue(endpoint: str) -> tuple[Any, str]:
    """An SQS client of the emulator and the events queue's URL (looked up once: the checks
    should cost local mode as little as they can)."""
    from tracker import constants

    sqs = boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",  # the emulator's fake credentials
    )
    return sqs, str(sqs.get_queue_url(QueueName=constants.EVENTS_QUEUE_NAME)["QueueUrl"])


def differences(api: Api, expected: Expected) -> list[str]:
    problems = []
    for message_id, (want, counts) in expected.items():
        got = {r["recipient_id"]: (r["status"], r["open_count"]) for r in api.recipients(message_id)}
        problems += [
            f"recipient {rid} of {message_id}: {got.get(rid)} instead of {state}"
            for rid, state in want.items()
            if got.get(rid) != state
        ]
        stored = {status: n for status, n in api.counts(message_id).items() if n}
        if stored != dict(counts):
            problems.append(f"message {message_id} counts {stored} instead of {dict(counts)}")
    return problems


def wait_drained(
    api: Api, expected: Expected, endpoint: str | None, plan: LoadPlan, started: float, result: LoadResult
) -> list[str]:
    """Wait until the queue is empty and the state is the model answer; the differences left when
    that does not happen (the queue stayed empty for a while and the state is still wrong)."""
    last: list[str] = []
    empty_since: float | None = None

    def drained() -> bool:
        nonlocal empty_since
        if queue_depth(endpoint):
            empty_since = None
            return False  # events still wait: reading every recipient now would only slow them
        last[:] = differences(api, expected)
        if not last and not result.exact_seconds:
            result.exact_seconds = time.monotonic() - started
        empty = queue_depth(endpoint) == 0
        empty_since = (empty_since or time.monotonic()) if empty else None
        if last and empty_since is not None and time.monotonic() - empty_since > QUEUE_EMPTY_GRACE_SECONDS:
            raise TimeoutError("the events queue is empty but the state is not the model answer")
        return empty and not last

    try:
        wait_until(drained, plan.timeout_seconds, "the events to be applied", interval=0.5)
    except TimeoutError as error:
        return [str(error), *last[:20]]
    return []


def run_load(plan: LoadPlan) -> LoadResult:
    result = LoadResult(plan)
    local = LocalProcess()
    try:
        local.wait_healthy(plan.timeout_seconds)
        api = Api(local.base_url)
        if plan.send:
            _, result.send_seconds = timed_send(api, plan.send, plan.timeout_seconds)
        load = build_load(api, plan)
        expected = expected_state(load)
        result.posted = len(load.specs)
        result.duplicates = sum(1 for spec in load.specs if spec.copy)
        bodies = [json.dumps(load.ses_event(spec)).encode() for spec in load.specs]
        started = time.monotonic()
        cpu_before = local.cpu_seconds()
        tally_before = emulator_tally(local.emulator_endpoint())
        sampler = DepthSampler(local.emulator_endpoint(), started)
        result.post_waits = post_events(api, bodies, plan.posters)
        result.post_seconds = time.monotonic() - started
        result.problems += wait_drained(api, expected, local.emulator_endpoint(), plan, started, result)
        result.drain_seconds = time.monotonic() - started
        result.depths = sampler.stop()
        result.peak_rss_bytes = local.peak_rss_bytes()
        cpu_after = local.cpu_seconds()
        result.operations = difference(emulator_tally(local.emulator_endpoint()), tally_before)
        result.cpu_seconds = [cpu_after[pid] - cpu_before.get(pid, 0.0) for pid in cpu_after]
    except Exception as error:
        result.problems.append(f"{type(error).__name__}: {error}")
    finally:
        if local.process.poll() is None:
            result.stop_seconds, result.exit_code = local.interrupt(timeout=max(60.0, GOAL_STOP_SECONDS))
        else:
            result.exit_code = local.process.returncode
        result.output = local.output
    if result.exit_code != 0:
        result.problems.append(f"local mode exited with {result.exit_code} on SIGINT")
    return result


def report(result: LoadResult) -> str:
    plan = result.plan

    def goal(met: bool, text: str) -> str:
        return f"  {'✔' if met else '✘'} {text}"

    lines = [
        f"Local mode under load: {plan.recipients} recipients, {result.posted:,} SES events "
        f"({result.duplicates:,} posted twice), shuffled, from {plan.posters} client threads",
        f"  posted in {result.post_seconds:.1f} s; applied end to end (queue empty, every recipient "
        f"and the counts equal the model answer) in {result.drain_seconds:.1f} s",
        "  CPU during the load: "
        + ", ".join(
            f"{seconds:.1f} s ({name})"
            for name, seconds in zip(("local mode", "emulator"), result.cpu_seconds, strict=False)
        ),
        *latency_lines(result),
        *operation_lines(result),
        cpu_goal(result, goal),
        goal(
            result.events_per_second >= GOAL_EVENTS_PER_SECOND,
            f"≥ {GOAL_EVENTS_PER_SECOND:.0f} events/s end to end: {result.events_per_second:,.0f} events/s",
        ),
    ]
    if plan.send:
        lines.append(
            goal(
                result.send_seconds <= GOAL_SEND_SECONDS,
                f"a {plan.send}-recipient send reaches `sent` in ≤ {GOAL_SEND_SECONDS:.0f} s: "
                f"{result.send_seconds:.1f} s",
            )
        )
    lines += [
        goal(
            0 < result.peak_rss_bytes < GOAL_PEAK_RSS_BYTES,
            f"peak memory (RSS, local mode and its emulator) < 1 GB: {result.peak_rss_bytes / 1024**2:,.0f} MB",
        ),
        goal(
            result.exit_code == 0 and result.stop_seconds <= GOAL_STOP_SECONDS,
            f"Ctrl+C stops in ≤ {GOAL_STOP_SECONDS:.0f} s: {result.stop_seconds:.1f} s (exit {result.exit_code})",
        ),
    ]
    if result.problems:
        lines += ["  ✘ local mode got something wrong:", *(f"    {problem}" for problem in result.problems)]
    else:
        lines.append(
            "  ✔ exact: every recipient's status and open count and the message's counts as expected"
        )
    return "\n".join(lines)


def cpu_goal(result: LoadResult, goal: Callable[[bool, str], str]) -> str:
    """CPU seconds per 1,000 events of each process: what the wall-clock rate would be on an idle
    machine, whatever else shares this one."""
    per_1000 = [seconds * 1000 / result.posted for seconds in result.cpu_seconds] if result.posted else []
    return goal(
        bool(per_1000) and max(per_1000) <= GOAL_CPU_SECONDS_PER_1000,
        f"≤ {GOAL_CPU_SECONDS_PER_1000:.0f} s of CPU per 1,000 events in each process (load-robust): "
        + ", ".join(
            f"{seconds:.2f} s ({name})"
            for name, seconds in zip(("local mode", "emulator"), per_1000, strict=False)
        ),
    )


def emulator_tally(endpoint: str | None) -> dict[str, Any]:
    """The emulator's requests and CPU per operation so far (local/emulator_tally.py)."""
    if endpoint is None:
        return {}
    answer = requests.get(f"{endpoint}{TALLY_PATH}", timeout=30)
    answer.raise_for_status()
    return dict(answer.json())


def operation_lines(result: LoadResult, shown: int = 8) -> list[str]:
    """The emulator's busiest operations during the load, per 1,000 events: where its CPU goes,
    and how many requests local mode makes for it."""
    if not result.operations or not result.posted:
        return []
    scale = 1000 / result.posted
    ranked = sorted(result.operations.items(), key=lambda item: -item[1][1])
    total_requests = sum(n for n, _ in result.operations.values())
    total_cpu = sum(cpu for _, cpu in result.operations.values())
    parts = [f"{op} {n * scale:,.0f} ({cpu * scale:.2f} s)" for op, (n, cpu) in ranked[:shown]]
    return [
        f"  the emulator per 1,000 events: {total_requests * scale:,.0f} requests, {total_cpu * scale:.2f} s "
        "of CPU answering them; by operation, requests (CPU):",
        *(f"    {', '.join(parts[i : i + 3])}" for i in range(0, len(parts), 3)),
    ]


def latency_lines(result: LoadResult) -> list[str]:
    """Where the time went: how long a post waited, how deep the events queue got and when it
    emptied, and when the state was right (the projector's lag behind the queue)."""
    lines = []
    if result.post_waits:
        waits = sorted(result.post_waits)
        p50, p95 = waits[len(waits) // 2], waits[min(len(waits) - 1, int(len(waits) * 0.95))]
        lines.append(
            f"  a post waited {p50 * 1000:.1f} ms (median), {p95 * 1000:.1f} ms (95th percentile), "
            f"{waits[-1] * 1000:.0f} ms at most"
        )
    if result.depths:
        peak_at, peak = max(result.depths, key=lambda sample: sample[1])
        busy = [at for at, depth in result.depths if depth]
        emptied = f"last seen non-empty at {busy[-1]:.1f} s" if busy else "never seen non-empty"
        lines.append(
            f"  the events queue held at most {peak:,} messages (at {peak_at:.1f} s), {emptied}; "
            f"the state equalled the model answer at {result.exact_seconds:.1f} s"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make localload", description=__doc__.split("\n\n")[0])
    defaults = LoadPlan()
    parser.add_argument("--recipients", type=int, default=defaults.recipients)
    parser.add_argument("--events", type=int, default=defaults.events)
    parser.add_argument(
        "--send", type=int, default=defaults.send, help="recipients of the timed send (0: none)"
    )
    parser.add_argument("--posters", type=int, default=defaults.posters, help="client threads posting events")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    args = parser.parse_args(argv)
    plan = LoadPlan(args.recipients, args.events, args.send, args.posters, args.seed)
    result = run_load(plan)
    print(report(result), flush=True)
    if result.problems:
        print("\nlocal mode's output:\n" + result.output[-5000:], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
