"""DynamoDB Streams -> Lambda entry point of the events function: every recipient status change
on the event bus (tracker.logic.publishing), at least once, each under its stable id.

Its own event source mapping on the table's stream, beside the projector's: a bus outage holds
back the events, never the counts. A batch with a change not put answers with that record (a
partial batch response): the stream delivers it and every later one again, and the ids make the
second put of a change a duplicate a consumer drops.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from tracker import constants
from tracker.bootstrap import events as bootstrap
from tracker.dal.status_events import status_change
from tracker.domain.errors import UnreadableChangeError
from tracker.handlers import cold_start_done
from tracker.handlers.tracing import traced
from tracker.logic.publishing import PendingChange, Publisher, PublishReport
from tracker.settings import Settings, require_environment

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

require_environment("events")

logger = Logger()
metrics = Metrics()


@lru_cache(maxsize=1)
def default_publisher() -> Publisher:
    return bootstrap.default_publisher()


def process_batch(event: dict[str, Any], publisher: Publisher) -> dict[str, Any]:
    rules = Settings.from_env().engagement_rules
    report = PublishReport()
    pending: list[PendingChange] = []
    for record in event.get("Records") or []:
        try:
            change = status_change(record, rules)
        except UnreadableChangeError as error:
            # The projector quarantines the same record; here it only counts.
            report.unreadable += 1
            logger.warning("unreadable recipient change", extra={"error": str(error)})
            continue
        if change is not None:
            pending.append(change)
    publisher.publish(pending, report)
    metrics.add_metric(name=constants.METRIC_EVENTS_PUBLISHED, unit=MetricUnit.Count, value=report.published)
    metrics.add_metric(
        name=constants.METRIC_EVENTS_PUT_FAILED, unit=MetricUnit.Count, value=report.put_failures
    )
    if report.retry_from is not None:
        logger.warning(
            "status events not put: the stream delivers them again", extra={"retry_from": report.retry_from}
        )
    failures = [{"itemIdentifier": report.retry_from}] if report.retry_from is not None else []
    return {"batchItemFailures": failures}


@logger.inject_lambda_context
@metrics.log_metrics
@traced()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:  # noqa: ARG001
    return process_batch(event, default_publisher())


# The cold start ends here (tracker.handlers): what it built lives as long as the process.
cold_start_done()
