"""Hostile SES input against the real ingest handler: a bad record is quarantined with a reason, its
SQS record succeeds, and it never costs another record its write."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests import ses_builders as b
from tests.aws_calls import ApiCall, intercepted, is_write
from tests.conftest import TEST_TABLE
from tests.factories import (
    CREATED_AT,
    evidence_entries,
    message_counts,
    recipient_facts,
    recipient_item,
    recount,
    seed_message,
    ses_id,
    timeline,
)
from tests.lambda_context import FakeLambdaContext
from tests.projection import default_projector, project, stream
from tracker.dal.models import QuarantineItem, table_schema
from tracker.domain.facts import SEEN_LIMIT
from tracker.domain.status import Status
from tracker.handlers import ingest
from tracker.handlers.projector import process_batch

pytestmark = pytest.mark.usefixtures("table")

SENT = CREATED_AT + timedelta(minutes=1)


def run(records: list[dict[str, Any]]) -> list[str]:
    ingest.default_ingestor.cache_clear()
    response = ingest.handler(b.sqs_event(records), FakeLambdaContext())
    return [f["itemIdentifier"] for f in response["batchItemFailures"]]


def address(index: int) -> str:
    return f"person{index}@example.com"


def tagged(index: int, message_id: str = "msg-1") -> dict[str, Any]:
    return {"tags": b.tags_for("tenant-a", message_id, f"r{index}"), "sent_at": SENT}


def record(event: dict[str, Any]) -> dict[str, Any]:
    return b.sqs_record(b.sns_body(event))


class SimulatedCrash(BaseException):
    """The Lambda process dying: not an Exception, so no handler code can swallow it."""


@contextmanager
def crash_before_write(number: int) -> Iterator[None]:
    writes: list[str] = []

    def crash(call: ApiCall, perform: Callable[[], Any]) -> Any:
        if is_write(call):
            writes.append(call.operation)
            if len(writes) >= number:
                raise SimulatedCrash(f"crashed before write {len(writes)}")
        return perform()

    with intercepted(crash):
        yield


def reset_table() -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.delete_table(TableName=TEST_TABLE)
    client.create_table(**table_schema())


def quarantined() -> list[QuarantineItem]:
    return list(QuarantineItem.scan())


def item_size(tenant_id: str, message_id: str, recipient_id: str) -> int:
    item = recipient_item(tenant_id, message_id, recipient_id)
    return len(json.dumps(item.serialize()))


def test_a_far_future_timestamp_is_quarantined_and_the_good_records_of_its_batch_apply() -> None:
    seed_message(recipients=4)
    future = b.open_event(ses_id("msg-1", 0), address(0), **tagged(0))
    future["open"]["timestamp"] = "9999-12-31T23:59:59.999Z"
    good = [b.delivery_event(ses_id("msg-1", i), address(i), **tagged(i)) for i in (1, 2, 3)]
    assert run([record(future)] + [record(e) for e in good]) == []
    assert [item.reason for item in quarantined()] == ["time_out_of_range"]
    for i in (1, 2, 3):
        assert recipient_facts("tenant-a", "msg-1", f"r{i}").status is Status.DELIVERED
        assert len(timeline("tenant-a", "msg-1", f"r{i}")) == 1
    assert message_counts("tenant-a", "msg-1") == recount("tenant-a", "msg-1")


def test_a_far_future_send_time_in_the_mail_object_is_quarantined_too() -> None:
    seed_message(recipients=1)
    event = b.delivery_event(ses_id("msg-1", 0), address(0), **tagged(0))
    event["mail"]["timestamp"] = "9999-12-31T23:59:59.999Z"
    assert run([record(event)]) == []
    assert [item.reason for item in quarantined()] == ["time_out_of_range"]


@pytest.mark.parametrize("recipients", [[], [""], ["   "]])
def test_an_event_that_names_no_recipient_is_quarantined_not_dropped(recipients: list[str]) -> None:
    seed_message(recipients=1)
    event = b.delivery_event(ses_id("msg-1", 0), address(0), recipients=recipients, **tagged(0))
    assert run([record(event)]) == []
    assert [item.reason for item in quarantined()] == ["no_recipient"]


def test_a_lone_surrogate_is_quarantined_as_not_unicode_and_the_rest_of_its_batch_applies() -> None:
    seed_message(recipients=2)
    broken = b.open_event(ses_id("msg-1", 0), address(0), user_agent="Mail" + chr(0xD800), **tagged(0))
    good = b.delivery_event(ses_id("msg-1", 1), address(1), **tagged(1))
    body = b.sns_body(broken)
    assert run([b.sqs_record(body), record(good)]) == []
    [kept] = quarantined()
    assert (kept.reason, kept.body) == ("invalid_unicode", body)
    assert kept.detail.startswith("open.userAgent:")
    assert recipient_facts("tenant-a", "msg-1", "r1").status is Status.DELIVERED
    assert message_counts("tenant-a", "msg-1") == recount("tenant-a", "msg-1")


def test_an_oversized_diagnostic_is_stored_truncated_and_costs_no_other_record_its_write() -> None:
    seed_message(recipients=99)
    huge = b.delivery_delay_event(
        ses_id("msg-1", 0), address(0), diagnostic_code="smtp; 421 4.4.1 " + "x" * 250_000, **tagged(0)
    )
    others = [b.delivery_event(ses_id("msg-1", i), address(i), **tagged(i)) for i in range(1, 99)]
    assert run([record(huge)] + [record(e) for e in others]) == []
    delayed = recipient_facts("tenant-a", "msg-1", "r0")
    assert delayed.status is Status.DELAYED
    assert delayed.delay is not None
    diagnostic = str(delayed.delay.values["diagnostic_code"])
    assert len(diagnostic) <= 1100
    assert diagnostic.startswith("smtp; 421 4.4.1 xxx")
    assert "truncated" in diagnostic
    assert all(recipient_facts("tenant-a", "msg-1", f"r{i}").status is Status.DELIVERED for i in range(1, 99))
    assert item_size("tenant-a", "msg-1", "r0") < 8_000
    assert message_counts("tenant-a", "msg-1") == recount("tenant-a", "msg-1")


def test_an_oversized_complaint_user_agent_is_stored_truncated() -> None:
    seed_message(recipients=2)
    complaint = b.complaint_event(ses_id("msg-1", 0), address(0), user_agent="U" * 200_000, **tagged(0))
    other = b.delivery_event(ses_id("msg-1", 1), address(1), **tagged(1))
    assert run([record(complaint), record(other)]) == []
    facts = recipient_facts("tenant-a", "msg-1", "r0")
    assert facts.status is Status.COMPLAINT
    assert facts.complaint is not None
    assert len(str(facts.complaint.values["user_agent"])) <= 1100
    assert recipient_facts("tenant-a", "msg-1", "r1").status is Status.DELIVERED


def test_a_recipient_with_very_many_opens_keeps_an_exact_count_in_a_bounded_item() -> None:
    seed_message(recipients=1)

    def opens(start: int, end: int) -> list[dict[str, Any]]:
        return [
            b.open_event(ses_id("msg-1", 0), address(0), at=SENT + timedelta(seconds=i), **tagged(0))
            for i in range(start, end)
        ]

    for first in range(0, 300, 100):
        assert run([record(e) for e in opens(first, first + 100)]) == []
        if first == 100:
            size_at_200 = item_size("tenant-a", "msg-1", "r0")
    # Every one of them again, in other batches: duplicates count nothing.
    assert run([record(e) for e in opens(250, 300) + opens(0, 50)]) == []
    facts = recipient_facts("tenant-a", "msg-1", "r0")
    assert facts.open_count == 300
    # The item does not grow with the number of events it has seen.
    assert item_size("tenant-a", "msg-1", "r0") <= size_at_200 + 200
    assert message_counts("tenant-a", "msg-1") == {Status.OPENED: 1}


def test_a_recipient_with_very_many_distinct_bounces_stops_growing_and_takes_its_next_event() -> None:
    seed_message(recipients=1)
    subtype = "S" * 64  # the longest a bounce's timeline entry keeps

    def bounces(start: int, end: int) -> list[dict[str, Any]]:
        return [
            b.bounce_event(
                ses_id("msg-1", 0),
                address(0),
                at=SENT + timedelta(seconds=i),
                bounce_type="Transient",
                bounce_subtype=subtype,
                **tagged(0),
            )
            for i in range(start, end)
        ]

    for first in range(0, 300, 100):
        assert run([record(e) for e in bounces(first, first + 100)]) == []
        if first == 100:
            size_at_200 = item_size("tenant-a", "msg-1", "r0")
    # Each bounce used to add its ~110-byte entry: ~3,600 of them made the item one DynamoDB refuses.
    assert item_size("tenant-a", "msg-1", "r0") <= size_at_200 + 200
    complaint = b.complaint_event(ses_id("msg-1", 0), address(0), at=SENT + timedelta(hours=3), **tagged(0))
    assert run([record(complaint)]) == []
    assert quarantined() == []
    facts = recipient_facts("tenant-a", "msg-1", "r0")
    assert (facts.status, facts.transient_bounces, facts.applied) == (Status.COMPLAINT, 300, 301)
    assert message_counts("tenant-a", "msg-1") == {Status.COMPLAINT: 1}


def test_a_recipient_the_store_refuses_for_good_is_quarantined_and_the_rest_of_its_batch_commits() -> None:
    seed_message(recipients=60)
    refused_key = "R#r7"

    def refuse(call: ApiCall, perform: Callable[[], Any]) -> Any:
        if call.operation == "PutItem" and call.params.get("Item", {}).get("sk", {}).get("S") == refused_key:
            error = {
                "Error": {"Code": "ValidationException", "Message": "Item size has exceeded the maximum"}
            }
            raise ClientError(error, "PutItem")  # type: ignore[arg-type]
        return perform()

    events = [b.delivery_event(ses_id("msg-1", i), address(i), **tagged(i)) for i in range(60)]
    with intercepted(refuse):
        assert run([record(e) for e in events]) == []
    assert [item.reason for item in quarantined()] == ["unwritable"]
    assert recipient_facts("tenant-a", "msg-1", "r7").status is Status.QUEUED
    delivered = [
        i for i in range(60) if recipient_facts("tenant-a", "msg-1", f"r{i}").status is Status.DELIVERED
    ]
    assert delivered == [i for i in range(60) if i != 7]
    assert message_counts("tenant-a", "msg-1") == recount("tenant-a", "msg-1")


def test_a_crash_between_any_two_writes_of_a_recipient_beyond_its_kept_ids_stays_exact() -> None:
    """The markers of events beyond ``seen`` are written with the recipient: a crash anywhere
    and a redelivery count every open once."""
    opens = [
        b.open_event(ses_id("msg-1", 0), address(0), at=SENT + timedelta(seconds=i), **tagged(0))
        for i in range(SEEN_LIMIT + 30)
    ]
    batch = [record(e) for e in opens]
    seed_message(recipients=1)
    with intercepted() as calls:
        assert run(batch) == []
    writes = [call for call in calls if is_write(call)]
    for crash_at in range(1, len(writes) + 1):
        reset_table()
        seed_message(recipients=1)
        with crash_before_write(crash_at), pytest.raises(SimulatedCrash):
            run(batch)
        for each in batch:
            each["attributes"]["ApproximateReceiveCount"] = "2"
        assert run(batch) == [], f"redelivery after a crash at write {crash_at}"
        facts = recipient_facts("tenant-a", "msg-1", "r0")
        assert facts.open_count == SEEN_LIMIT + 30, f"crash at write {crash_at}"
        assert len(facts.seen) == SEEN_LIMIT
        for each in batch:
            each["attributes"]["ApproximateReceiveCount"] = "1"


def test_a_suppression_store_failure_for_one_address_restarts_the_stream_batch_at_its_change() -> None:
    seed_message(recipients=2)
    project()
    bounces = [b.bounce_event(ses_id("msg-1", i), address(i), **tagged(i)) for i in range(2)]
    assert run([record(e) for e in bounces]) == []  # ingest writes no suppression evidence
    failing_pk = "T#tenant-a#SUP#person1@example.com"

    def fail_for_one_address(call: ApiCall, perform: Callable[[], Any]) -> Any:
        if failing_pk in json.dumps(call.params):
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "boom"}}, call.operation)  # type: ignore[arg-type]
        return perform()

    projector = default_projector()
    answered: list[tuple[dict[str, Any], dict[str, Any]]] = []

    def handler(event: dict[str, Any]) -> dict[str, Any]:
        answered.append((event, process_batch(event, projector)))
        return answered[-1][1]

    with intercepted(fail_for_one_address):
        stream().drain(handler, max_batches=1)
    ((event, response),) = answered
    (restart,) = response["batchItemFailures"]
    (first_retried,) = [
        r for r in event["Records"] if r["dynamodb"]["SequenceNumber"] == restart["itemIdentifier"]
    ]
    assert first_retried["dynamodb"]["NewImage"]["email"]["S"] == address(1)
    assert len(evidence_entries(address(0))) == 1
    assert evidence_entries(address(1)) == set()

    project()  # the fault is gone: Lambda delivers the batch again from that record
    assert len(evidence_entries(address(0))) == 1
    assert len(evidence_entries(address(1))) == 1
    assert message_counts("tenant-a", "msg-1")[Status.BOUNCED] == 2
    assert recount("tenant-a", "msg-1") == message_counts("tenant-a", "msg-1")
