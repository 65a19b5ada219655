"""The sender Lambda on moto: throttling, permanent errors, redelivery, crashes and large lists.

Every test asserts how often SES was called per address, so "exactly once" is checked, not assumed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from tests import ses_builders as b
from tests.apigw import json_body
from tests.aws_calls import ApiCall, intercepted
from tests.factories import message_counts, recount
from tests.integration.test_send_support import (
    SendWorld,
    complain,
    email_body,
    make_world,
    moto_sent_messages,
    recipients_body,
    recipients_of,
    run_ingest,
    ses_error,
    throttling_error,
)
from tracker import constants
from tracker.dal.ingest_store import DynamoIngestStore
from tracker.dal.jobs import SendJobBody
from tracker.dal.sending import DynamoSendStore
from tracker.dal.suppressions import DynamoSuppressionStore
from tracker.domain.errors import TransientStoreError
from tracker.domain.status import Status
from tracker.logic.outcomes import THROTTLED_REASON, UNKNOWN_OUTCOME_REASON, OutcomeRecorder
from tracker.logic.retry import Backoff

pytestmark = pytest.mark.usefixtures("table")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def post(world: SendWorld, body: dict[str, Any]) -> str:
    response = world.post(body)
    assert response["statusCode"] == 202, response["body"]
    message_id: str = json_body(response)["message_id"]
    return message_id


def per_address(world: SendWorld) -> Counter[str]:
    return Counter(world.ses.address(call) for call in world.ses.calls)


def statuses(message_id: str) -> dict[str, str]:
    return {r.email: r.status for r in recipients_of("tenant-a", message_id)}


def assert_counts_exact(message_id: str, expected: dict[Status, int]) -> None:
    assert message_counts("tenant-a", message_id) == expected
    assert recount("tenant-a", message_id) == expected


def test_throttled_recipients_are_retried_and_each_is_sent_exactly_once(world: SendWorld) -> None:
    message_id = post(world, email_body(3))
    world.ses.failures = {
        "person1@example.com": [throttling_error(), throttling_error("Rate exceeded")],
        "person2@example.com": [throttling_error()],
    }
    assert world.drain() == []  # within the in-invocation budget (3 attempts)
    assert per_address(world) == {
        "person0@example.com": 1,
        "person1@example.com": 3,
        "person2@example.com": 2,
    }
    assert len(moto_sent_messages()) == 3, "each recipient reached SES once"
    assert set(statuses(message_id).values()) == {"sent"}
    assert_counts_exact(message_id, {Status.SENT: 3})


def test_throttling_beyond_the_budget_is_redelivered_without_resending_anyone(world: SendWorld) -> None:
    message_id = post(world, email_body(3))
    # 7 throttles for person1: 3 in each of two invocations (the budget), then it goes through.
    world.ses.failures = {"person1@example.com": [throttling_error() for _ in range(7)]}
    failed_records = world.drain()
    assert len(failed_records) == 2, "the job was delivered three times"
    assert per_address(world) == {
        "person0@example.com": 1,
        "person1@example.com": 8,
        "person2@example.com": 1,
    }
    assert len(moto_sent_messages()) == 3
    assert set(statuses(message_id).values()) == {"sent"}
    assert all(r.send_claim is None for r in recipients_of("tenant-a", message_id))
    assert_counts_exact(message_id, {Status.SENT: 3})


def test_throttled_until_the_last_delivery_is_failed_not_left_queued(world: SendWorld) -> None:
    message_id = post(world, email_body(2))
    world.ses.failures = {"person0@example.com": [throttling_error() for _ in range(100)]}
    failed_records = world.drain()
    assert len(failed_records) == constants.MAX_RECEIVE_COUNT - 1, "the last delivery settles the job"
    assert world.ses.calls_to("person0@example.com") == 3 * constants.MAX_RECEIVE_COUNT
    assert world.ses.calls_to("person1@example.com") == 1
    (failed,) = [r for r in recipients_of("tenant-a", message_id) if r.email == "person0@example.com"]
    assert failed.status == "failed"
    assert failed.send_outcome_reason is not None
    assert failed.send_outcome_reason.startswith(THROTTLED_REASON)
    assert_counts_exact(message_id, {Status.SENT: 1, Status.FAILED: 1})


def test_a_permanent_error_fails_that_recipient_with_the_reason(world: SendWorld) -> None:
    message_id = post(world, email_body(3))
    world.ses.failures = {
        "person1@example.com": [ses_error("MessageRejected", "Email address is not verified.")],
    }
    assert world.drain() == []
    assert per_address(world) == Counter({f"person{i}@example.com": 1 for i in range(3)})
    rejected = {r.email: r for r in recipients_of("tenant-a", message_id)}["person1@example.com"]
    assert rejected.status == "failed"
    assert rejected.send_outcome_reason == "MessageRejected: Email address is not verified."
    assert rejected.ses_message_id is None
    assert_counts_exact(message_id, {Status.SENT: 2, Status.FAILED: 1})


def test_an_account_level_error_fails_the_rest_of_the_job_without_calling_ses_again(world: SendWorld) -> None:
    message_id = post(world, email_body(4))
    world.ses.failures = {
        "person1@example.com": [ses_error("SendingPausedException", "Sending is paused for this account.")]
    }
    assert world.drain() == []
    assert len(world.ses.calls) == 2, "person0 was sent, person1 hit the pause, the rest were not tried"
    reasons = {r.email: (r.status, r.send_outcome_reason) for r in recipients_of("tenant-a", message_id)}
    assert reasons["person0@example.com"] == ("sent", None)
    for i in (1, 2, 3):
        assert reasons[f"person{i}@example.com"] == (
            "failed",
            "SendingPausedException: Sending is paused for this account.",
        )
    assert_counts_exact(message_id, {Status.SENT: 1, Status.FAILED: 3})


def test_a_redelivered_job_sends_nothing_twice(world: SendWorld) -> None:
    message_id = post(world, email_body(3))
    (job,) = world.queued_jobs()
    assert world.drain() == []
    assert len(moto_sent_messages()) == 3

    world.requeue(job)  # SQS delivered the same job again
    world.requeue(job)
    assert world.drain() == []
    assert len(world.ses.calls) == 3
    assert len(moto_sent_messages()) == 3
    assert_counts_exact(message_id, {Status.SENT: 3})


def test_an_address_suppressed_while_its_job_waits_is_dropped_not_sent(world: SendWorld) -> None:
    message_id = post(world, email_body(3))
    assert set(statuses(message_id).values()) == {"queued"}
    (job,) = world.queued_jobs()
    complain("person0@example.com")
    complain("person1@example.com", tenant_id="tenant-b")  # another tenant's list is not ours

    assert world.drain() == []
    assert per_address(world) == Counter({"person1@example.com": 1, "person2@example.com": 1})
    assert statuses(message_id) == {
        "person0@example.com": "dropped",
        "person1@example.com": "sent",
        "person2@example.com": "sent",
    }
    assert {r.email: r.send_outcome_reason for r in recipients_of("tenant-a", message_id)} == {
        "person0@example.com": "suppressed: 1 complaint",
        "person1@example.com": None,
        "person2@example.com": None,
    }
    assert_counts_exact(message_id, {Status.DROPPED: 1, Status.SENT: 2})

    world.requeue(job)  # a redelivery neither sends to the address nor counts it again
    assert world.drain() == []
    assert len(world.ses.calls) == 2
    assert_counts_exact(message_id, {Status.DROPPED: 1, Status.SENT: 2})


def test_an_unreadable_suppression_list_sends_nothing_and_the_job_is_retried(
    world: SendWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    message_id = post(world, email_body(2))
    complain("person0@example.com")
    # An email reads the records with the addresses' unsubscriptions (the same items).
    read = DynamoSuppressionStore.get_with_unsubscriptions

    def throttled_once(self: DynamoSuppressionStore, tenant_id: str, emails: Any) -> Any:
        monkeypatch.setattr(DynamoSuppressionStore, "get_with_unsubscriptions", read)
        raise TransientStoreError("suppression records: ProvisionedThroughputExceededException")

    monkeypatch.setattr(DynamoSuppressionStore, "get_with_unsubscriptions", throttled_once)
    failed = world.deliver_once()
    assert failed is not None
    assert len(failed) == 1, "the job goes back to SQS"
    assert world.ses.calls == []
    assert set(statuses(message_id).values()) == {"queued"}

    assert world.drain() == []
    assert per_address(world) == Counter({"person1@example.com": 1})
    assert_counts_exact(message_id, {Status.DROPPED: 1, Status.SENT: 1})


def test_a_recipient_claimed_by_a_concurrent_copy_of_the_job_is_not_dropped(world: SendWorld) -> None:
    message_id = post(world, email_body(1))
    (job,) = world.queued_jobs()
    (rid,) = job["recipient_ids"]
    store = DynamoSendStore(DynamoIngestStore(timedelta(days=400)))
    stale = store.load_targets("tenant-a", message_id, [rid])[rid]
    other_copy = store.load_targets("tenant-a", message_id, [rid])[rid]
    store.claim(other_copy, "another-copy", datetime.now(UTC))  # and is sending it now

    assert (
        OutcomeRecorder(store, Backoff(sleep=lambda _s: None)).dropped(stale, "suppressed: 1 complaint")
        is False
    )
    current = store.reload(stale)
    assert (current.claim, current.facts.send_outcome) == ("another-copy", Status.QUEUED)
    assert_counts_exact(message_id, {Status.QUEUED: 1})


def test_a_crash_after_ses_accepted_never_sends_a_second_copy(table: str) -> None:
    clock = Clock()
    world = make_world(clock=clock)
    message_id = post(world, email_body(2))

    class SimulatedCrash(BaseException):
        """The Lambda process dying right after SES accepted person0's message."""

    def crash(call: dict[str, Any], ses_message_id: str) -> None:
        if world.ses.address(call) == "person0@example.com":
            world.ses.after_send = None
            raise SimulatedCrash(ses_message_id)

    world.ses.after_send = crash
    messages = world.sqs.receive_message(QueueUrl=world.queue_url, AttributeNames=["All"])["Messages"]
    with pytest.raises(SimulatedCrash) as crashed:
        world.invoke(messages)
    accepted_id = str(crashed.value)
    assert len(moto_sent_messages()) == 1
    claimed = {r.email: r for r in recipients_of("tenant-a", message_id)}["person0@example.com"]
    assert claimed.send_claim is not None
    assert claimed.status == "queued"

    # Redelivered while the claim is fresh: nobody is sent twice, the job waits.
    messages = world.sqs.receive_message(QueueUrl=world.queue_url, AttributeNames=["All"])["Messages"]
    response = world.invoke(messages)
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [messages[0]["MessageId"]]
    assert world.ses.calls_to("person0@example.com") == 1
    assert world.ses.calls_to("person1@example.com") == 1, "the others of the job went out"

    # Once the claim is older than any sender can run, the redelivery settles it without sending.
    clock.now += timedelta(minutes=5)
    assert world.drain() == []
    assert world.ses.calls_to("person0@example.com") == 1
    settled = {r.email: r for r in recipients_of("tenant-a", message_id)}["person0@example.com"]
    assert settled.status == "failed"
    assert settled.send_outcome_reason == UNKNOWN_OUTCOME_REASON
    assert settled.send_claim is None
    assert_counts_exact(message_id, {Status.SENT: 1, Status.FAILED: 1})

    # SES did send it, and its tagged events still find the recipient: the status corrects itself.
    tags = b.tags_for("tenant-a", message_id, settled.recipient_id)
    assert run_ingest([b.delivery_event(accepted_id, "person0@example.com", tags=tags)]) == []
    assert statuses(message_id)["person0@example.com"] == "delivered"
    assert_counts_exact(message_id, {Status.SENT: 1, Status.DELIVERED: 1})


