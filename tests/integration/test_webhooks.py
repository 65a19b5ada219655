"""Events out, end to end on moto: a bounce on an invoice becomes one "Recipient status changed"
event on the bus with the documented fields; a tenant's webhook receives it with its secret header
(through local mode's delivery driver: moto delivers nothing to API destinations); a receiver that
answers 500 is retried, and the failure is listed by GET /webhook/deliveries; SSRF targets are
refused with 400."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest
from moto import mock_aws

from local.webhooks import LocalEventResources, WebhookDriver, create_event_resources
from tests import ses_builders as b
from tests.apigw import api_event, json_body
from tests.conftest import TEST_TABLE
from tests.factories import seed_message, ses_id
from tests.lambda_context import FakeLambdaContext
from tests.status_events import events_stream, publish
from tracker import constants
from tracker.bootstrap import api as api_bootstrap
from tracker.bootstrap.events import build_publisher
from tracker.dal.models import bind_table, table_schema
from tracker.handlers import ingest, webhook_failures
from tracker.logic.webhooks import WebhookService
from tracker.settings import EventSettings

SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "status-event.schema.json").read_text())
TENANT = "tenant-a"


@dataclass
class Receiver:
    """A webhook endpoint on 127.0.0.1: records each POST, answers ``status``."""

    port: int
    status: int = 200
    received: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/tracker"


@contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver(port=0)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.received.append(({k.lower(): v for k, v in self.headers.items()}, json.loads(body)))
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class World:
    events: LocalEventResources
    app: Any
    driver: WebhookDriver

    def call(self, method: str, path: str, body: Any = None, tenant: str = TENANT) -> tuple[int, Any]:
        response = self.app.resolve(api_event(method, path, body=body, tenant_id=tenant), FakeLambdaContext())
        return response["statusCode"], json_body(response)

    def publish(self) -> None:
        publisher = build_publisher(EventSettings.from_env(), boto3.client("events", region_name="us-east-1"))
        report = publish(publisher, self.reader)
        assert not report.failed_batches

    def deliver(self) -> None:
        self.driver.drain()
        sqs = boto3.client("sqs", region_name="us-east-1")
        messages = sqs.receive_message(
            QueueUrl=self.events.dead_letter_url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
        ).get("Messages", [])
        records = [
            {
                "messageId": m["MessageId"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {
                    k: {"stringValue": v["StringValue"], "dataType": "String"}
                    for k, v in m.get("MessageAttributes", {}).items()
                },
            }
            for m in messages
        ]
        if records:
            service: WebhookService = api_bootstrap.send_dependencies().webhooks  # type: ignore[assignment]
            assert webhook_failures.process_batch({"Records": records}, service) == {"batchItemFailures": []}

    reader: Any = None


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with mock_aws():
        bind_table(TEST_TABLE, region="us-east-1")
        boto3.client("dynamodb", region_name="us-east-1").create_table(**table_schema())
        sqs = boto3.client("sqs", region_name="us-east-1")
        monkeypatch.setenv(constants.ENV_SEND_QUEUE_URL, sqs.create_queue(QueueName="send")["QueueUrl"])
        monkeypatch.setenv(constants.ENV_CURSOR_SECRET, "s" * 32)
        monkeypatch.setenv(constants.ENV_WEBHOOK_ALLOW_LOCAL, "1")
        events = create_event_resources()
        monkeypatch.setenv(constants.ENV_WEBHOOK_DLQ_ARN, events.dead_letter_arn)
        seed_message(TENANT, "inv-msg", recipients=1, kind="invoice", invoice_id="INV-7")
        ingest.default_ingestor.cache_clear()
        state = World(events, api_bootstrap.api_app(), WebhookDriver(events, sleep=lambda _s: None))
        state.reader = events_stream(TEST_TABLE)
        state.publish()  # the seeded recipients' creation (queued: no event)
        yield state


def bounce(message_id: str = "inv-msg") -> None:
    event = b.bounce_event(
        ses_id(message_id, 0), "person0@example.com", tags=b.tags_for(TENANT, message_id, "r0")
    )
    answer = ingest.handler(b.sqs_event([b.sqs_record(b.sns_body(event))]), FakeLambdaContext())
    assert answer["batchItemFailures"] == []


def feed_events(world: World) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    found: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=world.events.feed_queue_url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        found += [json.loads(m["Body"]) for m in messages]
        sqs.delete_message_batch(
            QueueUrl=world.events.feed_queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
    return found


def test_a_bounce_on_an_invoice_is_one_status_event_with_the_documented_fields(world: World) -> None:
    bounce()
    world.publish()
    world.publish()  # nothing new on the stream: nothing put again
    events = feed_events(world)
    assert len(events) == 1
    event = events[0]
    assert (event["source"], event["detail-type"]) == (constants.EVENT_SOURCE, constants.EVENT_DETAIL_TYPE)
    detail = event["detail"]
    jsonschema.validate(detail, SCHEMA)
    assert {k: detail[k] for k in ("tenant_id", "message_id", "recipient_id", "customer_id", "kind")} == {
        "tenant_id": TENANT,
        "message_id": "inv-msg",
        "recipient_id": "r0",
        "customer_id": "cust-0",
        "kind": "invoice",
    }
    assert (detail["invoice_id"], detail["payment_id"]) == ("INV-7", None)
    assert (detail["previous_status"], detail["status"]) == ("queued", "bounced")
    assert detail["ses_message_id"] == ses_id("inv-msg", 0)
    assert detail["reason"]["code"]
    assert detail["reason"]["summary"]
    assert detail["test"] is False


def test_the_webhook_receives_the_event_with_its_secret_header(world: World) -> None:
    with receiver() as endpoint:
        status, answer = world.call("PUT", "/webhook", {"url": endpoint.url, "statuses": ["bounced"]})
        assert status == 200, answer
        secret = answer["secret"]
        assert secret
        assert answer["secret_header"] == constants.WEBHOOK_SECRET_HEADER
        # The secret is answered once: reading the webhook never shows it.
        status, read = world.call("GET", "/webhook")
        assert status == 200
        assert "secret" not in read
        assert (read["url"], read["statuses"]) == (endpoint.url, ["bounced"])

        bounce()
        world.publish()
        world.deliver()
        assert len(endpoint.received) == 1
        headers, body = endpoint.received[0]
        assert headers[constants.WEBHOOK_SECRET_HEADER.lower()] == secret
        jsonschema.validate(body, SCHEMA)
        assert (body["message_id"], body["status"], body["invoice_id"]) == ("inv-msg", "bounced", "INV-7")

        # A test event goes the same way; a status not subscribed to does not.
        status, tested = world.call("POST", "/webhook/test")
        assert status == 202
        world.deliver()
        assert endpoint.received[-1][1]["event_id"] == tested["event_id"]
        assert endpoint.received[-1][1]["test"] is True
        assert len(endpoint.received) == 2


def test_a_receiver_answering_500_is_retried_and_the_failure_is_listed(world: World) -> None:
    with receiver() as endpoint:
        endpoint.status = 500
        status, _ = world.call("PUT", "/webhook", {"url": endpoint.url})
        assert status == 200
        bounce()
        world.publish()
        world.deliver()
        assert len(endpoint.received) == len(world.driver.retry_delays) + 1 >= 2
        assert len({body["event_id"] for _, body in endpoint.received}) == 1  # the same event each time
        status, page = world.call("GET", "/webhook/deliveries")
        assert status == 200
        [failure] = page["items"]
        assert failure["event_id"] == endpoint.received[0][1]["event_id"]
        assert (failure["message_id"], failure["status"], failure["error_code"]) == (
            "inv-msg",
            "bounced",
            "500",
        )
        assert failure["attempts"] == len(world.driver.retry_delays)
        # Another tenant sees none of it.
        assert world.call("GET", "/webhook/deliveries", tenant="tenant-b") == (200, {"items": []})


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/x",
        "ftp://hooks.example.com/x",
        "https://localhost/x",
        "https://api.localhost/x",
        "https://printer.local/x",
        "https://127.0.0.1/x",
        "https://10.1.2.3/x",
        "https://192.168.0.10/x",
        "https://172.16.5.4/x",
        "https://169.254.169.254/latest/meta-data",
        "https://100.64.0.1/x",
        "https://0.0.0.0/x",
        "https://[::1]/x",
        "https://[fe80::1]/x",
        "https://[fd00::1]/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://[::ffff:169.254.169.254]/x",
        "https://[64:ff9b::a9fe:a9fe]/x",
        "https://user:pass@hooks.example.com/x",
        "https://hooks.example.com/x#frag",
        "https://metadata.internal/x",
        "https://rebind.example/x",  # resolves to a private address (below)
        "https://mixed.example/x",  # one public and one private address
        "https://nowhere.example/x",  # does not resolve
        "http://127.0.0.1/x",  # local mode allows only an explicit port
    ],
)
def test_ssrf_targets_are_refused_with_400(world: World, monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    answers = {"rebind.example": ["10.0.0.5"], "mixed.example": ["93.184.216.34", "192.168.1.1"]}
    monkeypatch.setattr("tracker.bootstrap.webhooks.resolve_host", lambda host, _port: answers.get(host, []))
    world.app = api_bootstrap.api_app()
    status, answer = world.call("PUT", "/webhook", {"url": url})
    assert status == 400, (url, answer)
    # Refused by the URL's shape (the model) or by its scheme, name or addresses (the SSRF check).
    assert answer["error"]["code"] in {"webhook_target_refused", "invalid_request"}, answer
    assert answer["error"]["field"] == "url"
    assert world.call("GET", "/webhook")[0] == 404


def test_a_public_https_target_is_accepted(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "tracker.bootstrap.webhooks.resolve_host",
        lambda _host, _port: ["93.184.216.34", "2606:2800:220:1::1"],
    )
    world.app = api_bootstrap.api_app()
    status, answer = world.call("PUT", "/webhook", {"url": "https://hooks.example.com/tracker"})
    assert status == 200, answer
    status, again = world.call(
        "PUT", "/webhook", {"url": "https://hooks.example.com/v2", "statuses": ["delivered"]}
    )
    assert (status, again["secret"]) == (200, None)  # an update keeps the secret
    status, rotated = world.call(
        "PUT", "/webhook", {"url": "https://hooks.example.com/v2", "rotate_secret": True}
    )
    assert rotated["secret"]
    assert rotated["secret"] != answer["secret"]
    assert world.call("DELETE", "/webhook")[0] == 200
    assert world.call("GET", "/webhook")[0] == 404
    assert world.call("DELETE", "/webhook")[0] == 404
