"""Shared wiring for the send-path tests (no tests here): moto's SQS, SES v2 and DynamoDB behind the
real API app, the real sender handler and the real ingest handler.

``SendWorld`` posts to the API, drains the send queue the way the SQS event source mapping would
(partial batch failures come back, everything else is deleted) and counts SES calls.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from botocore.exceptions import ClientError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from local.lambda_runtime import sqs_lambda_record_of
from tests import ses_builders as b
from tests.apigw import api_event
from tests.lambda_context import FakeLambdaContext
from tests.projection import project
from tracker import constants
from tracker.api import read_routes
from tracker.api.app import build_app
from tracker.bootstrap.api import build_send_dependencies, read_dependencies
from tracker.bootstrap.sender import build_sender
from tracker.dal import keys
from tracker.dal.models import MessageItem, RecipientItem
from tracker.dal.recipients import facts_from_item
from tracker.dal.suppressions import DynamoSuppressionStore
from tracker.domain.facts import RecipientFacts
from tracker.domain.status import Status
from tracker.domain.suppression import Address, Evidence, EvidenceKind
from tracker.handlers import ingest
from tracker.handlers import sender as sender_handler
from tracker.logic.exports import ExportService
from tracker.logic.sending import SenderPolicy
from tracker.logic.suppression import SuppressionService
from tracker.settings import SendSettings, Settings

REGION = "us-east-1"
SENDER = "billing@studio.example"
SECRET = b"send-tests-cursor-secret-0123456789"
UNSUBSCRIBE_KEY = b"send-tests-unsubscribe-key-0123456789"

# Fast backoff for tests: the policy is the production one but with tiny sleeps (sleep is a no-op).
FAST_POLICY = SenderPolicy(throttle_attempts=3, backoff_base_seconds=0.001, backoff_cap_seconds=0.002)


def throttling_error(message: str = "Maximum sending rate exceeded.") -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "TooManyRequestsException", "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": 429},
        },
        "SendEmail",
    )


def ses_error(code: str, message: str, status: int = 400) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "SendEmail",
    )


class SesSpy:
    """Wraps moto's SES v2 client: records every SendEmail call and can fail chosen addresses.

    ``failures[address]`` is a list of exceptions raised (in order) before calls go through.
    ``after_send`` runs after SES accepted a message (e.g. to simulate a crash right then).
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[dict[str, Any]] = []
        self.failures: dict[str, list[BaseException]] = {}
        self.after_send: Callable[[dict[str, Any], str], None] | None = None

    @staticmethod
    def address(call: dict[str, Any]) -> str:
        return str(call["Destination"]["ToAddresses"][0]).rsplit("<", 1)[-1].rstrip(">")

    def send_email(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        address = self.address(kwargs)
        pending = self.failures.get(address)
        if pending:
            raise pending.pop(0)
        response: dict[str, Any] = self._client.send_email(**kwargs)
        if self.after_send is not None:
            self.after_send(kwargs, response["MessageId"])
        return response

    def calls_to(self, address: str) -> int:
        return sum(1 for call in self.calls if self.address(call) == address)

    max_send_rate: float = 1000.0

    def get_account(self) -> dict[str, Any]:
        """moto has no SES v2 GetAccount: the sender's pacing reads the rate here."""
        return {"SendQuota": {"MaxSendRate": self.max_send_rate, "Max24HourSend": 50_000.0}}


def complain(address: str, *, tenant_id: str = "tenant-a", event_id: str | None = None) -> None:
    """The address complains (one complaint suppresses it for the tenant by default)."""
    evidence = Evidence(
        event_id or f"complaint-{address}", EvidenceKind.COMPLAINT, b.DEFAULT_SENT_AT, detail="abuse"
    )
    service = SuppressionService(DynamoSuppressionStore())
    assert service.record_evidence({Address(tenant_id, address): [evidence]}) == set()
    assert service.active_reasons(tenant_id, [address]), "suppressed"


def moto_sent_messages() -> list[Any]:
    """What moto's SES accepted (one entry per SendEmail that went through)."""
    return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


def sent_addresses() -> Counter[str]:
    return Counter(address for m in moto_sent_messages() for address in m.destinations.get("ToAddresses", []))


def recipients_body(n: int, *, start: int = 0, domain: str = "example.com") -> list[dict[str, str]]:
    return [
        {"customer_id": f"cust-{i}", "email": f"person{i}@{domain}", "name": f"Person {i}"}
        for i in range(start, start + n)
    ]


def email_body(n: int = 3, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "email",
        "subject": "Spring term timetable",
        "text": "Hello! The spring timetable is attached.",
        "html": "<p>Hello! The spring timetable is attached.</p>",
        "recipients": recipients_body(n),
    }
    body.update(overrides)
    return body


@dataclass
class SendWorld:
    app: APIGatewayRestResolver
    sqs: Any
    queue_url: str
    ses: SesSpy
    send: SendSettings
    config: Settings
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    policy: SenderPolicy = FAST_POLICY
    invocations: list[dict[str, Any]] = field(default_factory=list)
    unsubscribe_key: bytes = UNSUBSCRIBE_KEY  # signs the emails' unsubscribe links

    def request(
        self,
        method: str,
        url: str,
        *,
        body: Any = None,
        tenant_id: str | None = "tenant-a",
        headers: dict[str, str] | None = None,
        subject: str = "user-1",
    ) -> dict[str, Any]:
        from tests.apigw import claims_for

        event = api_event(
            method,
            url,
            tenant_id=tenant_id,
            body=body,
            headers=headers,
            claims=claims_for(tenant_id, subject) if tenant_id else None,
        )
        return self.app.resolve(event, FakeLambdaContext())

    def post(self, body: Any, *, key: str | None = None, tenant_id: str = "tenant-a") -> dict[str, Any]:
        headers = {"Idempotency-Key": key} if key else None
        return self.request("POST", "/messages", body=body, tenant_id=tenant_id, headers=headers)

    def sender(self) -> Any:
        return build_sender(
            self.ses,
            self.send,
            self.config,
            policy=self.policy,
            sleep=lambda _s: None,
            clock=self.clock,
            unsubscribe_key=lambda: self.unsubscribe_key,
        )

    def drain(self, max_rounds: int = 50) -> list[str]:
        """Deliver the queue's jobs to the sender until it is empty; returns the failed record ids
        of every invocation (SQS makes them visible again at once: visibility timeout 0)."""
        failed: list[str] = []
        sender = self.sender()
        for _ in range(max_rounds):
            round_failed = self.deliver_once(sender)
            if round_failed is None:
                return failed
            failed.extend(round_failed)
        raise AssertionError("the send queue did not drain")

    def deliver_once(self, sender: Any = None) -> list[str] | None:
        """One invocation with what the queue holds (None when it is empty); deletes the records
        that succeeded, like the event source mapping, and returns the failed ones."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            return None
        response = self.invoke(messages, sender)
        retry = [f["itemIdentifier"] for f in response["batchItemFailures"]]
        done = [m for m in messages if m["MessageId"] not in retry]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        return retry

    def invoke(self, messages: list[dict[str, Any]], sender: Any = None) -> dict[str, Any]:
        queue_arn = f"arn:aws:sqs:{REGION}:{DEFAULT_ACCOUNT_ID}:{constants.SEND_QUEUE_NAME}"
        event = {"Records": [sqs_lambda_record_of(m, queue_arn) for m in messages]}
        response: dict[str, Any] = sender_handler.process_batch(
            event, FakeLambdaContext(), sender or self.sender()
        )
        self.invocations.append(response)
        project()
        return response

    def queued_jobs(self) -> list[dict[str, Any]]:
        """Peek at the queued job bodies (and leave them queued)."""
        messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        return [json.loads(m["Body"]) for m in messages]

    def requeue(self, job: dict[str, Any]) -> None:
        """A duplicate delivery of a job (SQS is at-least-once)."""
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(job))


def export_service(sqs: Any) -> Callable[[], ExportService]:
    """The exports' collaborators on moto: their queue and bucket (docs/exports.md)."""
    from tracker.dal.exports import DynamoExportJobs, DynamoExportTargets, S3ExportObjects, SqsExportQueue

    queue_url = sqs.create_queue(QueueName=constants.EXPORT_QUEUE_NAME)["QueueUrl"]
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=constants.EXPORT_BUCKET_NAME)
    service = ExportService(
        DynamoExportJobs(),
        queue=SqsExportQueue(lambda: sqs, queue_url),
        targets=DynamoExportTargets(),
        objects=lambda: S3ExportObjects(s3, constants.EXPORT_BUCKET_NAME),
    )
    return lambda: service


