"""The projector: the table's stream (new and old images) -> projector Lambda -> message counts and
suppression evidence (tracker.logic.projector), with an encrypted queue for the batches it gave up.

How the event source mapping reads the stream, and why:

* From the oldest record (TRIM_HORIZON): a record written before the mapping existed, or while it
  was disabled, is still counted.
* A tumbling window (900 s, the maximum) only so that every invocation names its shard
  (``shardId``): the counts' exactly-once guard is a high-water mark per shard. The window's state
  is not used.
* Partial batch responses on, bisection off: the handler answers with the first record to restart
  from, and records before it are never delivered again; halving a batch would only re-deliver
  records the guard then skips.
* Only recipient items' changes (either image) reach the function: message, suppression,
  idempotency and quarantine writes are filtered out by Lambda, before an invocation is paid for.
* Bounded retries: a batch still failing after ``PROJECTOR_MAX_RECORD_AGE`` (or as many attempts)
  is given up so the shard moves on; the batch's shard and sequence numbers go to the on-failure
  queue (alarmed on, docs/operations.md) while its records are still in the stream.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import table_access
from infra.functions import FunctionFactory, FunctionSpec, grant_table_access
from infra.queues import DLQ_RETENTION
from tracker import constants as c

if TYPE_CHECKING:
    from infra.settings import ProjectorTuning

# One update per message per batch, plus one per bounced or complained address: a batch of 1,000
# records of a few messages takes well under a second; 60 s leaves room for many messages and
# DynamoDB's retries.
PROJECTOR_TIMEOUT = Duration.seconds(60)
PROJECTOR_MEMORY_MB = 512  # decodes a few attributes per record, no heavy CPU
# Larger batches fold more changes into each message update; a shard receives ~1,000 writes/s at
# most, so at full speed a batch fills in about the batching window. Counts lag the recipients by
# about that window plus one invocation. `-c projectorBatchSize=...`, `projectorBatchingWindowSeconds`.
PROJECTOR_BATCH_SIZE = 1000
PROJECTOR_BATCHING_WINDOW_SECONDS = 1
# One batch per shard at a time keeps each message's records in order (the guard needs only order
# per message, which Lambda keeps per partition key at any factor, so raising it is safe).
PROJECTOR_PARALLELIZATION_FACTOR = 1
TUMBLING_WINDOW = Duration.seconds(900)
# DynamoDB keeps stream records 24 hours: a batch given up after 6 hours leaves 18 for a replay.
PROJECTOR_MAX_RECORD_AGE = Duration.hours(6)
PROJECTOR_RETRY_ATTEMPTS = 1000

# The models' discriminator value of a recipient item (tracker.dal.models.RecipientItem); the filter
# is checked against the images the dal writes in tests/infra/test_projection.py.
RECIPIENT_ITEM_TYPE = "recipient"


def recipient_change_patterns() -> list[dict[str, Any]]:
    """Lambda event filter patterns (any one matches): a recipient item created or changed (its new
    image), or removed (only an old image)."""
    return [
        {"dynamodb": {image: {c.ITEM_TYPE_ATTRIBUTE: {"S": [RECIPIENT_ITEM_TYPE]}}}}
        for image in ("NewImage", "OldImage")
    ]


class Projection(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: FunctionFactory,
        table: dynamodb.ITableV2,
        tuning: ProjectorTuning,
    ) -> None:
        super().__init__(scope, construct_id)
        # What the on-failure destination receives is the batch's description (shard, first and
        # last sequence numbers), not the records: SSE-SQS, TLS only, kept for SQS's maximum.
        self.failure_queue = sqs.Queue(
            self,
            "FailedBatchesQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DLQ_RETENTION,
        )
        self.function = factory.create(
            self,
            FunctionSpec(
                construct_id="ProjectorFunction",
                handler=c.PROJECTOR_HANDLER,
                description="Projects recipient changes from the table's stream into message counts "
                "and suppression evidence",
                memory_mb=PROJECTOR_MEMORY_MB,
                timeout=PROJECTOR_TIMEOUT,
            ),
        )
        grant_table_access(self.function, table, table_access.PROJECTOR)
        # The mapping grants the stream reads (GetRecords, GetShardIterator, DescribeStream,
        # ListStreams) on this table's stream only, and SendMessage on the failure queue.
        self.function.add_event_source(
            event_sources.DynamoEventSource(
                table,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=tuning.batch_size,
                max_batching_window=Duration.seconds(tuning.batching_window_seconds),
                parallelization_factor=tuning.parallelization_factor,
                tumbling_window=TUMBLING_WINDOW,
                report_batch_item_failures=True,
                bisect_batch_on_error=False,
                retry_attempts=PROJECTOR_RETRY_ATTEMPTS,
                max_record_age=PROJECTOR_MAX_RECORD_AGE,
                on_failure=event_sources.SqsDlq(self.failure_queue),
                filters=[lambda_.FilterCriteria.filter(p) for p in recipient_change_patterns()],
            )
        )
