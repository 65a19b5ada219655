"""CSV exports on moto (docs/exports.md): POST /exports's service starts a job, the export worker's
handler runs it from the queue (resuming across invocations), GET /exports/{id}'s service presigns
the object, and the CSV is what the recipients hold, with no cell a spreadsheet would evaluate."""

from __future__ import annotations

import csv
import importlib
import io
import time
from datetime import timedelta
from typing import Any

import boto3
import pytest
import requests

from local import moto_shortcuts
from tests.factories import CREATED_AT, seed_message
from tracker.dal.exports import DynamoExportJobs, DynamoExportTargets, S3ExportObjects, SqsExportQueue
from tracker.dal.messages import NewMessage, NewRecipient, message_item, recipient_item
from tracker.dal.models import RecipientItem, TrackerItem
from tracker.dal.queries import DynamoReadStore
from tracker.domain.errors import NotFoundError
from tracker.domain.exports import (
    FORMULA_LEADS,
    LOG_COLUMNS,
    RECIPIENT_COLUMNS,
    ExportKind,
    ExportState,
    ExportTarget,
)
from tracker.handlers import exporter
from tracker.logic.exports import ExportRunner, ExportService

REGION = "us-east-1"
BUCKET = "exports-test"
ACCOUNT = "123456789012"
# Names a spreadsheet would run as formulas, and plain ones.
HOSTILE_NAMES = ('=HYPERLINK("http://x","y")', "+1 555", "-2+3", "@SUM(A1)", "\tTab", "\rReturn")


@pytest.fixture
def world(table: str) -> dict[str, Any]:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = sqs.create_queue(QueueName="exports")["QueueUrl"]
    jobs = DynamoExportJobs()
    objects = S3ExportObjects(s3, BUCKET)
    service = ExportService(
        jobs,
        queue=SqsExportQueue(lambda: sqs, queue_url),
        targets=DynamoExportTargets(),
        objects=lambda: objects,
        url_ttl=timedelta(minutes=5),
    )
    runner = ExportRunner(jobs, objects, DynamoReadStore())
    return {"sqs": sqs, "queue_url": queue_url, "service": service, "runner": runner}


class ShortContext:
    """A Lambda context whose time is nearly up after ``calls`` questions (forces a resume)."""

    def __init__(self, calls: int) -> None:
        self.calls = calls

    def get_remaining_time_in_millis(self) -> int:
        self.calls -= 1
        return 600_000 if self.calls > 0 else 1_000


