"""The shortcuts in moto's bookkeeping (local/moto_shortcuts.py) change its speed, nothing else.

The same requests go to two emulators, as local mode runs them (moto's server in a child
process): plain moto and moto with every shortcut. The answers must be the same, request by
request (less what is random or a clock reading in both: message and request ids, receipt
handles, timestamps, signatures), and so must everything stored at the end.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from local.emulator import Emulator, start_emulator
from tracker.dal.models import bind_table, table_schema

pytestmark = pytest.mark.xdist_group("e2e")

TABLE = "shortcuts"
RANDOM_KEYS = {"MessageId", "ReceiptHandle", "RequestId", "ResponseMetadata", "Timestamp", "Signature"}
RANDOM_KEYS |= {"SigningCertURL", "SentTimestamp", "ApproximateFirstReceiveTimestamp", "MD5OfBody"}
RANDOM_KEYS |= {"CreatedTimestamp", "LastModifiedTimestamp", "SequenceNumber"}


@pytest.fixture(scope="module")
def emulators() -> Iterator[dict[str, Emulator]]:
    started = {"plain": start_emulator(shortcuts=False), "shortcuts": start_emulator(shortcuts=True)}
    try:
        yield started
    finally:
        for emulator in started.values():
            emulator.stop()


def client(emulator: Emulator, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=emulator.endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",  # the emulator's fake credentials
        config=Config(retries={"mode": "standard", "max_attempts": 1}),
    )


def normalized(value: Any) -> Any:
    """An answer without what is random or a clock reading; SNS notifications in bodies parsed."""
    if isinstance(value, dict):
        return {k: normalized(v) for k, v in value.items() if k not in RANDOM_KEYS}
    if isinstance(value, list):
        return [normalized(v) for v in value]
    if isinstance(value, str) and value.startswith("{") and '"Type"' in value:
        return normalized(json.loads(value))
    return value


def answer(call: Callable[[], Any]) -> Any:
    try:
        return normalized(call())
    except ClientError as error:
        return {
            "error": error.response["Error"]["Code"],
            "reasons": error.response.get("CancellationReasons"),
        }


def item(pk: str, sk: str, **extra: Any) -> dict[str, Any]:
    values = {"pk": {"S": pk}, "sk": {"S": sk}}
    values.update({name: {"S": str(v)} if isinstance(v, str) else {"N": str(v)} for name, v in extra.items()})
    return values


def dynamodb_script(db: Any) -> list[Any]:
    bind_table(TABLE, region="us-east-1")
    db.create_table(**table_schema())
    log: list[Any] = []
    for n in range(12):
        db.put_item(
            TableName=TABLE, Item=item("m#1", f"r#{n:03d}", v=0, gsi1pk="tenant", gsi1sk=f"m#{n % 3}")
        )
    db.put_item(TableName=TABLE, Item=item("m#2", "r#000", v=0))
    version = {"ConditionExpression": "v = :v", "ExpressionAttributeValues": {":v": {"N": "0"}}}
    bump = {"UpdateExpression": "SET v = v + :one, s = :s", "ExpressionAttributeValues": {":one": {"N": "1"}}}
    ok = [
        {
            "Update": {"TableName": TABLE, "Key": item("m#1", f"r#{n:03d}"), **bump}
            | {"ExpressionAttributeValues": {":one": {"N": "1"}, ":s": {"S": "opened"}}}
        }
        for n in range(5)
    ] + [{"Put": {"TableName": TABLE, "Item": item("m#1", "delta#1", n=5)}}]
    log.append(answer(lambda: db.transact_write_items(TransactItems=ok)))
    cancelled = [
        {
            "Update": {"TableName": TABLE, "Key": item("m#1", "r#006"), **bump}
            | {"ExpressionAttributeValues": {":one": {"N": "1"}, ":s": {"S": "x"}}}
        },
        {"Put": {"TableName": TABLE, "Item": item("m#1", "delta#2", n=1)}},
        {"Delete": {"TableName": TABLE, "Key": item("m#1", "r#007")}},
        {"ConditionCheck": {"TableName": TABLE, "Key": item("m#1", "r#000"), **version}},  # v is 1 now
    ]
    log.append(answer(lambda: db.transact_write_items(TransactItems=cancelled)))
    log.append(answer(lambda: db.transact_write_items(TransactItems=[ok[0], ok[0]])))  # one item twice
    log.append(answer(lambda: db.put_item(TableName=TABLE, Item=item("m#3", "big", blob="x" * 410_000))))
    db.put_item(TableName=TABLE, Item=item("m#3", "near", blob="x" * 300_000))
    grow = {":b": {"S": "y" * 120_000}}
    log.append(
        answer(
            lambda: db.update_item(
                TableName=TABLE,
                Key=item("m#3", "near"),
                UpdateExpression="SET more = :b",
                ExpressionAttributeValues=grow,
            )
        )
    )
    log.append(
        answer(
            lambda: db.update_item(
                TableName=TABLE,
                Key=item("m#3", "near"),
                UpdateExpression="REMOVE blob SET more = :b",
                ExpressionAttributeValues=grow,
            )
        )
    )
    for condition, values in [
        ("pk = :p AND begins_with(sk, :s)", {":p": {"S": "m#1"}, ":s": {"S": "r#00"}}),
        (
            "pk = :p AND sk BETWEEN :a AND :b",
            {":p": {"S": "m#1"}, ":a": {"S": "delta"}, ":b": {"S": "r#003"}},
        ),
        ("pk = :p AND sk > :a", {":p": {"S": "m#1"}, ":a": {"S": "r#009"}}),
        ("pk = :p", {":p": {"S": "m#nothing"}}),
    ]:
        log.append(
            answer(
                lambda c=condition, v=values: db.query(
                    TableName=TABLE, KeyConditionExpression=c, ExpressionAttributeValues=v
                )
            )
        )
    page = {"TableName": TABLE, "KeyConditionExpression": "pk = :p", "Limit": 4, "ScanIndexForward": False}
    page["ExpressionAttributeValues"] = {":p": {"S": "m#1"}}
    first = db.query(**page)
    log += [normalized(first), answer(lambda: db.query(**page, ExclusiveStartKey=first["LastEvaluatedKey"]))]
    # Forward pages of a prefix, with a filter (counted after Limit), to the end of the partition.
    forward: dict[str, Any] = {
        "TableName": TABLE,
        "KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
        "FilterExpression": "attribute_not_exists(gone)",
        "ExpressionAttributeValues": {":p": {"S": "m#1"}, ":s": {"S": "r#"}},
        "Limit": 3,
    }
    start: dict[str, Any] | None = None
    for _ in range(10):
        got_page = db.query(**forward, **({"ExclusiveStartKey": start} if start else {}))
        log.append(normalized(got_page))
        start = got_page.get("LastEvaluatedKey")
        if start is None:
            break
    log.append(
        answer(
            lambda: db.query(
                TableName=TABLE,
                IndexName="gsi1",
                KeyConditionExpression="gsi1pk = :t AND gsi1sk = :m",
                ExpressionAttributeValues={":t": {"S": "tenant"}, ":m": {"S": "m#1"}},
            )
        )
    )
    keys = [item("m#1", f"r#{n:03d}") for n in (0, 3, 7, 11)] + [item("m#9", "none")]
    got = db.batch_get_item(RequestItems={TABLE: {"Keys": keys}})
    log.append(sorted(json.dumps(i, sort_keys=True) for i in got["Responses"][TABLE]))
    log.append(
        answer(
            lambda: db.batch_write_item(
                RequestItems={
                    TABLE: [{"PutRequest": {"Item": item("m#4", f"log#{n}", kind="open")}} for n in range(20)]
                    + [{"DeleteRequest": {"Key": item("m#1", "r#010")}}]
                }
            )
        )
    )
    everything = db.scan(TableName=TABLE)["Items"]
    log.append(sorted(json.dumps(i, sort_keys=True) for i in everything))
    return log


def sqs_sns_script(sqs: Any, sns: Any, endpoint: str) -> list[Any]:
    log: list[Any] = []
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})
    queue = sqs.create_queue(
        QueueName="events", Attributes={"VisibilityTimeout": "0", "RedrivePolicy": policy}
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = sns.create_topic(Name="ses-events")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    for n in range(4):
        sns.publish(TopicArn=topic, Message=json.dumps({"eventType": "Open", "n": n}))
    # As local mode publishes: batches of notifications (and a FIFO-only attribute read per message).
    entries = [{"Id": str(n), "Message": json.dumps({"eventType": "Click", "n": n})} for n in range(3)]
    log.append(answer(lambda: sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)))
    sqs.send_message(QueueUrl=queue, MessageBody="plain", DelaySeconds=0)
    counts = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
        "MessageRetentionPeriod",
    ]
    log.append(answer(lambda: sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=counts)))
    received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    log.append(normalized(received))
    log.append(signatures(received, endpoint))
    handles = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received[:2])]
    handles.append({"Id": "bogus", "ReceiptHandle": "not-a-handle"})
    log.append(answer(lambda: sqs.delete_message_batch(QueueUrl=queue, Entries=handles)))
    log.append(answer(lambda: sqs.delete_message(QueueUrl=queue, ReceiptHandle=received[0]["ReceiptHandle"])))
    log.append(answer(lambda: sqs.delete_message(QueueUrl=queue, ReceiptHandle="never-issued")))
    for _ in range(3):  # the rest come back (visibility 0), then move to the DLQ after 2 receives
        log.append(answer(lambda: sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)))
    log.append(answer(lambda: sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=counts)))
    log.append(answer(lambda: sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=counts)))
    # A message received twice is deleted with its first receipt handle, then again with its second.
    again = sqs.create_queue(QueueName="again", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    sqs.send_message(QueueUrl=again, MessageBody="twice")
    first, second = (sqs.receive_message(QueueUrl=again)["Messages"][0]["ReceiptHandle"] for _ in range(2))
    log.append(answer(lambda: sqs.delete_message(QueueUrl=again, ReceiptHandle=first)))
    log.append(answer(lambda: sqs.receive_message(QueueUrl=again)))
    log.append(answer(lambda: sqs.delete_message(QueueUrl=again, ReceiptHandle=second)))
    log.append(answer(lambda: sqs.delete_message(QueueUrl=queue, ReceiptHandle=second)))  # another queue's
    return log


def signatures(messages: list[dict[str, Any]], endpoint: str) -> list[bool]:
    """Whether each SNS notification's signature verifies against the certificate its
    ``SigningCertURL`` names, fetched from the emulator as a consumer would fetch it from SNS."""
    verified = []
    for note in (json.loads(m["Body"]) for m in messages if m["Body"].startswith("{")):
        url = urlsplit(note["SigningCertURL"])
        # moto's server picks the service by the credential scope: a consumer's unsigned GET to
        # sns.<region>.amazonaws.com, with SNS's scope.
        scope = "Credential=local/20260101/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=0"
        headers = {"Host": url.netloc, "Authorization": f"AWS4-HMAC-SHA256 {scope}"}
        pem = requests.get(f"{endpoint}{url.path}", headers=headers, timeout=10)
        pem.raise_for_status()
        signed = "".join(
            f"{name}\n{note[name]}\n" for name in ("Message", "MessageId", "Timestamp", "TopicArn", "Type")
        )
        key = x509.load_pem_x509_certificate(pem.content).public_key()
        assert isinstance(key, rsa.RSAPublicKey)  # SignatureVersion 2: SHA256 with RSA
        try:
            key.verify(
                base64.b64decode(note["Signature"]), signed.encode(), padding.PKCS1v15(), hashes.SHA256()
            )
            verified.append(True)
        except InvalidSignature:
            verified.append(False)
    return verified


STREAMED = "streamed"
# moto's SizeBytes is the length of the record's JSON with its creation time in it: a clock reading too.
STREAM_RANDOM_KEYS = {"eventID", "NextShardIterator", "ResponseMetadata", "SizeBytes"}


def raw_bodies(streams: Any) -> list[Any]:
    """Every answer's body as it came over the wire (JSON, before botocore parses it)."""
    bodies: list[Any] = []

    def keep(http_response: Any, **_: Any) -> None:
        bodies.append(json.loads(http_response.content))

    streams.meta.events.register("after-call.dynamodb-streams", keep)
    return bodies


