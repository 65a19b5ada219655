"""Each function's DynamoDB grants (infra/table_access.py) cover every request its code makes, and
grant nothing it does not make: the handlers' paths run against moto with every DynamoDB request
recorded as the IAM action(s) it needs. (The Apple ranges refresher makes none, and is granted none.)"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from botocore.client import BaseClient

from infra import table_access
from infra.api_routes import function_for
from local.streams import DrainReport
from tests import ses_builders as b
from tests.apigw import json_body
from tests.integration import test_send_support as send_support
from tests.integration.test_send_support import (
    SendWorld,
    complain,
    email_body,
    make_world,
    recipients_of,
    run_ingest,
)
from tests.lambda_context import FakeLambdaContext
from tests.projection import default_projector, stream
from tracker import constants as c
from tracker.dal.apple_ranges import S3AppleRanges
from tracker.domain.engagement.networks import SNAPSHOT_FILE
from tracker.handlers import apple_ranges
from tracker.handlers.projector import process_batch
from tracker.logic.apple_ranges_refresh import AppleRangesRefresh

pytestmark = pytest.mark.usefixtures("table")

# TransactWriteItems is authorized item by item (IAM has no action of that name).
TRANSACT_ITEM_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}
# Granted although no path below makes the request, each for a reason.
# The fold checks that the message exists (instead of updating it) when the deltas it folds sum to
# zero, which the paths here do not produce.
GRANTED_UNEXERCISED = {
    # (Powertools idempotency's DeleteItem of a failed request's record is exercised by the
    # erasure's move of a suppression, which deletes the address's items.)
    "send_api": set(),
    "read_api": set(),
    "sender": set(),
    "ingest": set(),
    # A suppression write that conflicts with a concurrent one reads the address again; nothing
    # here writes concurrently.
    "projector": {"dynamodb:BatchGetItem"},
}
# What each function's role is granted (infra/api.py, infra/ingestion.py, ...).
GRANTED = {
    "read_api": table_access.READ_API,
    "send_api": table_access.SEND_API,
    "sender": table_access.SENDER,
    "ingest": table_access.INGEST,
    "projector": table_access.PROJECTOR,
}


class Recorder:
    def __init__(self) -> None:
        self.actions: dict[str, set[str]] = {}
        self.queried_indexes: dict[str, set[str]] = {}
        self.current: str | None = None

    def record(self, operation: str, params: dict[str, Any]) -> None:
        if self.current is None:
            return  # test setup and assertions, not a function's code
        actions = self.actions.setdefault(self.current, set())
        if operation == "TransactWriteItems":
            for item in params["TransactItems"]:
                actions.update(TRANSACT_ITEM_ACTIONS[kind] for kind in item)
        elif operation == "TransactGetItems":
            actions.add("dynamodb:GetItem")
        elif "IndexName" in params:
            assert operation == "Query", operation  # IAM would need it on the index
            self.queried_indexes.setdefault(self.current, set()).add(params["IndexName"])
        else:
            actions.add(f"dynamodb:{operation}")

    @contextmanager
    def function(self, name: str | None) -> Iterator[None]:
        """Requests made inside are ``name``'s (None: no function's, e.g. the stream's reader)."""
        outer, self.current = self.current, name
        try:
            yield
        finally:
            self.current = outer


