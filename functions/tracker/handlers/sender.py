"""SQS → Lambda entry point for send jobs: Powertools stack, then one call into logic per record.

Each record is one job (a few recipients of one message). A record whose job is not finished
(SES throttling, not enough time left, another invocation on the same recipient) is reported in
the partial batch response, so SQS delivers it again later; recipients sent meanwhile are skipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from botocore.config import Config

from tracker import constants
from tracker.dal.ingest_store import DynamoIngestStore
from tracker.dal.models import bind_table
from tracker.dal.outbound import SesMailer
from tracker.dal.sending import DynamoSendStore
from tracker.dal.suppressions import DynamoSuppressionStore
from tracker.domain.errors import TransientStoreError
from tracker.handlers.support import TRACED_MODULES, partial_batch_response, sqs_records
from tracker.logic.ingest import MessageKey
from tracker.logic.sending import JobResult, Sender, SenderPolicy
from tracker.logic.suppression import SuppressionRules, SuppressionService
from tracker.models.jobs import SendJobBody
from tracker.settings import SendSettings, Settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_sesv2.client import SESV2Client

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()

# No automatic retries of SendEmail: it has no idempotency token, so a retry after a lost answer
# could send a second copy. The sender retries throttling itself, with backoff, and only errors
# where SES certainly did not accept the message.
SES_CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=3, read_timeout=8
)


@dataclass
class BatchSummary:
    results: list[JobResult] = field(default_factory=list)
    messages: set[MessageKey] = field(default_factory=set)


def build_sender(
    ses_client: SESV2Client | Any,
    send: SendSettings,
    config: Settings,
    policy: SenderPolicy | None = None,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Sender:
    """A Sender on the given SES client (the models must already be bound to the table)."""
    store = DynamoSendStore(DynamoIngestStore(config.event_log_retention))
    mailer = SesMailer(ses_client, send.sender_address, send.configuration_set)
    suppressions = SuppressionService(
        DynamoSuppressionStore(config.event_log_retention), SuppressionRules.from_settings(send)
    )
    return Sender(store, mailer, suppressions, policy, clock=clock, sleep=sleep or time.sleep)


@lru_cache(maxsize=1)
def default_sender() -> Sender:
    config = Settings.from_env()
    bind_table(config.table_name, config.region, config.dynamodb_endpoint)
    ses = boto3.client("sesv2", region_name=config.region, config=SES_CLIENT_CONFIG)
    return build_sender(ses, SendSettings.from_env(), config)


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
        summary.messages.add(MessageKey(job.tenant_id, job.message_id))
        receive_count = int(record.get("attributes", {}).get("ApproximateReceiveCount") or "1")
        result = sender.process_job(job, receive_count=receive_count, remaining_ms=remaining, fold=False)
        summary.results.append(result)
        if not result.done:
            logger.debug(
                "job not finished", extra={"message_id": record["messageId"], "reason": result.retry_reason}
            )
        return result.done

    try:
        # Records run one after another; a record whose job is not finished, or that fails in any
        # way, is reported in the partial batch response (SQS delivers it again, then the DLQ).
        for record in sqs_records(event):
            try:
                done = run_job(record)
            except Exception as exc:
                logger.debug("job failed", extra={"message_id": record["messageId"], "error": repr(exc)})
                done = False
            if not done:
                failed.append(record["messageId"])
        response = partial_batch_response(failed)
    finally:
        # One fold per message per batch. Should it fail, the deltas stay pending (readers of the
        # message count them) and the next fold of the message (ingest or sender) takes them.
        try:
            sender.fold(summary.messages)
        except TransientStoreError:
            logger.warning("count fold failed; deltas stay pending", exc_info=True)
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
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_batch(event, context, default_sender())