def wire_normalized(value: Any) -> Any:
    """A raw stream answer without what is random; a creation time only as what it is, epoch
    seconds within the last minute (plain moto writes a float, or an int on a whole second)."""
    if isinstance(value, dict):
        return {
            k: ("epoch seconds" if isinstance(v, int | float) and abs(time.time() - v) < 60 else v)
            if k == "ApproximateCreationDateTime"
            else wire_normalized(v)
            for k, v in value.items()
            if k not in STREAM_RANDOM_KEYS
        }
    if isinstance(value, list):
        return [wire_normalized(v) for v in value]
    return value


def stream_script(db: Any, streams: Any) -> list[Any]:
    """Inserts, updates and deletes of items with every attribute type, read back from the
    table's stream in pages, from the start, at and after a sequence number."""
    bind_table(STREAMED, region="us-east-1")
    db.create_table(**table_schema())
    for n in range(5):
        values = item("m#1", f"r#{n}", v=n, item_type="recipient")
        values |= {
            "tl": {"L": [{"S": "o|1|abc"}, {"N": "2"}]},
            "f": {"M": {"a": {"BOOL": True}, "z": {"NULL": True}}},
            "tallies": {"SS": ["open", "sent"]},
            "counts": {"NS": ["1", "2"]},
        }
        db.put_item(TableName=STREAMED, Item=values)
    db.update_item(
        TableName=STREAMED,
        Key=item("m#1", "r#1"),
        UpdateExpression="SET v = v + :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    db.delete_item(TableName=STREAMED, Key=item("m#1", "r#2"))
    bodies = raw_bodies(streams)
    arn = db.describe_table(TableName=STREAMED)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    page = streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=3)
    while page["Records"]:
        page = streams.get_records(ShardIterator=page["NextShardIterator"], Limit=3)
    sequence = bodies[2]["Records"][1]["dynamodb"]["SequenceNumber"]
    for kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard, ShardIteratorType=kind, SequenceNumber=sequence
        )
        streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=2)
    return [wire_normalized(body) for body in bodies[2:] if "Records" in body]


