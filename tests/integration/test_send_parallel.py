"""The sender with SES calls in parallel and paced, on moto: exactly once, crashes, SES's rate."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.ses_simulator import SendRateLimiter, throttled
from tests.apigw import json_body
from tests.aws_calls import intercepted
from tests.factories import message_counts, recount
from tests.integration.test_send_support import (
    FAST_POLICY,
    SendWorld,
    SesSpy,
    email_body,
    make_world,
    moto_sent_messages,
    recipients_body,
    recipients_of,
    ses_error,
    throttling_error,
)
from tracker.bootstrap.sender import build_sender
from tracker.dal.jobs import SendJobBody
from tracker.domain.status import Status
from tracker.logic.outcomes import UNKNOWN_OUTCOME_REASON

pytestmark = pytest.mark.usefixtures("table")
PARALLEL = replace(FAST_POLICY, parallel_calls=8)


def post(world: SendWorld, body: dict[str, Any]) -> str:
    response = world.post(body)
    assert response["statusCode"] == 202, response["body"]
    message_id: str = json_body(response)["message_id"]
    return message_id


def per_address(world: SendWorld) -> Counter[str]:
    return Counter(world.ses.address(call) for call in world.ses.calls)


def test_parallel_calls_send_everyone_once_through_throttling_and_errors(table: str) -> None:
    world = make_world(chunk_size=25)
    world.policy = PARALLEL
    message_id = post(world, email_body(recipients=recipients_body(60)))
    world.ses.failures = {
        "person3@example.com": [throttling_error(), throttling_error()],
        "person17@example.com": [ses_error("MessageRejected", "Email address is not verified.")],
        "person40@example.com": [ses_error("InternalFailure", "try again", 500)],
    }
    assert world.drain() == []
    calls = per_address(world)
    assert (calls["person3@example.com"], calls["person40@example.com"]) == (3, 2)
    assert len(calls) == 60
    assert len(moto_sent_messages()) == 59, "everyone but the rejected one reached SES once"
    assert set(Counter(m.destinations["ToAddresses"][0] for m in moto_sent_messages()).values()) == {1}
    expected = {Status.SENT: 59, Status.FAILED: 1}
    assert message_counts("tenant-a", message_id) == expected
    assert recount("tenant-a", message_id) == expected


def test_a_crash_in_one_thread_after_ses_accepted_never_sends_that_recipient_again(table: str) -> None:
    now = [datetime(2026, 11, 1, 9, 0, tzinfo=UTC)]
    world = make_world(chunk_size=20, clock=lambda: now[0])
    world.policy = PARALLEL
    message_id = post(world, email_body(recipients=recipients_body(20)))

    class SimulatedCrash(BaseException):
        """The process dying right after SES accepted person7's message (other threads go on)."""

    def crash(call: dict[str, Any], ses_message_id: str) -> None:
        if world.ses.address(call) == "person7@example.com":
            raise SimulatedCrash(ses_message_id)

    world.ses.after_send = crash
    messages = world.sqs.receive_message(QueueUrl=world.queue_url, AttributeNames=["All"])["Messages"]
    crashed = world.sender()
    with pytest.raises(SimulatedCrash):
        world.invoke(messages, crashed)
    # In-process the other threads go on: let them end (their recipients are recorded or were never
    # started), so that only person7 is left as a real crash would leave it, claimed.
    assert crashed._pool is not None
    crashed._pool.shutdown(wait=True)
    world.ses.after_send = None
    claimed = {r.email: r for r in recipients_of("tenant-a", message_id)}["person7@example.com"]
    assert (claimed.status, claimed.send_claim is not None) == ("queued", True)

    now[0] += timedelta(minutes=5)  # the claim outlives any sender: settled, not sent again
    assert world.drain() == []
    calls = per_address(world)
    assert calls["person7@example.com"] == 1
    assert set(calls.values()) == {1}
    assert len(calls) == 20
    settled = {r.email: r for r in recipients_of("tenant-a", message_id)}["person7@example.com"]
    assert (settled.status, settled.send_outcome_reason) == ("failed", UNKNOWN_OUTCOME_REASON)
    assert recount("tenant-a", message_id) == {Status.SENT: 19, Status.FAILED: 1}


class FakeTime:
    """One clock for the pacer and SES's rate limiter; sleeping moves it (no wall-clock waits)."""

    def __init__(self) -> None:
        self.now = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


class RateLimitedSes(SesSpy):
    """moto's SES behind SES's rate limit: above it, TooManyRequestsException like SES."""

    def __init__(self, client: Any, limiter: SendRateLimiter) -> None:
        super().__init__(client)
        self.limiter = limiter
        self.max_send_rate = limiter.rate
        self.refused = 0

    def send_email(self, **kwargs: Any) -> dict[str, Any]:
        if not self.limiter.take():
            self.refused += 1
            self.calls.append(kwargs)
            raise throttled()
        return super().send_email(**kwargs)


@pytest.mark.parametrize("paced", [True, False])
def test_the_sender_paces_to_the_accounts_rate_and_ses_throttles_only_the_unpaced(
    table: str, paced: bool
) -> None:
    time = FakeTime()
    world = make_world(chunk_size=30)
    ses = RateLimitedSes(world.ses._client, SendRateLimiter(5.0, clock=time))
    world.ses = ses
    message_id = post(world, email_body(recipients=recipients_body(30)))
    send = replace(world.send, sender_concurrency=1)
    sender = build_sender(ses, send, world.config, policy=FAST_POLICY, sleep=time.sleep, monotonic=time)
    if not paced:
        sender._pacing = None  # the sender before pacing: one call after another, as fast as it can
    while world.deliver_once(sender) is not None:
        pass
    accepted = Counter(m.destinations["ToAddresses"][0] for m in moto_sent_messages())
    assert set(accepted.values()) == {1}, "never a second copy"
    counts = recount("tenant-a", message_id)
    assert message_counts("tenant-a", message_id) == counts
    if paced:
        assert ses.refused == 0, "paced to GetAccount's 5/s: SES never throttles"
        assert time.now == pytest.approx(29 / 5, abs=0.1), "30 sends at 5/s, the first at once"
        assert counts == {Status.SENT: 30}
    else:
        # As fast as it can: SES refuses most calls, and what the retries cannot place fails.
        assert ses.refused > 30
        assert counts.get(Status.SENT, 0) < 30


def test_a_job_of_50_costs_two_writes_per_recipient_and_three_reads_in_all(table: str) -> None:
    """The requests the bench's in-memory store counts are the DynamoDB adapter's: per job one
    BatchGetItem of its recipients, one of their suppression records and one GetItem of the
    content; per recipient the claim and the outcome."""
    world = make_world(chunk_size=50)
    post(world, email_body(recipients=recipients_body(50)))
    (job,) = world.queued_jobs()
    sender = build_sender(
        world.ses, replace(world.send, parallel_calls=8), world.config, sleep=lambda _s: None
    )
    with intercepted() as calls:
        result = sender.process_job(SendJobBody.from_dict(job).to_job())
    assert (result.done, result.sent) == (True, 50)
    assert Counter(call.operation for call in calls) == {
        "BatchGetItem": 2,
        "GetItem": 1,
        "UpdateItem": 50,
        "PutItem": 50,
    }