def drain(world: dict[str, Any], context: Any = None) -> int:
    """Run the worker's handler on every queued message until the queue is empty; invocations."""
    invocations = 0
    while True:
        got = (
            world["sqs"]
            .receive_message(QueueUrl=world["queue_url"], MaxNumberOfMessages=1, AttributeNames=["All"])
            .get("Messages", [])
        )
        if not got:
            return invocations
        message = got[0]
        record = {
            "messageId": message["MessageId"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
        }
        answer = exporter.process_batch({"Records": [record]}, context, world["runner"], world["service"])
        assert answer["batchItemFailures"] == []
        world["sqs"].delete_message(QueueUrl=world["queue_url"], ReceiptHandle=message["ReceiptHandle"])
        invocations += 1


def download(world: dict[str, Any], tenant: str, export_id: str) -> str:
    status = world["service"].status(tenant, export_id)
    assert status.job.state is ExportState.DONE
    assert status.url is not None
    assert status.url_expires_at is not None
    response = requests.get(status.url, timeout=30)
    assert response.status_code == 200
    return response.content.decode("utf-8")


def seed_large(tenant: str, message_id: str, size: int) -> None:
    """A message and its recipients as the send path writes them, put straight into moto's table
    (100,000 through the API would take most of an hour in moto)."""
    backend: Any = importlib.import_module("moto.dynamodb.models").dynamodb_backends[ACCOUNT][REGION]
    message = NewMessage(tenant, message_id, "email", "Spring =SALE", CREATED_AT)
    people = [
        NewRecipient(
            recipient_id=f"r{i:06d}",
            customer_id=f"cust-{i:06d}",
            email=f"person{i}@example.com",
            name=HOSTILE_NAMES[i % len(HOSTILE_NAMES)] if i % 7 == 0 else f"Person {i}",
        )
        for i in range(size)
    ]
    table = TrackerItem.Meta.table_name

    def put(item: TrackerItem) -> None:
        attributes = item.serialize()
        if isinstance(item, RecipientItem):
            attributes["version"] = {"N": "1"}
        backend.put_item(table, attributes)

    put(message_item(message, people))
    # One recipient serialized by the send path's own builder, the rest copies with their own
    # values (PynamoDB's serialization of 100,000 items was a third of the test's CPU).
    template = recipient_item(message, people[0]).serialize()
    template["version"] = {"N": "1"}
    first = people[0]
    for person in people:
        attributes = {
            name: {"S": _swap(value["S"], first, person)} if "S" in value else value
            for name, value in template.items()
        }
        if person.name is None:
            attributes.pop("name", None)
        backend.put_item(table, attributes)


def _swap(text: str, first: NewRecipient, person: NewRecipient) -> str:
    """``text`` of the first recipient as it reads for ``person``."""
    if first.name and text == first.name:
        return person.name or ""
    return (
        text.replace(first.recipient_id, person.recipient_id)
        .replace(first.customer_id, person.customer_id)
        .replace(first.email, person.email)
    )


def test_an_export_of_100000_recipients_completes_with_one_line_each_and_no_live_formula(
    world: dict[str, Any],
) -> None:
    size = 100_000
    with moto_shortcuts.installed():
        started = time.process_time()
        seed_large("tenant-a", "big", size)
        seeded = time.process_time()
        job = world["service"].start("tenant-a", ExportTarget(ExportKind.MESSAGE_RECIPIENTS, "big"))
        assert job.expected_rows == size
        # The worker's time runs out after its first part: the rest is queued and resumed.
        invocations = drain(world, ShortContext(calls=1))
        text = download(world, "tenant-a", job.export_id)
        done = time.process_time()
    print(
        f"seeded {size:,} recipients in {seeded - started:.1f} s CPU, exported in {done - seeded:.1f} s CPU"
    )
    assert invocations >= 2  # resumed at least once
    lines = text.split("\r\n")
    assert lines[-1] == ""  # the file ends with a line break
    assert len(lines) - 1 == size + 1  # the header and one line per recipient
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(RECIPIENT_COLUMNS)
    assert len({row[0] for row in rows[1:]}) == size
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_LEADS), cell
    names = {row[3] for row in rows[1:]}
    assert {"'" + name for name in HOSTILE_NAMES} <= names
    status = world["service"].status("tenant-a", job.export_id)
    assert status.job.rows == size
    assert status.job.progress == 1.0


def test_an_invoice_log_export_has_every_event_of_every_recipient(world: dict[str, Any]) -> None:
    seed_message("tenant-a", "inv-msg", recipients=3, kind="invoice", invoice_id="inv-7")
    job = world["service"].start("tenant-a", ExportTarget(ExportKind.INVOICE_LOGS, "inv-7"))
    assert drain(world) == 1
    rows = list(csv.reader(io.StringIO(download(world, "tenant-a", job.export_id))))
    assert rows[0] == list(LOG_COLUMNS)
    assert sorted(row[3] for row in rows[1:]) == ["r0", "r1", "r2"]
    assert {row[0] for row in rows[1:]} == {"inv-msg"}


def test_exports_of_what_does_not_exist_are_not_found_and_tenants_do_not_see_each_other(
    world: dict[str, Any],
) -> None:
    seed_message("tenant-a", "m1", recipients=2)
    with pytest.raises(NotFoundError):
        world["service"].start("tenant-a", ExportTarget(ExportKind.MESSAGE_RECIPIENTS, "nope"))
    nothing = world["service"].start("tenant-a", ExportTarget(ExportKind.INVOICE_LOGS, "nope"))
    job = world["service"].start("tenant-a", ExportTarget(ExportKind.MESSAGE_RECIPIENTS, "m1"))
    with pytest.raises(NotFoundError):
        world["service"].status("tenant-b", job.export_id)
    assert world["service"].status("tenant-a", job.export_id).job.state is ExportState.QUEUED
    drain(world)
    assert len(download(world, "tenant-a", job.export_id).split("\r\n")) == 4
    # An invoice no email carried: the header alone.
    assert download(world, "tenant-a", nothing.export_id) == ",".join(LOG_COLUMNS) + "\r\n"
