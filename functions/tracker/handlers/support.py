"""What the handlers share: the SQS partial batch response (tracing: tracker.handlers.tracing).

It keeps cold starts short without changing what the handlers do:

* **Partial batch response.** Powertools' batch utility (``process_partial_response``) imports every
  event source data class (DynamoDB streams, Kinesis, Kafka, CodePipeline, ...) to wrap each record.
  The handlers already know which records to report, so they build the documented response
  (``{"batchItemFailures": [{"itemIdentifier": <messageId>}, ...]}``) themselves, with the same
  rules: records in event order, an empty list when all succeeded, and the same error for an event
  without records.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse


def sqs_records(event: Mapping[str, Any]) -> Sequence[dict[str, Any]]:
    """The event's SQS records; an event without any is refused as Powertools' batch utility does."""
    records = event.get("Records", [])
    if not records or not isinstance(records, list):
        from aws_lambda_powertools.utilities.batch.exceptions import UnexpectedBatchTypeError

        raise UnexpectedBatchTypeError(
            "Unexpected batch event type. Possible values are: SQS, KinesisDataStreams, DynamoDBStreams, Kafka",
        )
    return records


def partial_batch_response(failed_message_ids: Iterable[str]) -> PartialItemFailureResponse:
    """Lambda's partial batch response for SQS: the records to deliver again (the rest are deleted)."""
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed_message_ids]}
