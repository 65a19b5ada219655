"""SES events in: configuration set -> SNS topic -> SQS queue (+ DLQ) -> ingest Lambda -> table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra import table_access
from infra.functions import FunctionFactory, FunctionSpec, grant_table_access
from infra.queues import Consumer, consume, work_queue
from tracker import constants as c

if TYPE_CHECKING:
    from infra.settings import IngestTuning

# Every SES event type; the core turns each into facts (SUBSCRIPTION is kept in the event log).
ALL_SES_EVENTS = [
    ses.EmailSendingEvent.SEND,
    ses.EmailSendingEvent.REJECT,
    ses.EmailSendingEvent.BOUNCE,
    ses.EmailSendingEvent.COMPLAINT,
    ses.EmailSendingEvent.DELIVERY,
    ses.EmailSendingEvent.DELIVERY_DELAY,
    ses.EmailSendingEvent.RENDERING_FAILURE,
    ses.EmailSendingEvent.OPEN,
    ses.EmailSendingEvent.CLICK,
    ses.EmailSendingEvent.SUBSCRIPTION,
]

# The untracked kinds' set: everything but OPEN and CLICK, so SES adds no open pixel and rewrites
# no link in what is sent with it (tracker.domain.tracking).
UNTRACKED_SES_EVENTS = [
    event
    for event in ALL_SES_EVENTS
    if event not in (ses.EmailSendingEvent.OPEN, ses.EmailSendingEvent.CLICK)
]

INGEST_TIMEOUT = Duration.seconds(30)
# The function's memory and the queue's maximum concurrency: c.INGEST_MEMORY_MB and
# c.INGEST_MAX_CONCURRENCY (defined with the bench's reasoning in tracker/constants.py, where the bench
# reads them too); `-c ingestMemoryMb=...` and `-c ingestMaxConcurrency=...` override them.
# 100 events per invocation: one SQS batch per 100 SES events lets the core merge counter updates per
# message within the batch (fewer DynamoDB writes, no hot counter item) and divides the per-invocation
# overhead by 100.
INGEST_BATCH_SIZE = 100
# Lambda waits up to 5 s to fill a batch. SES events come in bursts after a send, so batches fill in
# well under that under load; when traffic is light a status appears at most ~5 s late, which the
# dashboard (a human reloading a page) does not notice. Longer windows buy little and delay everything.
INGEST_BATCHING_WINDOW = Duration.seconds(5)


def ingest_consumer(max_concurrency: int) -> Consumer:
    return Consumer(INGEST_TIMEOUT, INGEST_BATCH_SIZE, INGEST_BATCHING_WINDOW, max_concurrency)


class Ingestion(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: FunctionFactory,
        table: dynamodb.ITableV2,
        configuration_set_name: str,
        tuning: IngestTuning,
        untracked_configuration_set_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)

        # SES publishes to the topic, so the topic needs a customer managed key SES may use: the AWS
        # managed alias/aws/sns key cannot be shared with a service principal.
        self.topic_key = kms.Key(
            self,
            "EventsTopicKey",
            description="Encrypts the SES events topic",
            enable_key_rotation=True,
            # Only in-flight SNS messages depend on it (the queues use SSE-SQS), so it goes with
            # the stack, after KMS's waiting period.
            removal_policy=RemovalPolicy.DESTROY,
            pending_window=Duration.days(7),
        )
        self.topic = sns.Topic(
            self,
            "EventsTopic",
            display_name="SES sending events",
            master_key=self.topic_key,
            enforce_ssl=True,
        )
        self.configuration_set = ses.ConfigurationSet(
            self,
            "ConfigurationSet",
            # A fixed name (prefixed by the stage): the sender passes it on every SendEmail and
            # operators type it in the SES console; the topic policy's aws:SourceArn is built from it.
            configuration_set_name=configuration_set_name,
            reputation_metrics=True,
        )
        self.configuration_set_arn = stack.format_arn(
            service="ses", resource="configuration-set", resource_name=configuration_set_name
        )
        # The event destination also adds the topic policy statement allowing ses.amazonaws.com to
        # publish only with aws:SourceAccount = this account and aws:SourceArn = this configuration set.
        self.configuration_set.add_event_destination(
            "ToEventsTopic",
            destination=ses.EventDestination.sns_topic(self.topic),
            events=ALL_SES_EVENTS,
        )
        # The second set, for the kinds sent untracked: the same destination without OPEN and CLICK.
        untracked_name = untracked_configuration_set_name or f"{configuration_set_name}-untracked"
        self.untracked_configuration_set = ses.ConfigurationSet(
            self,
            "UntrackedConfigurationSet",
            configuration_set_name=untracked_name,
            reputation_metrics=True,
        )
        self.untracked_configuration_set_arn = stack.format_arn(
            service="ses", resource="configuration-set", resource_name=untracked_name
        )
        self.untracked_configuration_set.add_event_destination(
            "ToEventsTopic",
            destination=ses.EventDestination.sns_topic(self.topic),
            events=UNTRACKED_SES_EVENTS,
        )
        # SES must encrypt what it publishes. The key is dedicated to this topic, and the topic policy
        # above is what limits publishing to our configuration set; the key, too, serves SES only on
        # behalf of this account (confused-deputy protection).
        self.topic_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowSesToPublishToTheEncryptedTopic",
                principals=[iam.ServicePrincipal("ses.amazonaws.com")],
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )

        consumer = ingest_consumer(tuning.max_concurrency)
        self.queue, self.dead_letter_queue = work_queue(self, "Events", consumer)
        # Raw delivery off: the handler gets the SNS envelope (MessageId, Timestamp) around the SES
        # event JSON. Messages SNS cannot deliver land in the same DLQ (one alarm covers both).
        self.topic.add_subscription(
            subscriptions.SqsSubscription(
                self.queue, raw_message_delivery=False, dead_letter_queue=self.dead_letter_queue
            )
        )

        self.function = factory.create(
            self,
            FunctionSpec(
                construct_id="IngestFunction",
                handler=c.INGEST_HANDLER,
                description="Applies SES events from the events queue to the recipient items",
                memory_mb=tuning.memory_mb,
                timeout=INGEST_TIMEOUT,
                reserved_concurrency=tuning.reserved_concurrency,
            ),
        )
        grant_table_access(self.function, table, table_access.INGEST)
        consume(self.function, self.queue, consumer)
