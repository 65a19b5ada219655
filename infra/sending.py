"""The send path: send queue (+ DLQ) -> sender Lambda -> SES v2 SendEmail, one message per recipient,
paced to the account's send rate (tracker.logic.pacing)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra import table_access
from infra.functions import FunctionFactory, FunctionSpec, grant_table_access
from infra.queues import Consumer, consume, work_queue
from tracker import constants as c

if TYPE_CHECKING:
    from infra.sender_tuning import SenderTuning

SENDER_TIMEOUT = Duration.seconds(30)
SENDER_MEMORY_MB = 256  # I/O bound: SES calls and DynamoDB writes in flight on a few threads, little CPU
# One job (up to 100 recipients) per invocation, invoked as soon as it is queued: a job's time is
# known from its size and the sender's share of the rate (infra/settings.py checks it fits), where
# ten jobs of a batch at a low rate would outlast the timeout and come back again and again.
SENDER_BATCH_SIZE = 1
# The senders' concurrency (the mapping's maximum: each sender paces to rate / concurrency, so
# together they stay within the account's rate), job size, calls in flight and rate cap are context
# values (infra/settings.py SenderTuning).


def sender_consumer(max_concurrency: int) -> Consumer:
    return Consumer(SENDER_TIMEOUT, SENDER_BATCH_SIZE, Duration.seconds(0), max_concurrency)


def ses_identity_arn(stack: Stack, identity: str) -> str:
    """ARN of an SES identity (a domain or an email address) in the stack's account and region."""
    return stack.format_arn(service="ses", resource="identity", resource_name=identity)


class Sending(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: FunctionFactory,
        table: dynamodb.ITableV2,
        sender_address: str,
        ses_identity: str,
        configuration_set_arn: str,
        tuning: SenderTuning,
        untracked_configuration_set_arn: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        consumer = sender_consumer(tuning.max_concurrency)

        self.queue, self.dead_letter_queue = work_queue(self, "Send", consumer)

        self.function = factory.create(
            self,
            FunctionSpec(
                construct_id="SenderFunction",
                handler=c.SENDER_HANDLER,
                description="Sends one SES message per recipient from the send queue, paced to the send rate",
                memory_mb=SENDER_MEMORY_MB,
                timeout=SENDER_TIMEOUT,
                environment=tuning.environment,
            ),
        )
        grant_table_access(self.function, table, table_access.SENDER)
        self.identity_arn = ses_identity_arn(stack, ses_identity)
        # SES authorizes SendEmail against the sending identity and the configuration set, so those
        # ARNs (the identity, the tracked and the untracked set) are the only resources; the From
        # address is pinned as well.
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                sid="SendAsTheConfiguredIdentityOnly",
                actions=["ses:SendEmail"],
                resources=[
                    self.identity_arn,
                    configuration_set_arn,
                    *([untracked_configuration_set_arn] if untracked_configuration_set_arn else []),
                ],
                conditions={"StringEquals": {"ses:FromAddress": sender_address}},
            )
        )
        # The sender paces itself to the account's maximum send rate (SendQuota.MaxSendRate), unless
        # sendRate caps it. GetAccount has no resource-level permissions: AWS requires Resource '*'.
        if tuning.send_rate is None:
            self.function.add_to_role_policy(
                iam.PolicyStatement(
                    sid="ReadTheAccountsSendRate", actions=["ses:GetAccount"], resources=["*"]
                )
            )
        consume(self.function, self.queue, consumer)
