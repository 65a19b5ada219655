"""The tenants' hourly statistics are a projection of the recipients: after any order, any
duplicates, events days late, any batch cuts and replays of the stream, every hour item holds
exactly the recount of the recipients' final facts (tracker.domain.stats)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from tests import ses_builders as b
from tests.aws_calls import intercepted, is_write
from tests.conftest import TEST_TABLE
from tests.factories import CREATED_AT, recipient_facts, seed_message
from tests.integration.test_ingest_exactness import HISTORY, SimulatedCrash, crash_from_write
from tests.lambda_context import FakeLambdaContext
from tests.projection import project, stream
from tests.strategies import SENT_AT, Target, deliveries, histories
from tracker.dal import keys
from tracker.dal.models import bind_table, table_schema
from tracker.dal.stats import DynamoStatsReader
from tracker.domain.stats import stat_marks
from tracker.domain.status import Status
from tracker.handlers import ingest

TARGETS = [Target("tenant-a", "msg-1", i) for i in range(3)] + [
    Target("tenant-a", "msg-2", i) for i in range(2)
]
KINDS = {"msg-1": "email", "msg-2": "invoice"}
# Every hour the tests' events can fall in (the builders' default times are in 2024).
WINDOW = (datetime(2024, 1, 1, tzinfo=UTC), CREATED_AT + timedelta(days=10))


@contextmanager
def fresh_table() -> Iterator[None]:
    with mock_aws():
        bind_table(TEST_TABLE, region="us-east-1")
        boto3.client("dynamodb", region_name="us-east-1").create_table(**table_schema())
        # msg-1's r2 was dropped at creation (a suppressed address): counted at the creation time.
        seed_message("tenant-a", "msg-1", recipients=3, outcomes={2: Status.DROPPED})
        seed_message("tenant-a", "msg-2", recipients=2, kind="invoice", invoice_id="inv-1")
        ingest.default_ingestor.cache_clear()
        yield


def run(records: list[dict[str, Any]]) -> None:
    response = ingest.handler(b.sqs_event(records), FakeLambdaContext())
    assert response["batchItemFailures"] == []


def recounted(kind: str | None = None) -> dict[Any, dict[str, int]]:
    """The statistics recomputed from every recipient's final facts, per hour and metric."""
    counts: Counter[tuple[Any, str]] = Counter()
    for target in TARGETS:
        message_kind = KINDS[target.message_id]
        if kind is not None and message_kind != kind:
            continue
        facts = recipient_facts(target.tenant_id, target.message_id, target.recipient_id)
        for mark in stat_marks(facts, message_kind, CREATED_AT):
            counts[(mark.hour, mark.metric)] += 1
    hours: dict[Any, dict[str, int]] = {}
    for (hour, metric), n in counts.items():
        hours.setdefault(hour, {})[metric] = n
    return hours


def stored(kind: str | None = None) -> dict[Any, dict[str, int]]:
    hours = DynamoStatsReader().hours("tenant-a", *WINDOW, kind)
    return {hour: {m: n for m, n in counts.items() if n} for hour, counts in hours.items()}


def assert_buckets_are_the_recount() -> None:
    project()
    for kind in (None, "email", "invoice"):
        assert {h: c for h, c in stored(kind).items() if c} == recounted(kind), kind


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_buckets_equal_the_recount_for_any_order_duplicates_late_events_and_replays(
    data: st.DataObject,
) -> None:
    history = data.draw(histories(TARGETS, late_days=5))
    batches = data.draw(deliveries(history))
    sizes = data.draw(st.lists(st.integers(1, 9), min_size=1, max_size=3))
    with fresh_table():
        # Project between ingest batches too: late events then move counts of hours already
        # written (a recipient's first open, its bounce type, a delivery implied by an open).
        for number, batch in enumerate(batches):
            run(batch)
            if number % 2:
                project()
        assert_buckets_are_the_recount()
        # Lambda delivers a shard's records again from any checkpoint, cut differently.
        for size in sizes:
            reader = stream()
            reader.rewind()
            reader.batch_size = size
            project()
        assert_buckets_are_the_recount()


def test_a_send_within_one_hour_writes_its_hour_item_once_per_projector_batch() -> None:
    """No hot item: 200 recipients' sends and deliveries in one hour are one stats write per batch."""
    with mock_aws():
        bind_table(TEST_TABLE, region="us-east-1")
        boto3.client("dynamodb", region_name="us-east-1").create_table(**table_schema())
        seed_message("tenant-a", "big", recipients=200)
        ingest.default_ingestor.cache_clear()
        project()
        targets = [Target("tenant-a", "big", i) for i in range(200)]
        events = [
            builder(
                t.ses_message_id, t.email, sent_at=SENT_AT, tags=b.tags_for("tenant-a", "big", t.recipient_id)
            )
            for t in targets
            for builder in (b.send_event, b.delivery_event)
        ]
        for start in range(0, len(events), 100):
            run([b.sqs_record(b.sns_body(event)) for event in events[start : start + 100]])
        reader = stream()
        reader.batch_size = 1000
        with intercepted() as calls:
            report = project()
        stats_writes = [
            call
            for call in calls
            if is_write(call)
            and str(call.params.get("Key", {}).get("pk", {}).get("S", "")) == keys.stats_pk("tenant-a")
        ]
        assert len(stats_writes) == report.batches
        hour = SENT_AT.replace(minute=0, second=0, microsecond=0)
        assert stored() == {hour: {"sent": 200, "delivered": 200}}


def test_a_crash_between_any_two_projector_writes_then_the_retried_batch_leaves_the_buckets_exact() -> None:
    """The statistics' updates come after the message counts' in a batch; a crash before any of
    them (the process gone: Lambda retries the batch from the shard's checkpoint) counts nothing
    twice and loses nothing."""

    def ingested() -> None:
        project()
        run([b.sqs_record(b.sns_body(event)) for event in HISTORY])

    with fresh_table():
        ingested()
        with crash_from_write(None) as clean:
            project()
        assert_buckets_are_the_recount()
        assert stored(), "the history counts in some hours"
    for crash_at in range(1, len(clean) + 1):
        with fresh_table():
            ingested()
            with crash_from_write(crash_at), pytest.raises(SimulatedCrash):
                project()
            assert_buckets_are_the_recount()
