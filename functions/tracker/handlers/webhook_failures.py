"""SQS (the webhook dead-letter queue) -> Lambda entry point: each event EventBridge gave up
delivering to a tenant's webhook becomes a delivery failure the tenant lists with
GET /webhook/deliveries (kept 30 days)."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from tracker import constants
from tracker.bootstrap import webhooks as bootstrap
from tracker.dal.webhooks import failure_of
from tracker.domain.errors import TransientStoreError
from tracker.handlers import cold_start_done
from tracker.handlers.tracing import traced
from tracker.logic.webhooks import WebhookService
from tracker.settings import require_environment

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

require_environment("webhook_failures")

logger = Logger()
metrics = Metrics()


@lru_cache(maxsize=1)
def default_service() -> WebhookService:
    return bootstrap.default_failure_recorder()


def process_batch(event: dict[str, Any], service: WebhookService) -> dict[str, Any]:
    records = event.get("Records") or []
    failures = []
    for record in records:
        failure = failure_of(record)
        if failure is None:
            logger.warning("not a webhook delivery failure", extra={"message_id": record.get("messageId")})
            continue
        failures.append(failure)
    try:
        service.record_failures(failures)
    except TransientStoreError:
        logger.warning("delivery failures not recorded: the queue delivers them again")
        return {"batchItemFailures": [{"itemIdentifier": r.get("messageId")} for r in records]}
    metrics.add_metric(
        name=constants.METRIC_WEBHOOK_DELIVERY_FAILURES, unit=MetricUnit.Count, value=len(failures)
    )
    return {"batchItemFailures": []}


@logger.inject_lambda_context
@metrics.log_metrics
@traced()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:  # noqa: ARG001
    return process_batch(event, default_service())


# The cold start ends here (tracker.handlers): what it built lives as long as the process.
cold_start_done()
