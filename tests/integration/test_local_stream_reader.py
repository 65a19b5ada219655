"""Local mode's stream reader takes GetRecords answers as their wire JSON (local/streams.py): the
records it hands the projector must be the ones botocore's parser would have led to."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from local.streams import STREAMS_CLIENT_CONFIG, TableStream, lambda_record, wire_lambda_record


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
