"""The queue settings the events and send paths share: an encrypted, TLS-only work queue with its
dead-letter queue, and a Lambda consuming it with partial-batch responses."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from tracker import constants as c

# The SQS maximum, for the work queues as for their DLQs: a message that expires is deleted, not
# dead-lettered, so a long outage of a consumer must not outlast it (the age-of-oldest-message
# alarms fire long before). Two weeks to inspect and redrive what failed.
RETENTION = Duration.days(14)


@dataclass(frozen=True)
class Consumer:
    """How a Lambda function reads a queue; the visibility timeout follows from it."""

    timeout: Duration
    batch_size: int
    batching_window: Duration
    max_concurrency: int

    @property
    def visibility_timeout(self) -> Duration:
        # AWS guidance for SQS event sources: >= 6 x the function timeout (+ the batching window), so
        # a message is not redelivered while a throttled or retried invocation still holds it.
        return Duration.seconds(6 * self.timeout.to_seconds() + self.batching_window.to_seconds())


def work_queue(scope: Construct, name: str, consumer: Consumer) -> tuple[sqs.Queue, sqs.Queue]:
    """``<name>Queue`` and ``<name>DeadLetterQueue``: SSE-SQS (no key policy for SNS to deliver, no
    KMS request per ReceiveMessage; still encrypted at rest), TLS enforced, and a message moved to
    the DLQ after ``MAX_RECEIVE_COUNT`` failed receives (the same count local mode redrives at)."""
    dead_letter_queue = sqs.Queue(
        scope,
        f"{name}DeadLetterQueue",
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=RETENTION,
    )
    queue = sqs.Queue(
        scope,
        f"{name}Queue",
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        visibility_timeout=consumer.visibility_timeout,
        retention_period=RETENTION,
        dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letter_queue, max_receive_count=c.MAX_RECEIVE_COUNT),
    )
    return queue, dead_letter_queue


def consume(function: lambda_.Function, queue: sqs.IQueue, consumer: Consumer) -> None:
    """``function`` on ``queue``; a failed record is retried alone (``reportBatchItemFailures``)."""
    function.add_event_source(
        event_sources.SqsEventSource(
            queue,
            batch_size=consumer.batch_size,
            max_batching_window=consumer.batching_window,
            report_batch_item_failures=True,
            max_concurrency=consumer.max_concurrency,
        )
    )
