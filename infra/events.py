"""Events out (docs/events.md): the event bus with its archive and schema, the events function on
its own event source mapping of the table's stream, and the tenants' webhooks' shared parts (the
role EventBridge invokes API destinations with, the webhook dead-letter queue and its consumer,
and the send function's permissions to manage each tenant's connection, API destination and rule).

Why a second consumer of the stream instead of a projection in the projector: a DynamoDB stream
takes two consumers per shard, and on its own mapping a bus outage holds back the events (retried
from the failed record) but never the counts; the projector's exactly-once guard and the events'
at-least-once-with-stable-ids need different retry policies anyway.

Per-tenant resources are made at run time by the webhook routes (tracker.dal.webhooks), named
``<prefix><hash of the tenant>``; the send function may touch only names with that prefix, and
EventBridge may put on the webhook DLQ only for rules with it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aws_cdk import Aws, Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_eventschemas as eventschemas
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import table_access
from infra.functions import FunctionFactory, FunctionSpec, grant_table_access
from infra.projection import recipient_change_patterns
from infra.queues import DLQ_RETENTION
from tracker import constants as c

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "docs" / "status-event.schema.json"
EVENTS_TIMEOUT = Duration.seconds(60)
EVENTS_MEMORY_MB = 512
EVENTS_BATCH_SIZE = 100  # ten PutEvents requests of ten
# Stream records live 24 hours: the mapping retries a failing record that long (the bus down),
# then gives the batch up to its failure queue (alarmed: docs/operations.md).
EVENTS_MAX_RECORD_AGE = Duration.hours(24)
EVENTS_RETRY_ATTEMPTS = 10000
ARCHIVE_RETENTION = Duration.days(90)
WEBHOOK_FAILURES_TIMEOUT = Duration.seconds(30)
# EventBridge's actions on a tenant's connection, API destination and rule (by name prefix).
CONNECTION_ACTIONS = (
    "events:CreateConnection",
    "events:UpdateConnection",
    "events:DescribeConnection",
    "events:DeleteConnection",
)
DESTINATION_ACTIONS = (
    "events:CreateApiDestination",
    "events:UpdateApiDestination",
    "events:DescribeApiDestination",
    "events:DeleteApiDestination",
)
RULE_ACTIONS = ("events:PutRule", "events:DeleteRule", "events:PutTargets", "events:RemoveTargets")
# A connection keeps its API key in a Secrets Manager secret EventBridge creates on the caller's
# behalf ("events!connection/<name>/..."): the caller needs these on it.
SECRET_ACTIONS = (
    "secretsmanager:CreateSecret",
    "secretsmanager:UpdateSecret",
    "secretsmanager:DescribeSecret",
    "secretsmanager:DeleteSecret",
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
)


def registry_schema() -> dict[str, Any]:
    """The event as EventBridge's schema registry takes it (JSON Schema draft 4, the envelope with
    the documented detail)."""
    detail = json.loads(SCHEMA_FILE.read_text())
    definitions = detail.pop("definitions", {})
    detail.pop("$schema", None)
    detail.pop("id", None)
    return {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "title": c.EVENT_DETAIL_TYPE,
        "type": "object",
        "required": ["detail-type", "source", "detail"],
        "definitions": definitions,
        "properties": {
            "detail-type": {"type": "string", "enum": [c.EVENT_DETAIL_TYPE]},
            "source": {"type": "string", "enum": [c.EVENT_SOURCE]},
            "detail": detail,
        },
    }


class EventsOut(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: FunctionFactory,
        table: dynamodb.ITableV2,
        bus_name: str,
        resource_prefix: str,
        registry_name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.resource_prefix = resource_prefix
        self.bus_name = bus_name
        self.bus = events.EventBus(self, "Bus", event_bus_name=bus_name)
        # Every status event kept 90 days: a tenant's missed events are replayed from here
        # (docs/operations.md, "Replaying events").
        self.archive = self.bus.archive(
            "Archive",
            description="Every recipient status event, for replays",
            event_pattern=events.EventPattern(source=[c.EVENT_SOURCE]),
            retention=ARCHIVE_RETENTION,
        )
        registry = eventschemas.CfnRegistry(
            self, "SchemaRegistry", registry_name=registry_name, description="Delivery tracker events"
        )
        schema = eventschemas.CfnSchema(
            self,
            "StatusChangedSchema",
            registry_name=registry_name,
            schema_name=f"{c.EVENT_SOURCE}@RecipientStatusChanged",
            type="JSONSchemaDraft4",
            content=json.dumps(registry_schema()),
            description="Recipient status changed (docs/events.md)",
        )
        schema.add_dependency(registry)  # the registry must exist first

        self.failure_queue = self._queue("FailedBatchesQueue")
        self.function = factory.create(
            self,
            FunctionSpec(
                construct_id="EventsFunction",
                handler=c.EVENTS_HANDLER,
                description="Puts every recipient status change from the table's stream on the event bus",
                memory_mb=EVENTS_MEMORY_MB,
                timeout=EVENTS_TIMEOUT,
                environment={c.ENV_EVENT_BUS_NAME: self.bus.event_bus_name},
            ),
        )
        self.bus.grant_put_events_to(self.function)
        self.function.add_event_source(
            event_sources.DynamoEventSource(
                table,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=EVENTS_BATCH_SIZE,
                max_batching_window=Duration.seconds(1),
                report_batch_item_failures=True,
                bisect_batch_on_error=False,
                retry_attempts=EVENTS_RETRY_ATTEMPTS,
                max_record_age=EVENTS_MAX_RECORD_AGE,
                on_failure=event_sources.SqsDlq(self.failure_queue),
                filters=[lambda_.FilterCriteria.filter(p) for p in recipient_change_patterns()],
            )
        )

        # The webhooks' shared parts.
        self.delivery_role = iam.Role(
            self,
            "WebhookDeliveryRole",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            description="EventBridge invokes the tenants' webhook API destinations with it",
        )
        self.delivery_role.add_to_policy(
            iam.PolicyStatement(
                actions=["events:InvokeApiDestination"], resources=[self._arn("api-destination", "*")]
            )
        )
        self.dead_letter_queue = self._queue("WebhookDeadLetterQueue")
        self.dead_letter_queue.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[self.dead_letter_queue.queue_arn],
                conditions={"ArnLike": {"aws:SourceArn": self._rule_arn()}},
            )
        )
        self.failures_function = factory.create(
            self,
            FunctionSpec(
                construct_id="WebhookFailuresFunction",
                handler=c.WEBHOOK_FAILURES_HANDLER,
                description="Records the webhook deliveries EventBridge gave up on (GET /webhook/deliveries)",
                memory_mb=256,
                timeout=WEBHOOK_FAILURES_TIMEOUT,
            ),
        )
        grant_table_access(self.failures_function, table, table_access.WEBHOOK_FAILURES)
        self.failures_function.add_event_source(
            event_sources.SqsEventSource(
                self.dead_letter_queue, batch_size=10, report_batch_item_failures=True, max_concurrency=2
            )
        )

    def _queue(self, construct_id: str) -> sqs.Queue:
        return sqs.Queue(
            self,
            construct_id,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DLQ_RETENTION,
            visibility_timeout=Duration.seconds(180),
        )

    # Resource ARNs with the prefix's wildcard, as CloudFormation gets them (``nag`` False) or as
    # cdk-nag names them in its IAM5 findings (infra/nag.py suppresses exactly these).
    def _arn(self, kind: str, suffix: str, *, nag: bool = False) -> str:
        return f"{self._account_arn('events', nag)}:{kind}/{self.resource_prefix}{suffix}"

    def _rule_arn(self, *, nag: bool = False) -> str:
        return f"{self._account_arn('events', nag)}:rule/{self.bus_name}/{self.resource_prefix}*"

    def _secrets_arn(self, *, nag: bool = False) -> str:
        return f"{self._account_arn('secretsmanager', nag)}:secret:events!connection/{self.resource_prefix}*"

    @staticmethod
    def _account_arn(service: str, nag: bool) -> str:
        if nag:
            return f"arn:<AWS::Partition>:{service}:<AWS::Region>:<AWS::AccountId>"
        return f"arn:{Aws.PARTITION}:{service}:{Aws.REGION}:{Aws.ACCOUNT_ID}"

    def admin_wildcards(self) -> list[str]:
        """The wildcard resources of the webhook routes' permissions, in cdk-nag's notation."""
        return [
            f"Resource::{arn}"
            for arn in (
                self._arn("connection", "*", nag=True),
                self._arn("api-destination", "*", nag=True),
                self._rule_arn(nag=True),
                self._secrets_arn(nag=True),
            )
        ]

    def delivery_wildcards(self) -> list[str]:
        return [f"Resource::{self._arn('api-destination', '*', nag=True)}"]

    def grant_webhook_admin(self, function: lambda_.Function) -> None:
        """The webhook routes' function: its environment, and least-privilege permissions on the
        per-tenant resources (by name prefix), the test event's put, and passing the delivery role."""
        for name, value in (
            (c.ENV_EVENT_BUS_NAME, self.bus.event_bus_name),
            (c.ENV_WEBHOOK_PREFIX, self.resource_prefix),
            (c.ENV_WEBHOOK_ROLE_ARN, self.delivery_role.role_arn),
            (c.ENV_WEBHOOK_DLQ_ARN, self.dead_letter_queue.queue_arn),
        ):
            function.add_environment(name, value)
        secrets = self._secrets_arn()
        for sid, actions, resources in (
            ("WebhookConnections", CONNECTION_ACTIONS, [self._arn("connection", "*")]),
            ("WebhookDestinations", DESTINATION_ACTIONS, [self._arn("api-destination", "*")]),
            ("WebhookRules", RULE_ACTIONS, [self._rule_arn()]),
            ("WebhookConnectionSecrets", SECRET_ACTIONS, [secrets]),
        ):
            function.add_to_role_policy(
                iam.PolicyStatement(sid=sid, actions=list(actions), resources=resources)
            )
        function.add_to_role_policy(
            iam.PolicyStatement(
                sid="WebhookDeliveryRole",
                actions=["iam:PassRole"],
                resources=[self.delivery_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "events.amazonaws.com"}},
            )
        )
        self.bus.grant_put_events_to(function)