@pytest.fixture
def projector_recorded(recorder: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    """The helpers project after every ingest and send (tests.projection.project): the event
    source mapping's reading of the stream is no function's request, the projector's handler's
    requests are the projector's."""

    def project() -> DrainReport:
        with recorder.function(None):
            projector = default_projector()

            def handle(event: dict[str, Any]) -> dict[str, Any]:
                with recorder.function("projector"):
                    return process_batch(event, projector)

            report = stream().drain(handle)
        assert not report.failed_batches
        return report

    monkeypatch.setattr(send_support, "project", project)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    inner = BaseClient._make_api_call  # already serialized by tests/conftest.py

    def recording(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name == "dynamodb":
            recorder.record(operation, params)
        return inner(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return recorder


class RoutedByTheGateway:
    """The whole API app, each request's DynamoDB requests recorded as those of the function API
    Gateway sends it to (infra/api_routes.py): the route code is the same in either app."""

    def __init__(self, app: Any, recorder: Recorder) -> None:
        self._app = app
        self._recorder = recorder

    def resolve(self, event: dict[str, Any], context: Any) -> Any:
        function = function_for(event["httpMethod"], event["path"])
        assert function is not None, event["path"]
        with self._recorder.function(f"{function.value}_api"):
            return self._app.resolve(event, context)


def exercise_the_send_routes(world: SendWorld) -> tuple[str, str]:
    """A send with an Idempotency-Key (and its replay), an invoice. Returns the two message ids."""
    sent = world.post(email_body(4), key="key-1")
    assert sent["statusCode"] == 202, sent["body"]
    assert world.post(email_body(4), key="key-1")["statusCode"] == 202  # the replay
    invoice = world.post(email_body(4, kind="invoice", invoice_id="inv-7"))
    assert invoice["statusCode"] == 202, invoice["body"]
    return json_body(sent)["message_id"], json_body(invoice)["message_id"]


def exercise_the_reads(world: SendWorld, message_id: str) -> None:
    """Every read route and the suppression reads, each answering something."""
    recipients = json_body(world.request("GET", f"/messages/{message_id}/recipients"))["items"]
    recipient_id = recipients[0]["recipient_id"]
    for url in (
        "/messages",
        "/messages?kind=invoice",
        f"/messages/{message_id}",
        f"/messages/{message_id}/recipients?status=bounced",
        f"/messages/{message_id}/recipients/{recipient_id}/events",
        "/invoices/inv-7/logs",
        "/customers/cust-0/messages",
        "/attention?kind=email",
        "/attention/count?kind=email",
        "/suppressions",
        f"/suppressions/{quote('person2@example.com')}",
    ):
        response = world.request("GET", url)
        assert response["statusCode"] == 200, (url, response["body"])
        body = json_body(response)
        # A list that finds nothing makes fewer requests than one that shows a page.
        assert body.get("items", [None]), f"{url} found nothing, so its requests are not all made"


def events_for(message_id: str) -> list[dict[str, Any]]:
    """Delivery, open, click, a permanent bounce and a complaint for the message's recipients."""
    recipients = sorted(
        (r for r in recipients_of("tenant-a", message_id) if r.ses_message_id), key=lambda r: r.email
    )
    events = []
    for recipient, builders in zip(
        recipients,
        ([b.delivery_event, b.open_event, b.click_event], [b.bounce_event], [b.complaint_event]),
        strict=False,
    ):
        assert recipient.ses_message_id, recipient.email
        tags = b.tags_for("tenant-a", message_id, recipient.recipient_id)
        events += [build(recipient.ses_message_id, recipient.email, tags=tags) for build in builders]
    return events


@pytest.mark.usefixtures("projector_recorded")
def test_each_function_is_granted_exactly_the_dynamodb_actions_its_code_makes(
    recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CURSOR_SECRET", "table-access-test-cursor-secret-0123456789")
    world = make_world()
    world.app = RoutedByTheGateway(world.app, recorder)
    complain("person2@example.com")  # setup: a suppressed address, so the send path drops it
    message_id, invoice_id = exercise_the_send_routes(world)
    with recorder.function("sender"):
        assert world.drain() == []
    events = events_for(message_id) + events_for(invoice_id)  # setup: the tests' own reads
    with recorder.function("ingest"):
        assert run_ingest(events) == []
        # An event of no recipient of ours: retried, then quarantined on its last delivery.
        stray = [b.delivery_event("unknown-ses-id", "nobody@example.com")]
        assert len(run_ingest(stray)) == 1
        assert run_ingest(stray, receive_count=4) == []
        assert run_ingest(events[:1], receive_count=2) == []  # a redelivered duplicate
    exercise_the_reads(world, message_id)  # with events applied and counted: lists that hold items
    lifted = world.request("DELETE", f"/suppressions/{quote('person2@example.com')}")
    assert lifted["statusCode"] == 200, lifted["body"]
    assert json_body(world.request("GET", "/suppressions?state=lifted"))["items"]
    # The erasure of a customer whose address was suppressed (and lifted): its history moves too.
    erased = world.request("DELETE", "/customers/cust-2")
    assert erased["statusCode"] == 200, erased["body"]
    assert json_body(erased)["suppressions"] == 1
    assert world.request("DELETE", "/customers/cust-2")["statusCode"] == 200  # the no-op repeat

    granted = GRANTED
    for function, access in granted.items():
        made = recorder.actions.get(function, set())
        assert made - set(access.actions) == set(), f"{function} makes requests it is not granted"
        assert set(access.actions) - made == GRANTED_UNEXERCISED[function], f"{function} is granted too much"
        assert recorder.queried_indexes.get(function, set()) == set(access.queried_indexes), function


class SnapshotFeed:
    """Apple's list as the shipped snapshot (nothing here reaches Apple)."""

    def download(self) -> str:
        return resources.files("tracker.domain.engagement").joinpath(SNAPSHOT_FILE).read_text()


def test_the_apple_ranges_refresher_makes_no_dynamodb_request(
    recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="tracker-reference-data")
    store = S3AppleRanges(lambda: s3, "tracker-reference-data", c.APPLE_RANGES_KEY)
    run = AppleRangesRefresh(SnapshotFeed(), store, 1, clock=lambda: datetime.now(UTC))
    # Through the handler, so its metrics are flushed here and not left for another test.
    monkeypatch.setattr(apple_ranges, "default_refresh", lambda: run)
    with recorder.function("apple_ranges"):
        assert apple_ranges.handler({}, FakeLambdaContext())["refreshed"] is True
    assert recorder.actions.get("apple_ranges", set()) == set(table_access.APPLE_RANGES.actions) == set()
    assert recorder.queried_indexes.get("apple_ranges", set()) == set()


def test_the_webhook_failures_consumer_and_the_events_function_are_granted_what_they_make(
    table: str, recorder: Recorder
) -> None:
    """The DLQ consumer writes the tenant's failure items (BatchWriteItem); the events function
    makes no DynamoDB request (it reads only the stream, which is its mapping's)."""
    import json

    from tests.factories import seed_message
    from tests.status_events import MemoryBus, events_stream, publish
    from tracker.bootstrap.webhooks import default_failure_recorder
    from tracker.handlers import webhook_failures
    from tracker.logic.publishing import Publisher

    seed_message("tenant-a", "msg-w", recipients=1)
    detail = {"tenant_id": "tenant-a", "event_id": "e" * 32, "status": "bounced"}
    record = {"messageId": "m1", "body": json.dumps({"detail": detail}), "messageAttributes": {}}
    with recorder.function("webhook_failures"):
        answer = webhook_failures.process_batch({"Records": [record]}, default_failure_recorder())
    assert answer == {"batchItemFailures": []}
    assert recorder.actions["webhook_failures"] == set(table_access.WEBHOOK_FAILURES.actions)
    assert table_access.WEBHOOK_FAILURES.queried_indexes == ()
    bus = MemoryBus()
    reader = events_stream(table)
    with recorder.function("events"):
        publish(Publisher(bus), reader)
    assert recorder.actions.get("events", set()) == set()
