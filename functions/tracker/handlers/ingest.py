"""SQS → Lambda entry point for SES events: Powertools stack, then one call into logic."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from tracker import constants
from tracker.bootstrap import ingest as bootstrap
from tracker.domain.events import EventKind
from tracker.handlers import cold_start_done
from tracker.handlers.support import partial_batch_response, sqs_records
from tracker.handlers.tracing import traced
from tracker.logic.ingest import BatchReport, IncomingRecord, Ingestor, Outcome
from tracker.settings import require_environment

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.typing import LambdaContext

require_environment("ingest")

logger = Logger()
metrics = Metrics()

_KIND_METRICS = {
    EventKind.BOUNCE: constants.METRIC_SES_BOUNCES,
    EventKind.COMPLAINT: constants.METRIC_SES_COMPLAINTS,
    EventKind.DELIVERY: constants.METRIC_SES_DELIVERIES,
}


@lru_cache(maxsize=1)
def default_ingestor() -> Ingestor:
    return bootstrap.default_ingestor()


def process_batch(
    event: dict[str, Any],
    context: LambdaContext | None,  # noqa: ARG001 - the same signature as the sender's
    ingestor: Ingestor,
) -> PartialItemFailureResponse:
    records = [
        IncomingRecord(
            record_id=raw["messageId"],
            body=raw["body"],
            receive_count=int(raw.get("attributes", {}).get("ApproximateReceiveCount", "1")),
        )
        for raw in event.get("Records", [])
    ]
    report = ingestor.apply_batch(records)
    publish_metrics(report)
    # The records to deliver again, in event order (publish_metrics logged why).
    return partial_batch_response(
        raw["messageId"]
        for raw in sqs_records(event)
        if report.outcomes.get(raw["messageId"]) == Outcome.RETRY
    )


def publish_metrics(report: BatchReport) -> None:
    metrics.add_metric(
        name=constants.METRIC_EVENTS_APPLIED, unit=MetricUnit.Count, value=report.applied_events
    )
    metrics.add_metric(
        name=constants.METRIC_DUPLICATE_EVENTS, unit=MetricUnit.Count, value=report.duplicate_events
    )
    metrics.add_metric(
        name=constants.METRIC_QUARANTINED_EVENTS, unit=MetricUnit.Count, value=report.quarantined_records
    )
    metrics.add_metric(
        name=constants.METRIC_RETRIED_EVENTS, unit=MetricUnit.Count, value=len(report.failed_record_ids)
    )
    for kind, name in _KIND_METRICS.items():
        if report.events_by_kind[kind]:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=report.events_by_kind[kind])
    if report.quarantined_records or report.failed_record_ids:
        logger.warning(
            "records not applied",
            extra={"quarantined": report.quarantined_records, "retry": report.retry_reasons},
        )


@logger.inject_lambda_context
@metrics.log_metrics
@traced()
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_batch(event, context, default_ingestor())


# The cold start ends here (tracker.handlers): what it built lives as long as the process.
cold_start_done()
