"""The send path: send queue (+ DLQ) -> sender Lambda -> SES v2 SendEmail, one message per recipient."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra import table_access
from infra.functions import FunctionFactory, FunctionSpec, grant_table_access
from infra.queues import Consumer, consume, work_queue
from tracker import constants as c

SENDER_TIMEOUT = Duration.seconds(30)
SENDER_MEMORY_MB = 256  # I/O bound: one SendEmail call per recipient, little CPU
SENDER_BATCH_SIZE = 10
SENDER_BATCHING_WINDOW = Duration.seconds(1)
# SES accounts start with a sending rate of about 14 messages/s; two concurrent senders calling
# SendEmail one recipient after another stay near it, and throttled sends are retried via the
# partial-batch response instead of failing. Raise with the account's SES quota.
SENDER_MAX_CONCURRENCY = 2
SENDER_CONSUMER = Consumer(SENDER_TIMEOUT, SENDER_BATCH_SIZE, SENDER_BATCHING_WINDOW, SENDER_MAX_CONCURRENCY)


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
        untracked_configuration_set_arn: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)

        self.queue, self.dead_letter_queue = work_queue(self, "Send", SENDER_CONSUMER)

        self.function = factory.create(
            self,
            FunctionSpec(
                construct_id="SenderFunction",
                handler=c.SENDER_HANDLER,
                description="Sends one SES message per recipient from the send queue",
                memory_mb=SENDER_MEMORY_MB,
                timeout=SENDER_TIMEOUT,
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
        consume(self.function, self.queue, SENDER_CONSUMER)
