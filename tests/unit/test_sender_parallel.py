"""The sender with SES calls in parallel: exactly once whatever the threads' order, SES's answers,
the store's conflicts and redeliveries (an in-memory store with the table's conditional writes)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.send_fakes import MemorySendStore, NoSuppressions
from tracker import constants
from tracker.domain.errors import (
    ConflictError,
    RecipientRejectedError,
    SendingBlockedError,
    SendOutcomeUnknownError,
    SendThrottledError,
    SendUnavailableError,
)
from tracker.domain.messages import MessageContent, OutgoingMail, SendJob
from tracker.domain.records import RecipientKey
from tracker.domain.status import Status
from tracker.logic.pacing import Pacer, PaceShare
from tracker.logic.sending import Pacing, Sender, SenderPolicy

TENANT, MESSAGE = "tenant-a", "m1"
CONTENT = MessageContent(subject="Invoice", text="Hello")

# What SES does with one call: accept, or one of its errors ("lost": accepted, answer lost).
ANSWERS = ("ok", "throttle", "unavailable", "rejected", "lost", "blocked")


class ScriptedSes:
    """A Mailer: per address, the answers of its successive calls (then "ok")."""

    def __init__(self, scripts: dict[str, list[str]]) -> None:
        self._scripts = {address: list(answers) for address, answers in scripts.items()}
        self._lock = threading.Lock()
        self.accepted: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        # Set: the first ``parties`` calls wait for each other (they must be in flight together).
        self.barrier: threading.Barrier | None = None

    def send(self, mail: OutgoingMail) -> str:
        with self._lock:
            self.calls[mail.to] += 1
            script = self._scripts.get(mail.to) or []
            answer = script.pop(0) if script else "ok"
            if answer in ("ok", "lost"):
                self.accepted[mail.to] += 1
            barrier = self.barrier
            if self.calls.total() >= 8:
                self.barrier = None
        if barrier is not None:
            barrier.wait(timeout=10)
        if answer == "throttle":
            raise SendThrottledError("TooManyRequestsException: Maximum sending rate exceeded.")
        if answer == "unavailable":
            raise SendUnavailableError("InternalFailure")
        if answer == "rejected":
            raise RecipientRejectedError("MessageRejected: no")
        if answer == "blocked":
            raise SendingBlockedError("SendingPausedException: paused")
        if answer == "lost":
            raise SendOutcomeUnknownError("read timeout")
        return f"ses-{mail.to}"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def world(
    n: int, scripts: dict[str, list[str]], parallel: int
) -> tuple[MemorySendStore, ScriptedSes, SendJob]:
    store = MemorySendStore()
    ids = store.add_message(TENANT, MESSAGE, [(f"r{i:04d}", f"p{i}@example.com") for i in range(n)], CONTENT)
    return store, ScriptedSes(scripts), SendJob(TENANT, MESSAGE, tuple(ids))


def sender(store: MemorySendStore, ses: ScriptedSes, parallel: int, clock: Clock) -> Sender:
    return Sender(
        store,
        ses,
        NoSuppressions(store),
        SenderPolicy(throttle_attempts=2, backoff_base_seconds=0, parallel_calls=parallel),
        clock=clock,
        sleep=lambda _s: None,
        pacing=Pacing(Pacer(1000.0, sleep=lambda _s: None), share=PaceShare(workers=2)),
    )


def deliver_until_done(store: MemorySendStore, ses: ScriptedSes, job: SendJob, parallel: int) -> None:
    """SQS's redeliveries: the same job until it is done, each later than any claim can live."""
    clock = Clock()
    worker = sender(store, ses, parallel, clock)
    for receive_count in range(1, constants.MAX_RECEIVE_COUNT + 1):
        if worker.process_job(job, receive_count=receive_count).done:
            return
        clock.now += timedelta(minutes=5)
    raise AssertionError("the last delivery settles every recipient")


def assert_exactly_once(store: MemorySendStore, ses: ScriptedSes) -> None:
    for key, row in store.rows().items():
        accepted = ses.accepted[row.email]
        assert accepted <= 1, f"{row.email} reached SES {accepted} times"
        assert row.claim is None, key
        assert row.facts.send_outcome is not Status.QUEUED, key
        if row.facts.send_outcome is Status.SENT:
            assert accepted == 1, key
            assert row.ses_message_id == f"ses-{row.email}", key
        if accepted == 0:
            assert row.facts.send_outcome is not Status.SENT, key


