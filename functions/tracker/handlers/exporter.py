"""SQS → Lambda entry point of the export worker (docs/exports.md): one export per record, run
until it is done or the invocation's time is nearly up; then the rest is queued again (a new
message, so a long export never counts against the queue's receive limit). An error leaves the
record to SQS (retried, then the DLQ); on the last attempt the export is marked failed."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics

from tracker import constants
from tracker.bootstrap import exports as bootstrap
from tracker.dal.exports import export_of_body
from tracker.handlers import cold_start_done
from tracker.handlers.support import partial_batch_response, sqs_records
from tracker.handlers.tracing import traced
from tracker.settings import require_environment

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from tracker.logic.exports import ExportRunner, ExportService

require_environment("exporter")

logger = Logger()
metrics = Metrics()


@lru_cache(maxsize=1)
def default_runner() -> tuple[ExportRunner, ExportService]:
    return bootstrap.export_runner()


def process_batch(
    event: dict[str, Any], context: LambdaContext | None, runner: ExportRunner, service: ExportService
) -> PartialItemFailureResponse:
    def seconds_left() -> float:
        return context.get_remaining_time_in_millis() / 1000 if context is not None else 900.0

    failed: list[str] = []
    for record in sqs_records(event):
        tenant_id, export_id = export_of_body(record["body"])
        try:
            if not runner.run(tenant_id, export_id, seconds_left):
                service.requeue(tenant_id, export_id)
        except Exception as error:
            receives = int(record.get("attributes", {}).get("ApproximateReceiveCount") or "1")
            logger.exception("export failed", extra={"export_id": export_id, "receives": receives})
            if receives >= constants.MAX_RECEIVE_COUNT:
                runner.fail(tenant_id, export_id, f"{type(error).__name__}: {error}")
            else:
                failed.append(record["messageId"])
    return partial_batch_response(failed)


@logger.inject_lambda_context
@metrics.log_metrics
@traced()
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    runner, service = default_runner()
    return process_batch(event, context, runner, service)


cold_start_done()
