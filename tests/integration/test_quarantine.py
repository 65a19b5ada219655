"""Quarantined records can be seen by day and reason and re-driven after a fix: the ingest path then
applies them exactly once, however often they are re-driven."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from tests import ses_builders as b
from tests.factories import CREATED_AT, message_counts, recipient_facts, recount, seed_message, ses_id
from tests.lambda_context import FakeLambdaContext
from tracker import constants
from tracker.admin import quarantine as cli
from tracker.dal.models import QuarantineItem
from tracker.dal.quarantine import SHARDS
from tracker.domain.status import Status
from tracker.handlers import ingest

pytestmark = pytest.mark.usefixtures("table")

SENT = CREATED_AT + timedelta(minutes=1)
TODAY = datetime.now(UTC).date()


@pytest.fixture
def events_queue(monkeypatch: pytest.MonkeyPatch) -> str:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url: str = sqs.create_queue(QueueName=constants.EVENTS_QUEUE_NAME)["QueueUrl"]
    monkeypatch.setenv(constants.ENV_EVENTS_QUEUE_URL, url)
    return url


def run(records: list[dict[str, Any]]) -> list[str]:
    ingest.default_ingestor.cache_clear()
    response = ingest.handler(b.sqs_event(records), FakeLambdaContext())
    return [f["itemIdentifier"] for f in response["batchItemFailures"]]


def drain(queue_url: str) -> int:
    """Deliver what the events queue holds to the ingest handler, as the event source mapping does."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    delivered = 0
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        assert run([b.sqs_record(m["Body"], m["MessageId"]) for m in messages]) == []
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
        delivered += len(messages)
    return delivered


def untagged_delivery(index: int, message_id: str = "msg-late") -> dict[str, Any]:
    """An event without our tags whose recipient is not stored yet: found through its SES id only."""
    return b.delivery_event(ses_id(message_id, index), f"person{index}@example.com", sent_at=SENT)


def test_records_spread_over_the_shards_of_their_day_and_list_by_reason(events_queue: str) -> None:
    bad = [b.sqs_record("not json") for _ in range(40)] + [b.sqs_record('{"Type": "Notification"}')]
    assert run(bad) == []
    items = list(QuarantineItem.scan())
    assert len(items) == 41
    assert len({item.pk for item in items}) > SHARDS // 2  # spread, not one hot partition
    assert all(item.pk.startswith(f"QUARANTINE#{TODAY.isoformat()}#") for item in items)
    service = cli.quarantine_service(events_queue)
    assert service.reasons(TODAY) == Counter({"malformed_json": 40, "invalid_event": 1})
    assert len(service.records(TODAY, "invalid_event")) == 1


def test_a_record_quarantined_for_an_unknown_recipient_applies_once_when_redriven_after_the_fix(
    events_queue: str, capsys: pytest.CaptureFixture[str]
) -> None:
    late = [untagged_delivery(i) for i in range(3)]
    records = [b.sqs_record(b.sns_body(event), receive_count=constants.MAX_RECEIVE_COUNT) for event in late]
    assert run(records) == []  # the last delivery: nothing to wait for any more
    assert cli.main(["list", "--day", TODAY.isoformat()]) == 0
    assert capsys.readouterr().out.count("unknown_recipient") == 3

    seed_message(message_id="msg-late", recipients=3)  # the fix: the recipients exist now
    assert cli.main(["redrive", "--day", TODAY.isoformat(), "--reason", "unknown_recipient"]) == 0
    assert "re-driven: 3" in capsys.readouterr().out
    assert drain(events_queue) == 3
    assert [recipient_facts("tenant-a", "msg-late", f"r{i}").status for i in range(3)] == [
        Status.DELIVERED
    ] * 3
    assert message_counts("tenant-a", "msg-late") == {Status.DELIVERED: 3} == recount("tenant-a", "msg-late")

    # Waiting records are gone from the summary; re-driving them all again changes nothing.
    assert cli.main(["summary"]) == 0
    assert "unknown_recipient" not in capsys.readouterr().out
    service = cli.quarantine_service(events_queue)
    every = [r.source_id for r in service.records(TODAY, include_redriven=True)]
    assert service.redrive(TODAY, source_ids=every).redriven == ()  # already re-driven ones are kept out
    for record in service.records(TODAY, include_redriven=True):
        boto3.client("sqs", region_name="us-east-1").send_message(
            QueueUrl=events_queue, MessageBody=record.body
        )
    assert drain(events_queue) == 3
    assert message_counts("tenant-a", "msg-late") == {Status.DELIVERED: 3}


def test_redrive_picks_records_by_id_and_show_prints_the_body(
    events_queue: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run([b.sqs_record("broken one", "sqs-1"), b.sqs_record("broken two", "sqs-2")]) == []
    assert cli.main(["show", "--day", TODAY.isoformat(), "sqs-2"]) == 0
    assert "broken two" in capsys.readouterr().out
    assert cli.main(["show", "--day", TODAY.isoformat(), "sqs-9"]) == 1
    assert cli.main(["redrive", "--day", TODAY.isoformat(), "--id", "sqs-1"]) == 0
    waiting = [r.source_id for r in cli.quarantine_service(events_queue).records(TODAY)]
    assert waiting == ["sqs-2"]
    # Still broken: quarantined again as a new entry when the ingest path gets it back.
    assert drain(events_queue) == 1
    assert (
        sorted(r.reason for r in cli.quarantine_service(events_queue).records(TODAY))
        == ["malformed_json"] * 2
    )


def test_redrive_without_a_queue_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(constants.ENV_EVENTS_QUEUE_URL, raising=False)
    assert cli.main(["redrive", "--day", TODAY.isoformat()]) == 2
    assert constants.ENV_EVENTS_QUEUE_URL in capsys.readouterr().err
