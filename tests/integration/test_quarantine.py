"""Quarantined records can be seen by day and reason and re-driven after a fix: the ingest path then
applies them exactly once, however often they are re-driven."""

from __future__ import annotations

import base64
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from tests import ses_builders as b
from tests.aws_calls import intercepted, is_write
from tests.factories import CREATED_AT, message_counts, recipient_facts, recount, seed_message, ses_id
from tests.lambda_context import FakeLambdaContext
from tracker import constants
from tracker.admin import quarantine as cli
from tracker.dal.models import QuarantineItem
from tracker.dal.quarantine import SHARDS, DynamoQuarantineStore
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


# --- bodies of any size SQS carries --------------------------------------------------------------

SQS_BODY_LIMIT = 1024 * 1024  # bytes of UTF-8
ITEM_LIMIT = 400 * 1024  # DynamoDB's item size limit


def item_size(item: QuarantineItem) -> int:
    """The item's size as DynamoDB counts it: attribute names and values (UTF-8 text, raw bytes)."""
    size = 0
    for name, value in item.serialize().items():
        [(kind, data)] = value.items()
        raw = data if kind == "B" else str(data).encode("utf-8")
        size += len(name.encode("utf-8")) + len(raw)
    return size


def broken_body(size: int, seed: int = 1, *, cjk: bool = False) -> str:
    """An SQS body of about ``size`` bytes (at most) that is not JSON (quarantined as
    malformed_json) and that gzip can hardly shrink: random base64, or random CJK characters
    (3 bytes of UTF-8 each)."""
    rng = random.Random(seed)
    if cjk:
        return "<" + "".join(map(chr, rng.choices(range(0x4E00, 0x9FFF), k=(size - 1) // 3)))
    return "<" + base64.b64encode(rng.randbytes((size - 1) // 4 * 3)).decode("ascii")


@pytest.mark.parametrize(
    ("kind", "size"),
    [
        ("compressible", 600_000),
        ("base64", SQS_BODY_LIMIT),  # needs continuation items even compressed
        ("cjk", SQS_BODY_LIMIT),
        ("cjk", 300_000),
    ],
)
def test_a_quarantined_body_is_kept_whole_up_to_what_sqs_carries(
    events_queue: str, kind: str, size: int
) -> None:
    body = "{" * size if kind == "compressible" else broken_body(size, cjk=kind == "cjk")
    assert len(body.encode("utf-8")) <= SQS_BODY_LIMIT
    assert run([b.sqs_record(body, "sqs-big")]) == []  # kept, not retried
    [record] = cli.quarantine_service(events_queue).records(TODAY)
    assert (record.source_id, record.reason, record.body) == ("sqs-big", "malformed_json", body)
    assert all(item_size(item) < ITEM_LIMIT for item in QuarantineItem.scan())


def test_a_body_too_large_for_one_item_even_compressed_is_written_in_one_transaction(
    events_queue: str,
) -> None:
    body = broken_body(SQS_BODY_LIMIT)
    with intercepted() as calls:
        assert run([b.sqs_record(body, "sqs-big")]) == []
    writes = [call for call in calls if is_write(call)]
    assert [call.operation for call in writes] == ["TransactWriteItems"]
    assert len(writes[0].params["TransactItems"]) > 1  # the record and its continuations, together
    [record] = cli.quarantine_service(events_queue).records(TODAY)
    assert record.body == body


def test_a_small_body_stays_readable_text_on_its_item(events_queue: str) -> None:
    assert run([b.sqs_record("not json at all", "sqs-small")]) == []
    [item] = QuarantineItem.scan()
    assert item.body == "not json at all"


def test_large_records_list_show_and_redrive_whole(
    events_queue: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bodies = {f"sqs-{n}": f"<{n}" + "x" * 600_000 for n in range(3)}
    assert run([b.sqs_record(body, source_id) for source_id, body in bodies.items()]) == []
    assert cli.main(["list", "--day", TODAY.isoformat()]) == 0
    assert "3 record(s)" in capsys.readouterr().out
    assert cli.main(["show", "--day", TODAY.isoformat(), "sqs-1"]) == 0
    assert bodies["sqs-1"] in capsys.readouterr().out
    # Three bodies of 600 KB do not fit one SendMessageBatch (1 MiB): all are queued all the same.
    assert cli.main(["redrive", "--day", TODAY.isoformat()]) == 0
    assert "re-driven: 3; not queued (run again): 0" in capsys.readouterr().out
    assert drain(events_queue) == 3
    again = cli.quarantine_service(events_queue).records(TODAY)  # still broken: quarantined anew
    assert sorted(r.body for r in again) == sorted(bodies.values())


def test_a_body_that_is_not_unicode_text_is_kept_whole_as_bytes(events_queue: str) -> None:
    """SQS never carries a lone surrogate, but whatever calls the store may: DynamoDB refuses one
    in a string, so such a body goes to bytes and the detail gets the escape."""
    body, detail = "broken" + chr(0xD800) + "body", "at" + chr(0xDFFF)
    DynamoQuarantineStore().put("sqs-odd", body, "invalid_unicode", detail)
    [item] = QuarantineItem.scan()
    texts = [value["S"] for value in item.serialize().values() if "S" in value]
    for text in texts:
        text.encode("utf-8")  # raises on a lone surrogate
    [record] = cli.quarantine_service(events_queue).records(TODAY)
    assert (record.body, record.detail) == (body, "at\\udfff")


def test_a_record_whose_continuation_expired_first_is_left_out_not_half_read(events_queue: str) -> None:
    assert (
        run([b.sqs_record(broken_body(SQS_BODY_LIMIT), "sqs-big"), b.sqs_record("small", "sqs-small")]) == []
    )
    [continuation, *_] = [item for item in QuarantineItem.scan() if item.part is not None]
    continuation.delete()  # TTL deletes items one by one
    assert [r.source_id for r in cli.quarantine_service(events_queue).records(TODAY)] == ["sqs-small"]