scripts_strategy = st.dictionaries(
    st.integers(min_value=0, max_value=29).map(lambda i: f"p{i}@example.com"),
    st.lists(st.sampled_from(ANSWERS), max_size=4),
    max_size=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(min_value=1, max_value=30), scripts=scripts_strategy, parallel=st.sampled_from([1, 3, 8])
)
def test_every_recipient_reaches_ses_at_most_once_and_ends_with_an_outcome(
    n: int, scripts: dict[str, list[str]], parallel: int
) -> None:
    store, ses, job = world(n, scripts, parallel)
    deliver_until_done(store, ses, job, parallel)
    assert_exactly_once(store, ses)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(min_value=1, max_value=30),
    conflicts=st.sets(st.integers(min_value=0, max_value=29)),
    copies=st.integers(min_value=2, max_value=3),
)
def test_concurrent_copies_of_a_job_with_write_conflicts_send_each_recipient_once(
    n: int, conflicts: set[int], copies: int
) -> None:
    """SQS delivered the job several times at once, to parallel workers, and some claims meet a
    concurrent write (the ingest path, another copy): nobody is sent twice, everyone is sent."""
    store, ses, job = world(n, {}, 8)
    pending = {RecipientKey(TENANT, MESSAGE, f"r{i:04d}") for i in conflicts}
    lock = threading.Lock()

    def conflict_once(operation: str, key: RecipientKey) -> None:
        with lock:
            hit = operation == "UpdateItem" and key in pending
            pending.discard(key)
        if hit:
            raise ConflictError([key])

    store.before_write = conflict_once
    threads = [threading.Thread(target=deliver_until_done, args=(store, ses, job, 8)) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert_exactly_once(store, ses)
    assert all(row.facts.send_outcome is Status.SENT for row in store.rows().values())
    assert sum(ses.accepted.values()) == n


def test_calls_run_in_parallel_and_the_job_costs_two_writes_per_recipient() -> None:
    store, ses, job = world(50, {}, 8)
    ses.barrier = threading.Barrier(8)  # 8 calls in flight at once, or the barrier breaks
    result = sender(store, ses, 8, Clock()).process_job(job)
    assert (result.done, result.sent) == (True, 50)
    assert store.requests == Counter({"BatchGetItem": 2, "GetItem": 1, "UpdateItem": 50, "PutItem": 50})
    assert store.write_units == 100


def test_an_account_level_block_stops_the_calls_not_yet_started() -> None:
    store, ses, job = world(40, {"p0@example.com": ["blocked"]}, 1)
    result = sender(store, ses, 1, Clock()).process_job(job)
    assert result.done
    assert sum(ses.calls.values()) == 1, "one after another: nobody after the block is tried"
    assert {row.facts.send_outcome for row in store.rows().values()} == {Status.FAILED}


@pytest.mark.parametrize("parallel", [1, 4])
def test_throttling_beyond_the_budget_stops_the_job_and_leaves_the_rest_untouched(parallel: int) -> None:
    store, ses, job = world(20, {"p0@example.com": ["throttle"] * 10}, parallel)
    result = sender(store, ses, parallel, Clock()).process_job(job)
    assert not result.done
    assert result.throttled >= 2
    unsent = [row for row in store.rows().values() if row.facts.send_outcome is Status.QUEUED]
    assert unsent, "the job stopped: the rest waits for the redelivery"
    assert all(row.claim is None for row in unsent), "no claim is left behind"


def test_a_job_too_large_for_the_rate_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    store, ses, job = world(50, {}, 4)
    worker = sender(store, ses, 4, Clock())
    assert worker._pacing is not None
    worker._pacing.pacer.set_rate(1.0)  # 50 recipients at 1/s need 50 s; 30 s remain
    with caplog.at_level("WARNING"):
        assert worker.process_job(job, remaining_ms=lambda: 30_000).sent == 50
    assert "cannot finish at this sender's share of the SES rate" in caplog.text
