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

# A standard queue's message keeps its original enqueue time when SQS moves it to the DLQ, and
# expires by it: the DLQ keeps messages for the SQS maximum, the work queue for half of it, so a
# dead-lettered message has at least 7 days in the DLQ to be inspected and redriven (alarmed on at
# 3 days, infra/alarms.py). A message that expires in the work queue is deleted, not dead-lettered:
# a consumer outage alarms within minutes (age of the oldest message), long before 7 days.
QUEUE_RETENTION = Duration.days(7)
DLQ_RETENTION = Duration.days(14)


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
        retention_period=DLQ_RETENTION,
    )
    queue = sqs.Queue(
        scope,
        f"{name}Queue",
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        visibility_timeout=consumer.visibility_timeout,
        retention_period=QUEUE_RETENTION,
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