def test_the_stream_answers_the_same_with_the_shortcuts(emulators: dict[str, Emulator]) -> None:
    plain, fast = (
        stream_script(client(emulators[name], "dynamodb"), client(emulators[name], "dynamodbstreams"))
        for name in ("plain", "shortcuts")
    )
    assert len(plain) == len(fast) == 6  # 7 records in pages of 3 (the last empty), then at and after
    for step, (expected, got) in enumerate(zip(plain, fast, strict=True)):
        assert got == expected, f"stream answer {step} differs"
    records = [record for page in plain for record in page["Records"]]
    assert {r["eventName"] for r in records} == {"INSERT", "MODIFY", "REMOVE"}
    assert records[0]["dynamodb"]["ApproximateCreationDateTime"] == "epoch seconds"


def test_dynamodb_answers_and_stores_the_same_with_the_shortcuts(emulators: dict[str, Emulator]) -> None:
    plain, fast = (dynamodb_script(client(emulators[name], "dynamodb")) for name in ("plain", "shortcuts"))
    assert len(plain) == len(fast)
    for step, (expected, got) in enumerate(zip(plain, fast, strict=True)):
        assert got == expected, f"request {step} answered differently"
    assert plain[1]["error"] == "TransactionCanceledException"  # the script does exercise the failures
    assert plain[3]["error"] == "ValidationException"