def make_world(
    *,
    chunk_size: int = 10,
    clock: Callable[[], datetime] | None = None,
    read: read_routes.Dependencies | None = None,
    **send: Any,
) -> SendWorld:
    """Call inside moto (the ``table`` fixture): creates the queue and the SES identity. ``read``
    replaces the read routes' production collaborators (which need a cursor secret to page)."""
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = sqs.create_queue(QueueName=constants.SEND_QUEUE_NAME, Attributes={"VisibilityTimeout": "0"})[
        "QueueUrl"
    ]
    sesv2 = boto3.client("sesv2", region_name=REGION)
    sesv2.create_email_identity(EmailIdentity=SENDER)  # moto (like SES) refuses unverified senders
    config = Settings.from_env()
    settings = SendSettings(
        send_queue_url=queue_url,
        configuration_set=constants.CONFIGURATION_SET_NAME,
        sender_address=SENDER,
        chunk_size=chunk_size,
        **send,
    )
    deps = build_send_dependencies(
        config,
        settings,
        sqs_client=sqs,
        dynamodb_client=boto3.client("dynamodb", region_name=REGION),
        cursor_secret=lambda: SECRET,
        unsubscribe_key=lambda: UNSUBSCRIBE_KEY,
    )
    world = SendWorld(
        app=build_app(read or read_dependencies(), lambda: deps, exports=export_service(sqs)),
        sqs=sqs,
        queue_url=queue_url,
        ses=SesSpy(sesv2),
        send=settings,
        config=config,
    )
    if clock is not None:
        world.clock = clock
    return world