def test_a_stale_claim_with_ses_events_is_recorded_as_sent(table: str) -> None:
    clock = Clock()
    world = make_world(clock=clock)
    message_id = post(world, email_body(1))

    class SimulatedCrash(BaseException):
        pass

    def crash(call: dict[str, Any], ses_message_id: str) -> None:
        world.ses.after_send = None
        raise SimulatedCrash(ses_message_id)

    world.ses.after_send = crash
    messages = world.sqs.receive_message(QueueUrl=world.queue_url, AttributeNames=["All"])["Messages"]
    with pytest.raises(SimulatedCrash) as crashed:
        world.invoke(messages)
    (item,) = recipients_of("tenant-a", message_id)
    # SES's Send event (tagged) arrives before the job is redelivered.
    tags = b.tags_for("tenant-a", message_id, item.recipient_id)
    assert run_ingest([b.send_event(str(crashed.value), "person0@example.com", tags=tags)]) == []

    clock.now += timedelta(minutes=5)
    assert world.drain() == []
    assert len(world.ses.calls) == 1
    (item,) = recipients_of("tenant-a", message_id)
    assert (item.status, item.send_outcome, item.send_claim) == ("sent", "sent", None)
    assert_counts_exact(message_id, {Status.SENT: 1})


def test_no_answer_from_ses_is_not_retried_blindly(table: str) -> None:
    clock = Clock()
    world = make_world(clock=clock)
    message_id = post(world, email_body(2))
    world.ses.failures = {"person1@example.com": [ReadTimeoutError(endpoint_url="https://email.us-east-1")]}
    failed = world.deliver_once()
    assert failed is not None
    assert len(failed) == 1, "the job waits: person1 may or may not have been sent"
    clock.now += timedelta(minutes=5)
    assert world.drain() == []
    assert world.ses.calls_to("person1@example.com") == 1
    assert statuses(message_id) == {"person0@example.com": "sent", "person1@example.com": "failed"}