def test_sqs_and_sns_answer_the_same_with_the_shortcuts(emulators: dict[str, Emulator]) -> None:
    plain, fast = (
        sqs_sns_script(
            client(emulators[name], "sqs"), client(emulators[name], "sns"), emulators[name].endpoint
        )
        for name in ("plain", "shortcuts")
    )
    for step, (expected, got) in enumerate(zip(plain, fast, strict=True)):
        assert got == expected, f"request {step} answered differently"
    # Seven notifications (four published, three in a batch), each signed with its certificate's key.
    assert plain[3] == [True] * 7


def eventbridge_script(events: Any, sqs: Any) -> list[Any]:
    """Events put on a bus whose rules deliver to a queue, as is and through an input
    transformer: the bodies the queue receives (input paths applied, remembered or not)."""
    url = sqs.create_queue(QueueName="bus-target")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.create_event_bus(Name="shortcuts-bus")
    pattern = json.dumps({"source": ["tracker"]})
    events.put_rule(Name="as-is", EventBusName="shortcuts-bus", EventPattern=pattern)
    events.put_rule(Name="shaped", EventBusName="shortcuts-bus", EventPattern=pattern)
    events.put_targets(Rule="as-is", EventBusName="shortcuts-bus", Targets=[{"Id": "q", "Arn": arn}])
    transformer = {
        "InputPathsMap": {"kind": "$.detail-type", "who": "$.detail.recipient", "n": "$.detail.n"},
        "InputTemplate": '{"kind": "<kind>", "who": "<who>", "n": <n>}',
    }
    events.put_targets(
        Rule="shaped",
        EventBusName="shortcuts-bus",
        Targets=[{"Id": "q", "Arn": arn, "InputTransformer": transformer}],
    )
    for n in range(3):
        detail = json.dumps({"recipient": f"r{n}", "n": n})
        events.put_events(
            Entries=[
                {
                    "Source": "tracker",
                    "DetailType": f"kind-{n}",
                    "Detail": detail,
                    "EventBusName": "shortcuts-bus",
                }
            ]
        )
    bodies = []
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        bodies += [json.loads(message["Body"]) for message in got]
    for body in bodies:
        for key in ("id", "time"):
            body.pop(key, None)
    return sorted(bodies, key=json.dumps)


def test_eventbridge_targets_receive_the_same_with_the_shortcuts(emulators: dict[str, Emulator]) -> None:
    plain, fast = (
        eventbridge_script(client(emulators[name], "events"), client(emulators[name], "sqs"))
        for name in ("plain", "shortcuts")
    )
    assert fast == plain
    assert len(plain) == 6  # each event delivered by both rules
    assert {"kind": "kind-1", "who": "r1", "n": 1} in plain  # the input paths were applied


def test_receipt_handles_keep_their_form_with_the_shortcuts(emulators: dict[str, Emulator]) -> None:
    sqs = client(emulators["shortcuts"], "sqs")
    url = sqs.create_queue(QueueName="handles")["QueueUrl"]
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(5)])
    handles = [
        m["ReceiptHandle"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=5)["Messages"]
    ]
    assert len(set(handles)) == 5
    assert all(len(h) == 185 and h.isascii() and h.isalpha() and h.islower() for h in handles)
    sqs.delete_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(handles)]
    )
    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []) == []
