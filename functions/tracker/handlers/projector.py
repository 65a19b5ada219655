"""DynamoDB Streams → Lambda entry point of the projector: Powertools stack, then one call into logic.

The event source mapping has a tumbling window so that each event names its stream shard
(``shardId``), which the exactly-once guard of the counts is kept per; the window's ``state`` is
not used (the response must carry one). A batch whose counts could not all be written answers with
the first record to restart from (Lambda's partial batch response for streams): records before it
are never delivered again, records after it are, and the guard skips those already counted.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from tracker import constants
from tracker.bootstrap import projector as bootstrap
from tracker.handlers import cold_start_done
from tracker.handlers.tracing import traced
from tracker.logic.projector import ProjectionReport, Projector
from tracker.settings import require_environment

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

require_environment("projector")

logger = Logger()
metrics = Metrics()

# The shard id Lambda gives a tumbling window's invocations; the same fallback for every record of
# an event without one (a test or tool calling the handler directly) keeps the guard correct.
UNNAMED_SHARD = "shard"


@lru_cache(maxsize=1)
def default_projector() -> Projector:
    return bootstrap.default_projector()


def process_batch(event: dict[str, Any], projector: Projector) -> dict[str, Any]:
    records = event.get("Records") or []
    shard = str(event.get("shardId") or UNNAMED_SHARD)
    report = projector.project_records(records, shard)
    publish_metrics(report)
    failures = [{"itemIdentifier": report.retry_from}] if report.retry_from is not None else []
    return {"batchItemFailures": failures, "state": {}}


def publish_metrics(report: ProjectionReport) -> None:
    for name, value in (
        (constants.METRIC_CHANGES_COUNTED, report.counted),
        (constants.METRIC_CHANGES_SKIPPED, report.skipped),
        (constants.METRIC_CHANGES_UNREADABLE, report.unreadable),
        (constants.METRIC_PROJECTION_RETRIES, int(report.retry_from is not None)),
        (constants.METRIC_SUPPRESSION_EVIDENCE, report.evidence),
    ):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    if report.unreadable or report.retry_from is not None:
        logger.warning(
            "recipient changes not projected",
            extra={"unreadable": report.unreadable, "retry_from": report.retry_from},
        )


@logger.inject_lambda_context
@metrics.log_metrics
@traced()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:  # noqa: ARG001
    return process_batch(event, default_projector())


# The cold start ends here (tracker.handlers): what it built lives as long as the process.
cold_start_done()
