"""The metrics the stack watches and its alarms, as data: each alarm is one `AlarmSpec` with its
threshold and its meaning. docs/operations.md has one runbook entry per alarm id (a test checks)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs

from infra.metrics import (
    FIVE_MINUTES,
    ONE_DAY,
    app_metric,
    oldest_message_age,
    projector_iterator_age,
    queue_depth,
    ses_metric,
    throttle_events,
)
from tracker import constants as c

# SES puts an account under review at a 5% bounce rate and 0.1% complaint rate (and may pause sending
# at 10% and 0.5%); alarm when the account reaches the review thresholds, well before a pause.
SES_BOUNCE_RATE_THRESHOLD = 0.05
SES_COMPLAINT_RATE_THRESHOLD = 0.001
# ... and again at the pause thresholds, where SES may stop all of the account's sending.
SES_BOUNCE_RATE_AT_RISK = 0.10
SES_COMPLAINT_RATE_AT_RISK = 0.005
# Normal latency from SES event to table is seconds; ten minutes of backlog means ingest is stuck
# (failing, throttled or out of concurrency).
OLDEST_EVENT_AGE_SECONDS = 600
# The sender works through a send at the SES quota (about 14 recipients/s for a new production
# account): an hour of backlog is a send of ~50,000 recipients, or a sender that stopped. 1,000 jobs
# of the default job size (c.DEFAULT_SEND_JOB_SIZE, 50) are the same hour at that rate.
OLDEST_SEND_JOB_AGE_SECONDS = 3600
SEND_QUEUE_DEPTH_JOBS = 1000
# A DLQ message must be redriven before it expires (infra/queues.py: DLQ retention 14 days, at least
# 7 of them in the DLQ): escalate after 3 days in the DLQ, with 4 or more days left.
DLQ_OLDEST_MESSAGE_AGE_SECONDS = 3 * 24 * 3600
# Apple's ranges are refreshed daily (infra/reference_data.py); a week without a successful refresh
# means the list the ingest path classifies with is a week behind Apple's.
APPLE_RANGES_MAX_AGE_DAYS = 7
# The projector reads a shard's records seconds after they are written; ten minutes behind means
# it fails or cannot keep up, and the message counts lag as much (stream records expire at 24 h,
# batches are given up at 6 h: infra/projection.py).
PROJECTOR_ITERATOR_AGE_MS = 10 * 60 * 1000
# Retried records (partial batch failures) are not Lambda errors. A transient one passes on the next
# delivery; retries in 3 consecutive 5-minute periods mean something keeps failing.
SUSTAINED_PERIODS = 3


@dataclass(frozen=True)
class AlarmSpec:
    alarm_id: str  # the construct id, and the runbook entry's title in docs/operations.md
    metric: cloudwatch.IMetric
    threshold: float
    description: str
    at_least: bool = False  # >= threshold (default: > threshold)
    periods: int = 1  # consecutive breaching periods
    below: bool = False  # < threshold (a metric that must keep coming: a success count)
    # Missing data breaches: for a metric whose absence is the problem (a job that stopped running).
    missing_breaches: bool = False


@dataclass(frozen=True)
class ObservedResources:
    table: dynamodb.TableV2
    events_queue: sqs.IQueue
    events_dlq: sqs.IQueue
    send_queue: sqs.IQueue
    send_dlq: sqs.IQueue
    ingest_function: lambda_.IFunction
    projector_function: lambda_.IFunction
    projector_failures: sqs.IQueue  # the projector's on-failure destination (batches given up)
    sender_function: lambda_.IFunction
    read_api_function: lambda_.IFunction
    send_api_function: lambda_.IFunction
    apple_ranges_function: lambda_.IFunction
    rest_api: apigw.RestApi
    # Events out (infra/events.py): the events function, its given-up batches, the webhook DLQ
    # and its consumer.
    events_function: lambda_.IFunction | None = None
    events_failures: sqs.IQueue | None = None
    webhook_dlq: sqs.IQueue | None = None
    webhook_failures_function: lambda_.IFunction | None = None
    # Exports (infra/exports.py): the worker, its queue and DLQ.
    exporter_function: lambda_.IFunction | None = None
    export_queue: sqs.IQueue | None = None
    export_dlq: sqs.IQueue | None = None

    @property
    def functions(self) -> tuple[tuple[str, lambda_.IFunction], ...]:
        return (
            ("Ingest", self.ingest_function),
            ("Projector", self.projector_function),
            ("Sender", self.sender_function),
            ("ReadApi", self.read_api_function),
            ("SendApi", self.send_api_function),
            *((("Exporter", self.exporter_function),) if self.exporter_function is not None else ()),
        )

    @property
    def dead_letter_queues(self) -> tuple[tuple[str, sqs.IQueue], ...]:
        exports = (("Export", self.export_dlq),) if self.export_dlq is not None else ()
        return (("Events", self.events_dlq), ("Send", self.send_dlq), *exports)


def alarm_specs(r: ObservedResources) -> list[AlarmSpec]:
    return [
        *_queue_alarms(r),
        *_function_alarms(r),
        *_table_alarms(r.table),
        *_apple_ranges_alarms(r),
        *_projector_alarms(r),
        *_events_alarms(r),
        *_export_alarms(r),
        AlarmSpec(
            "QuarantinedEvents",
            app_metric(c.METRIC_QUARANTINED_EVENTS),
            0,
            "Malformed or unknown SES events were quarantined; they are kept for inspection.",
        ),
        AlarmSpec(
            "IngestRetries",
            app_metric(c.METRIC_RETRIED_EVENTS),
            0,
            "SES events were retried by partial batch failure for 15 minutes: something keeps failing.",
            periods=SUSTAINED_PERIODS,
        ),
        AlarmSpec(
            "SendFailures",
            app_metric(c.METRIC_SEND_FAILURES),
            0,
            "Recipients were marked Failed: SES refused them, or their outcome is unknown.",
        ),
        AlarmSpec(
            "SendRetries",
            app_metric(c.METRIC_SEND_JOBS_RETRIED),
            0,
            "Send jobs were retried by partial batch failure for 15 minutes (SES throttling or errors).",
            periods=SUSTAINED_PERIODS,
        ),
        AlarmSpec(
            "SesBounceRate",
            ses_metric("Reputation.BounceRate"),
            SES_BOUNCE_RATE_THRESHOLD,
            "SES bounce rate reached 5% (SES review threshold; sending may be paused at 10%).",
            at_least=True,
        ),
        AlarmSpec(
            "SesComplaintRate",
            ses_metric("Reputation.ComplaintRate"),
            SES_COMPLAINT_RATE_THRESHOLD,
            "SES complaint rate reached 0.1% (SES review threshold; sending may be paused at 0.5%).",
            at_least=True,
        ),
        AlarmSpec(
            "SesBounceRateAtRisk",
            ses_metric("Reputation.BounceRate"),
            SES_BOUNCE_RATE_AT_RISK,
            "SES bounce rate reached 10%: SES may pause the account's sending.",
            at_least=True,
        ),
        AlarmSpec(
            "SesComplaintRateAtRisk",
            ses_metric("Reputation.ComplaintRate"),
            SES_COMPLAINT_RATE_AT_RISK,
            "SES complaint rate reached 0.5%: SES may pause the account's sending.",
            at_least=True,
        ),
        AlarmSpec(
            "Api5xx",
            r.rest_api.metric_server_error(period=FIVE_MINUTES, statistic="Sum"),
            0,
            "The API answered 5xx.",
        ),
    ]


def _queue_alarms(r: ObservedResources) -> list[AlarmSpec]:
    specs = [
        AlarmSpec(
            "OldestEventAge",
            oldest_message_age(r.events_queue),
            OLDEST_EVENT_AGE_SECONDS,
            "SES events wait more than 10 minutes in the queue: ingest is stuck or too slow.",
            periods=3,
        ),
        AlarmSpec(
            "OldestSendJobAge",
            oldest_message_age(r.send_queue),
            OLDEST_SEND_JOB_AGE_SECONDS,
            "A send job has waited more than an hour: the sender is stuck, or a send exceeds the SES quota.",
            periods=3,
        ),
        AlarmSpec(
            "SendQueueDepth",
            queue_depth(r.send_queue),
            SEND_QUEUE_DEPTH_JOBS,
            "More than 5,000 send jobs are queued: about an hour of sending at the default SES quota.",
            periods=3,
        ),
    ]
    for name, dlq in r.dead_letter_queues:
        what = {"Events": "SES events", "Send": "Send jobs", "Export": "Export jobs"}[name]
        specs.append(
            AlarmSpec(
                f"{name}DlqNotEmpty",
                queue_depth(dlq),
                0,
                f"{what} are in the dead-letter queue: inspect them and redrive after fixing the cause.",
            )
        )
        specs.append(
            AlarmSpec(
                f"{name}DlqOldestMessageAge",
                oldest_message_age(dlq),
                DLQ_OLDEST_MESSAGE_AGE_SECONDS,
                f"{what} have waited 3 days in the dead-letter queue: redrive them before they expire.",
            )
        )
    return specs


def _function_alarms(r: ObservedResources) -> list[AlarmSpec]:
    specs = [
        AlarmSpec(
            "IngestErrors",
            r.ingest_function.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
            0,
            "The ingest function failed whole invocations.",
        ),
        AlarmSpec(
            "SenderErrors",
            r.sender_function.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
            0,
            "The sender function failed whole invocations.",
        ),
    ]
    for name, function in r.functions:
        specs.append(
            AlarmSpec(
                f"{name}Throttles",
                function.metric_throttles(period=FIVE_MINUTES, statistic="Sum"),
                0,
                f"Lambda throttled the {name.lower()} function: the account's concurrency is exhausted.",
            )
        )
    return specs


def _projector_alarms(r: ObservedResources) -> list[AlarmSpec]:
    return [
        AlarmSpec(
            "ProjectorErrors",
            r.projector_function.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
            0,
            "The projector failed whole invocations: its shard's batch is retried and the counts lag.",
        ),
        AlarmSpec(
            "ProjectorIteratorAge",
            projector_iterator_age(r.projector_function),
            PROJECTOR_ITERATOR_AGE_MS,
            "The projector is more than 10 minutes behind the table's stream: message counts lag.",
            periods=3,
        ),
        AlarmSpec(
            "ProjectorFailedBatches",
            queue_depth(r.projector_failures),
            0,
            "The projector gave up stream batches: the counts of their messages miss those changes.",
        ),
        AlarmSpec(
            "UnreadableChanges",
            app_metric(c.METRIC_CHANGES_UNREADABLE),
            0,
            "Recipient changes on the stream could not be decoded; they were quarantined, not counted.",
        ),
    ]


def _table_alarms(table: dynamodb.TableV2) -> list[AlarmSpec]:
    targets: Sequence[tuple[str, str | None]] = [
        ("Table", None),
        *((f"Index{index.name.capitalize()}", index.name) for index in c.GLOBAL_INDEXES),
    ]
    return [
        AlarmSpec(
            f"{name}Throttles",
            throttle_events(table, index),
            0,
            f"DynamoDB throttled requests to the {'table' if index is None else f'index {index}'} "
            "(a hot partition, the on-demand maximum, or an account limit).",
        )
        for name, index in targets
    ]


def apple_ranges_failures(function: lambda_.IFunction) -> cloudwatch.MathExpression:
    """Failed refreshes in a day: those the handler reports, and invocations that failed outright
    (a timeout, a crash before it could report)."""
    return cloudwatch.MathExpression(
        expression="FILL(reported, 0) + FILL(crashed, 0)",
        using_metrics={
            "reported": app_metric(c.METRIC_APPLE_RANGES_REFRESH_FAILED, ONE_DAY),
            "crashed": function.metric_errors(period=ONE_DAY, statistic="Sum"),
        },
        label="failed refreshes",
        period=ONE_DAY,
    )


def _apple_ranges_alarms(r: ObservedResources) -> list[AlarmSpec]:
    return [
        AlarmSpec(
            "AppleRangesRefreshFailed",
            apple_ranges_failures(r.apple_ranges_function),
            0,
            "The daily refresh of Apple's address ranges failed; the ingest path keeps the list stored before.",
        ),
        AlarmSpec(
            "AppleRangesStale",
            app_metric(c.METRIC_APPLE_RANGES_REFRESHED, ONE_DAY),
            1,
            f"Apple's address ranges have not been refreshed for {APPLE_RANGES_MAX_AGE_DAYS} days (failures, "
            "or the refresh did not run).",
            below=True,
            periods=APPLE_RANGES_MAX_AGE_DAYS,
            missing_breaches=True,
        ),
    ]


# The webhook DLQ's consumer drains it within seconds: an hour-old message means it is failing.
WEBHOOK_DLQ_AGE_SECONDS = 3600


def _events_alarms(r: ObservedResources) -> list[AlarmSpec]:
    if r.events_function is None or r.events_failures is None:
        return []
    specs = [
        AlarmSpec(
            "EventPutFailures",
            app_metric(c.METRIC_EVENTS_PUT_FAILED),
            0,
            "PutEvents refused status events for 15 minutes: they are retried from the stream, and "
            "tenants' webhooks lag.",
            periods=SUSTAINED_PERIODS,
        ),
        AlarmSpec(
            "EventsErrors",
            r.events_function.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
            0,
            "The events function failed whole invocations: status events are delayed.",
        ),
        AlarmSpec(
            "EventsIteratorAge",
            projector_iterator_age(r.events_function),
            PROJECTOR_ITERATOR_AGE_MS,
            "The events function is more than 10 minutes behind the table's stream.",
            periods=3,
        ),
        AlarmSpec(
            "EventsFailedBatches",
            queue_depth(r.events_failures),
            0,
            "The events function gave up stream batches after 24 hours: their status events were "
            "never put (replay them from the table, docs/operations.md).",
        ),
        AlarmSpec(
            "WebhookDeliveryFailures",
            app_metric(c.METRIC_WEBHOOK_DELIVERY_FAILURES),
            0,
            "EventBridge gave up delivering events to a tenant's webhook (listed in its "
            "GET /webhook/deliveries).",
        ),
    ]
    if r.webhook_dlq is not None:
        specs.append(
            AlarmSpec(
                "WebhookDlqOldestMessage",
                oldest_message_age(r.webhook_dlq),
                WEBHOOK_DLQ_AGE_SECONDS,
                "The webhook DLQ is not drained: its consumer fails, and failures are not listed.",
            )
        )
    return specs


# An export of 100,000 recipients takes about a minute (infra/exports.py); one waiting 15 minutes
# means the worker is failing or stopped, and the person who asked for it is still waiting.
OLDEST_EXPORT_JOB_AGE_SECONDS = 15 * 60


def _export_alarms(r: ObservedResources) -> list[AlarmSpec]:
    if r.exporter_function is None or r.export_queue is None:
        return []
    return [
        AlarmSpec(
            "ExporterErrors",
            r.exporter_function.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
            0,
            "The exporter failed whole invocations: exports are retried, then dead-lettered.",
        ),
        AlarmSpec(
            "OldestExportJobAge",
            oldest_message_age(r.export_queue),
            OLDEST_EXPORT_JOB_AGE_SECONDS,
            "An export has waited 15 minutes in its queue: the exporter is stuck or failing.",
        ),
    ]