def test_a_large_list_fans_out_in_small_jobs_and_everyone_is_sent_once(table: str) -> None:
    # 60 recipients in jobs of 4: 15 jobs, more than one SQS batch (moto's transactions copy the
    # whole table, so the list stays modest; the chunking is the same for 500).
    world = make_world(chunk_size=4)
    message_id = post(world, email_body(recipients=recipients_body(60)))
    jobs = world.queued_jobs()
    assert jobs, "jobs were queued"
    assert all(len(job["recipient_ids"]) <= 4 for job in jobs)
    assert world.drain() == []
    assert len(world.invocations) >= 2
    assert len(moto_sent_messages()) == 60
    assert set(per_address(world).values()) == {1}
    assert len(per_address(world)) == 60
    assert_counts_exact(message_id, {Status.SENT: 60})
    assert len({r.ses_message_id for r in recipients_of("tenant-a", message_id)}) == 60


def test_a_job_stops_before_the_invocation_runs_out_of_time(world: SendWorld) -> None:
    message_id = post(world, email_body(2))
    (job,) = world.queued_jobs()
    result = world.sender().process_job(SendJobBody.from_dict(job).to_job(), remaining_ms=lambda: 5_000)
    assert not result.done
    assert world.ses.calls == [], "no SES call is started without time to record its outcome"
    assert set(statuses(message_id).values()) == {"queued"}
    assert world.drain() == []
    assert set(statuses(message_id).values()) == {"sent"}


