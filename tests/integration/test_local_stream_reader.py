"""Local mode's stream reader takes GetRecords answers as their wire JSON (local/streams.py): the
records it hands the projector must be the ones botocore's parser would have led to."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from local.streams import STREAMS_CLIENT_CONFIG, Gathering, TableStream, lambda_record, wire_lambda_record


def parsed_records(stream_arn: str) -> list[dict[str, Any]]:
    """The stream's records read with botocore's own parser (bytes, datetimes), as Lambda's
    event would carry them."""
    client = boto3.client("dynamodbstreams", region_name="us-east-1", config=STREAMS_CLIENT_CONFIG)
    shards = client.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    records: list[dict[str, Any]] = []
    for shard in shards:
        iterator = client.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records += client.get_records(ShardIterator=iterator, Limit=1000)["Records"]
    return [lambda_record(r, stream_arn) for r in records]


@pytest.mark.usefixtures("aws")
def test_wire_records_reach_the_projector_as_parsed_ones_would(table: str) -> None:
    db = boto3.client("dynamodb", region_name="us-east-1")
    key = {"pk": {"S": "m#t#1"}, "sk": {"S": "r#1"}}
    db.put_item(
        TableName=table,
        Item={
            **key,
            "item_type": {"S": "recipient"},
            "blob": {"B": b"\x00\xffbinary"},
            "blobs": {"BS": [b"a", b"\x01"]},
            "tags": {"SS": ["x", "y"]},
            "n": {"N": "3"},
            "facts": {"M": {"l": {"L": [{"S": "a"}, {"BOOL": True}, {"NULL": True}]}}},
        },
    )
    db.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues={":n": {"N": "4"}},
    )
    db.delete_item(TableName=table, Key=key)

    reader = TableStream(table)
    read = [r for _, batch in reader.batches() for r in batch]
    wire = [lambda_record(r, reader.stream_arn) for r in read]

    assert len(wire) == 3
    assert wire == parsed_records(reader.stream_arn)
    # What drain hands the projector: the same records, without walking them.
    assert [wire_lambda_record(r, reader.stream_arn) for r in read] == wire


def put_recipients(table: str, numbers: range) -> None:
    db = boto3.client("dynamodb", region_name="us-east-1")
    for n in numbers:
        db.put_item(
            TableName=table,
            Item={"pk": {"S": "m#t#1"}, "sk": {"S": f"r#{n:03d}"}, "item_type": {"S": "recipient"}},
        )


class Handled:
    """The projector's stand-in: the recipients of each batch, failing once at ``fail_at``."""

    def __init__(self, fail_at: str | None = None) -> None:
        self.batches: list[list[str]] = []
        self._fail_at = fail_at

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        records = event["Records"]
        self.batches.append([r["dynamodb"]["Keys"]["sk"]["S"] for r in records])
        for record in records:
            if record["dynamodb"]["Keys"]["sk"]["S"] == self._fail_at:
                self._fail_at = None
                return {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
        return {}


def writes_while_waiting(table: str, later: list[range], polls: list[float]) -> Gathering:
    """A window that, at each poll (noted in ``polls``), first writes the next of ``later``."""

    def wait(seconds: float) -> bool:
        polls.append(seconds)
        if later:
            put_recipients(table, later.pop(0))
        return False

    return Gathering(window_seconds=60, poll_seconds=0.25, wait=wait)


@pytest.mark.usefixtures("aws")
def test_a_batch_gathers_what_is_written_while_it_waits_and_goes_once_a_read_brings_nothing(
    table: str,
) -> None:
    put_recipients(table, range(3))
    reader, handled, polls = TableStream(table), Handled(), []

    reader.drain(handled, gathering=writes_while_waiting(table, [range(3, 5), range(5, 6)], polls))
    put_recipients(table, range(6, 7))
    reader.drain(handled)

    assert handled.batches == [[f"r#{n:03d}" for n in range(6)], ["r#006"]]
    assert polls == [0.25, 0.25, 0.25], "two reads brought records, the third nothing: the batch went"


@pytest.mark.usefixtures("aws")
def test_a_gathered_batch_stops_at_the_batch_size_and_a_failure_restarts_at_its_record(table: str) -> None:
    put_recipients(table, range(3))
    reader, handled = TableStream(table, batch_size=4), Handled(fail_at="r#002")

    reader.drain(handled, gathering=writes_while_waiting(table, [range(3, 6)], []))

    assert handled.batches == [
        ["r#000", "r#001", "r#002", "r#003"],  # 4 of the 6: the batch size
        ["r#002", "r#003", "r#004", "r#005"],  # from the record that failed, the rest gathered
    ]
