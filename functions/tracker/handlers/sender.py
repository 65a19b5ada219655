"""SQS → Lambda entry point for send jobs: Powertools stack, then one call into logic per record.

Each record is one job (up to 100 recipients of one message; the stack's mapping hands one job per
invocation, infra/sending.py), its SES calls in parallel and paced to this sender's share of the
account's send rate (tracker.logic.sending). A record whose job is not finished
(SES throttling, not enough time left, another invocation on the same recipient) is reported in
the partial batch response, so SQS delivers it again later; recipients sent meanwhile are skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from tracker import constants
from tracker.bootstrap import sender as bootstrap
from tracker.dal.jobs import SendJobBody
from tracker.domain.errors import TransientStoreError
from tracker.handlers import cold_start_done
from tracker.handlers.support import partial_batch_response, sqs_records
from tracker.handlers.tracing import traced
from tracker.logic.sending import JobResult, Sender
from tracker.settings import require_environment

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.typing import LambdaContext

require_environment("sender")

logger = Logger()
metrics = Metrics()


@dataclass
class BatchSummary:
    results: list[JobResult] = field(default_factory=list)


@lru_cache(maxsize=1)
def default_sender() -> Sender:
    return bootstrap.default_sender()


def process_batch(
    event: dict[str, Any], context: LambdaContext | None, sender: Sender
) -> PartialItemFailureResponse:
    remaining: Callable[[], int] | None = (
        context.get_remaining_time_in_millis if context is not None else None
    )
    summary = BatchSummary()
    failed: list[str] = []

    def run_job(record: dict[str, Any]) -> bool:
        job = SendJobBody.from_json(record["body"]).to_job()  # malformed: retried, then the DLQ
        receive_count = int(record.get("attributes", {}).get("ApproximateReceiveCount") or "1")
        result = sender.process_job(job, receive_count=receive_count, remaining_ms=remaining)
        summary.results.append(result)
        if not result.done:
            # Expected under throttling or a concurrent copy of the job, but worth seeing: a job
            # that keeps coming back ends in the DLQ.
            logger.warning(
                "send job not finished; SQS delivers it again",
                extra={"message_id": record["messageId"], "reason": result.retry_reason},
            )
        return result.done

    # Records run one after another; a record whose job is not finished, or that fails in any
    # way, is reported in the partial batch response (SQS delivers it again, then the DLQ).
    for record in sqs_records(event):
        try:
            done = run_job(record)
        except TransientStoreError as error:
            logger.warning(
                "send job interrupted by the data store; SQS delivers it again",
                extra={"message_id": record["messageId"], "error": str(error)},
            )
            done = False
        except Exception:
            logger.exception(
                "send job failed; SQS delivers it again", extra={"message_id": record["messageId"]}
            )
            done = False
        if not done:
            failed.append(record["messageId"])
    response = partial_batch_response(failed)
    publish_metrics(summary)
    return response


def publish_metrics(summary: BatchSummary) -> None:
    results = summary.results
    metrics.add_metric(
        name=constants.METRIC_EMAILS_SENT, unit=MetricUnit.Count, value=sum(r.sent for r in results)
    )
    metrics.add_metric(
        name=constants.METRIC_SEND_FAILURES, unit=MetricUnit.Count, value=sum(r.failed for r in results)
    )
    metrics.add_metric(
        name=constants.METRIC_SENDS_DROPPED, unit=MetricUnit.Count, value=sum(r.dropped for r in results)
    )
    metrics.add_metric(
        name=constants.METRIC_SEND_THROTTLED, unit=MetricUnit.Count, value=sum(r.throttled for r in results)
    )
    metrics.add_metric(
        name=constants.METRIC_SEND_JOBS_RETRIED, unit=MetricUnit.Count, value=sum(not r.done for r in results)
    )


@logger.inject_lambda_context
@metrics.log_metrics
@traced()
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_batch(event, context, default_sender())


# The cold start ends here (tracker.handlers): what it built lives as long as the process.
cold_start_done()