def test_ses_server_errors_are_retried_like_throttling(world: SendWorld) -> None:
    message_id = post(world, email_body(1))
    world.ses.failures = {"person0@example.com": [ses_error("InternalFailure", "try again", 500)]}
    assert world.drain() == []
    assert world.ses.calls_to("person0@example.com") == 2
    assert len(moto_sent_messages()) == 1
    assert statuses(message_id) == {"person0@example.com": "sent"}


def test_a_store_failure_for_one_recipient_defers_only_that_one_and_each_is_sent_once(
    world: SendWorld,
) -> None:
    message_id = post(world, email_body(3))
    failures = {"left": 2}  # the claim of r0001 fails twice, then goes through

    def flaky_claim(call: ApiCall, perform: Callable[[], Any]) -> Any:
        key = call.params.get("Key", {}).get("sk", {}).get("S")
        if call.operation == "UpdateItem" and key == "R#r0001" and failures["left"] > 0:
            failures["left"] -= 1
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "boom"}}, "UpdateItem")
        return perform()

    with intercepted(flaky_claim):
        assert len(world.deliver_once() or []) == 1, "the job comes back for the one recipient left"
        assert statuses(message_id) == {
            "person0@example.com": "sent",
            "person1@example.com": "queued",
            "person2@example.com": "sent",
        }
        world.drain()
    assert per_address(world) == {f"person{i}@example.com": 1 for i in range(3)}
    assert len(moto_sent_messages()) == 3
    assert_counts_exact(message_id, {Status.SENT: 3})