# --- reading state back ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredRecipient:
    """A recipient item with its decoded facts: the item's attributes, and the send outcome the
    facts hold."""

    item: RecipientItem
    facts: RecipientFacts

    def __getattr__(self, name: str) -> Any:
        return getattr(self.item, name)

    @property
    def send_outcome(self) -> Status:
        return self.facts.send_outcome

    @property
    def send_outcome_reason(self) -> str | None:
        return self.facts.send_outcome_reason


def recipients_of(tenant_id: str, message_id: str) -> list[StoredRecipient]:
    items = RecipientItem.query(
        keys.message_pk(tenant_id, message_id), RecipientItem.sk.startswith(keys.RECIPIENT_SK_PREFIX)
    )
    return [StoredRecipient(item, facts_from_item(item)) for item in items]


def messages_of(tenant_id: str) -> list[MessageItem]:
    """The tenant's listed messages (the list index holds their keys), newest first."""
    listed = [(item.pk, item.sk) for item in MessageItem.lists_index.query(keys.messages_pk(tenant_id))]
    found = {(item.pk, item.sk): item for item in MessageItem.batch_get(listed)}
    return [found[key] for key in listed if key in found]


def run_ingest(events: list[dict[str, Any]], receive_count: int = 1) -> list[str]:
    """The real ingest handler on SES events (each in its own SNS notification and SQS record)."""
    ingest.default_ingestor.cache_clear()
    records = [b.sqs_record(b.sns_body(event), receive_count=receive_count) for event in events]
    response = ingest.handler(b.sqs_event(records), FakeLambdaContext())
    project()
    return [f["itemIdentifier"] for f in response["batchItemFailures"]]
