"""Exactness of the ingest path and of the projector behind it: any order, any duplicates, any crash
between two writes of either, any replay or re-split of the stream."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from tests import ses_builders as b
from tests.aws_calls import ApiCall, intercepted, is_write
from tests.conftest import TEST_TABLE
from tests.factories import message_counts, recipient_facts, recount, seed_message
from tests.lambda_context import FakeLambdaContext
from tests.projection import project, stream
from tests.strategies import Target, deliveries, histories
from tracker.dal.models import bind_table, table_schema
from tracker.domain.events import RecipientEvent
from tracker.domain.facts import RecipientFacts
from tracker.domain.status import Status
from tracker.handlers import ingest
from tracker.models.ses import parse_record_body

TARGETS = [Target("tenant-a", "msg-1", i) for i in range(3)] + [
    Target("tenant-a", "msg-2", i) for i in range(2)
]


@contextmanager
def fresh_table() -> Iterator[None]:
    with mock_aws():
        bind_table(TEST_TABLE, region="us-east-1")
        boto3.client("dynamodb", region_name="us-east-1").create_table(**table_schema())
        seed_message("tenant-a", "msg-1", recipients=3)
        seed_message("tenant-a", "msg-2", recipients=2)
        ingest.default_ingestor.cache_clear()
        yield


def run(records: list[dict[str, Any]]) -> list[str]:
    response = ingest.handler(b.sqs_event(records), FakeLambdaContext())
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def expected_facts(history: list[dict[str, Any]]) -> dict[tuple[str, str], RecipientFacts]:
    """The model answer: the de-duplicated events of each recipient, applied in timestamp order."""
    events: dict[str, RecipientEvent] = {}
    for event in history:
        for normalized in parse_record_body(b.sns_body(event)):
            events[normalized.event_id] = normalized
    per_recipient: dict[tuple[str, str], list[RecipientEvent]] = {
        (t.message_id, t.email): [] for t in TARGETS
    }
    by_ses_id = {t.ses_message_id: t for t in TARGETS}
    for normalized in sorted(events.values(), key=lambda e: (e.at, e.event_id)):
        target = by_ses_id[normalized.ses_message_id]
        per_recipient[(target.message_id, normalized.email)].append(normalized)
    return {key: RecipientFacts().apply_all(evts) for key, evts in per_recipient.items()}


def assert_exact(history: list[dict[str, Any]]) -> None:
    """Recipients are the model answer; after projecting, so are the counts (and the recount)."""
    project()
    expected = expected_facts(history)
    for target in TARGETS:
        actual = recipient_facts(target.tenant_id, target.message_id, target.recipient_id)
        assert actual == expected[(target.message_id, target.email)], target
    for message_id in ("msg-1", "msg-2"):
        want = Counter(
            tally
            for t in TARGETS
            if t.message_id == message_id
            for tally in expected[(t.message_id, t.email)].tallies
        )
        assert message_counts("tenant-a", message_id) == dict(want)
        assert recount("tenant-a", message_id) == dict(want)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_order_duplication_and_batching_gives_the_deduplicated_time_ordered_result(
    data: st.DataObject,
) -> None:
    history = data.draw(histories(TARGETS))
    batches = data.draw(deliveries(history))
    with fresh_table():
        for batch in batches:
            assert run(batch) == []
        assert_exact(history)


class SimulatedCrash(BaseException):
    """The Lambda process dying: not an Exception, so no handler code can swallow it."""


@contextmanager
def crash_from_write(number: int | None) -> Iterator[list[str]]:
    """Count DynamoDB writes; from the `number`-th on, every write dies (the process is gone)."""
    writes: list[str] = []

    def crash(call: ApiCall, perform: Callable[[], Any]) -> Any:
        if is_write(call):
            writes.append(call.operation)
            if number is not None and len(writes) >= number:
                raise SimulatedCrash(f"crashed before write {len(writes)} ({call.operation})")
        return perform()

    with intercepted(crash):
        yield writes


HISTORY = [
    b.send_event(TARGETS[0].ses_message_id, TARGETS[0].email, tags=b.tags_for("tenant-a", "msg-1", "r0")),
    b.delivery_event(TARGETS[0].ses_message_id, TARGETS[0].email, tags=b.tags_for("tenant-a", "msg-1", "r0")),
    b.open_event(TARGETS[0].ses_message_id, TARGETS[0].email, tags=b.tags_for("tenant-a", "msg-1", "r0")),
    b.delivery_event(TARGETS[1].ses_message_id, TARGETS[1].email),
    b.bounce_event(TARGETS[2].ses_message_id, TARGETS[2].email, tags=b.tags_for("tenant-a", "msg-1", "r2")),
    b.click_event(TARGETS[3].ses_message_id, TARGETS[3].email, tags=b.tags_for("tenant-a", "msg-2", "r0")),
    b.complaint_event(TARGETS[4].ses_message_id, TARGETS[4].email),
] + [b.open_event(TARGETS[0].ses_message_id, TARGETS[0].email, ip=f"198.51.100.{i}") for i in range(30)]


def test_a_crash_between_any_two_writes_then_redelivery_leaves_counts_exact() -> None:
    batch = [b.sqs_record(b.sns_body(event)) for event in HISTORY]
    with fresh_table(), crash_from_write(None) as clean_writes:
        assert run(batch) == []
        assert_exact(HISTORY)
    # One write per changed recipient (plus a transaction for the one beyond its kept ids).
    assert 5 <= len(clean_writes) <= 6, clean_writes

    for crash_at in range(1, len(clean_writes) + 1):
        with fresh_table():
            with crash_from_write(crash_at), pytest.raises(SimulatedCrash):
                run(batch)
            for record in batch:
                record["attributes"]["ApproximateReceiveCount"] = "2"
            assert run(batch) == [], f"redelivery after a crash at write {crash_at}"
            assert_exact(HISTORY)
            assert recipient_facts("tenant-a", "msg-1", "r0").open_count == 31
            assert message_counts("tenant-a", "msg-1")[Status.OPENED] == 1


@contextmanager
def lose_response_of_write(number: int) -> Iterator[list[str]]:
    """The `number`-th DynamoDB write goes through, but its caller gets an error instead of the
    response (a timeout after DynamoDB committed): the code cannot know what was written."""
    writes: list[str] = []

    def lose_response(call: ApiCall, perform: Callable[[], Any]) -> Any:
        response = perform()
        if is_write(call):
            writes.append(call.operation)
            if len(writes) == number:
                error = {"Error": {"Code": "InternalServerError", "Message": "response lost"}}
                raise ClientError(error, call.operation)  # type: ignore[arg-type]
        return response

    with intercepted(lose_response):
        yield writes


def test_a_write_that_went_through_but_raised_then_redelivery_leaves_counts_exact() -> None:
    """Covers the commit that wrote its delta but raised: its records may still succeed (the
    retried commit finds the events applied), so the batch must not rely on a redelivery."""
    batch = [b.sqs_record(b.sns_body(event)) for event in HISTORY]
    with fresh_table(), crash_from_write(None) as clean_writes:
        assert run(batch) == []

    for lost_at in range(1, len(clean_writes) + 1):
        with fresh_table():
            with lose_response_of_write(lost_at):
                failed = run(batch)
            # SQS delivers the failed records again (and only those), counting the receives.
            for _ in range(3):
                if not failed:
                    break
                batch_again = [record for record in batch if record["messageId"] in failed]
                for record in batch_again:
                    receives = int(record["attributes"]["ApproximateReceiveCount"])
                    record["attributes"]["ApproximateReceiveCount"] = str(receives + 1)
                failed = run(batch_again)
            assert failed == [], f"still failing after the response of write {lost_at} was lost"
            assert_exact(HISTORY)
            for record in batch:
                record["attributes"]["ApproximateReceiveCount"] = "1"


def projector_writes() -> int:
    """How many writes projecting everything from the start of the stream makes (a dry run)."""
    with crash_from_write(None) as writes:
        project()
    return len(writes)


def ingested() -> None:
    """HISTORY applied to the seeded recipients, not projected yet (seeding projected)."""
    project()
    assert run([b.sqs_record(b.sns_body(event)) for event in HISTORY]) == []


def test_a_crash_between_any_two_projector_writes_then_the_retried_batch_leaves_counts_exact() -> None:
    with fresh_table():
        ingested()
        clean_writes = projector_writes()
        assert_exact(HISTORY)
    # A count update per message, and the suppression list's writes for the bounce and complaint.
    assert clean_writes >= 3

    for crash_at in range(1, clean_writes + 1):
        with fresh_table():
            ingested()
            with crash_from_write(crash_at), pytest.raises(SimulatedCrash):
                project()
            # Lambda retries the whole batch from the shard's checkpoint.
            assert_exact(HISTORY)


def test_a_projector_write_that_went_through_but_raised_is_retried_without_counting_twice() -> None:
    with fresh_table():
        ingested()
        clean_writes = projector_writes()
    for lost_at in range(1, clean_writes + 1):
        with fresh_table():
            ingested()
            with lose_response_of_write(lost_at):
                report = project()
            assert report.retries >= 1, f"the lost response of write {lost_at} must restart the batch"
            assert_exact(HISTORY)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=st.lists(st.integers(1, 12), min_size=1, max_size=6), replays=st.integers(1, 3))
def test_a_replayed_and_re_split_stream_never_counts_twice(sizes: list[int], replays: int) -> None:
    """Lambda may deliver a shard's records again from any checkpoint, in batches of other sizes
    (a retry, a bisected batch): the counts stay those of the recipients."""
    with fresh_table():
        ingested()
        project()
        counted = {m: message_counts("tenant-a", m) for m in ("msg-1", "msg-2")}
        for round_number in range(replays):
            reader = stream()
            reader.rewind()
            reader.batch_size = sizes[round_number % len(sizes)]
            project()
        assert {m: message_counts("tenant-a", m) for m in ("msg-1", "msg-2")} == counted
        assert_exact(HISTORY)
