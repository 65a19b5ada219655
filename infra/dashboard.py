"""The one CloudWatch dashboard: alarm states, queues, functions, the table, SES and our own counts.
Every metric the functions publish is charted (a test checks)."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from infra.alarms import (
    SES_BOUNCE_RATE_AT_RISK,
    SES_BOUNCE_RATE_THRESHOLD,
    SES_COMPLAINT_RATE_AT_RISK,
    SES_COMPLAINT_RATE_THRESHOLD,
    ObservedResources,
)
from infra.metrics import (
    FIVE_MINUTES,
    ONE_DAY,
    ONE_MINUTE,
    app_metric,
    oldest_message_age,
    projector_iterator_age,
    queue_depth,
    ses_metric,
    table_metric,
    throttle_events,
)
from infra.settings import TableThroughput
from tracker import constants as c

WIDTH = 8  # three widgets per row


def build_dashboard(
    scope: Construct,
    *,
    name: str,
    resources: ObservedResources,
    alarms: Sequence[cloudwatch.IAlarm],
    throughput: TableThroughput,
) -> cloudwatch.Dashboard:
    r = resources
    dashboard = cloudwatch.Dashboard(
        scope, "Dashboard", dashboard_name=name, default_interval=Duration.hours(6)
    )
    dashboard.add_widgets(
        cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(alarms), width=24, height=5)
    )
    dashboard.add_widgets(
        _graph(
            "Events queue",
            [
                r.events_queue.metric_number_of_messages_received(period=ONE_MINUTE),
                queue_depth(r.events_queue),
            ],
            right=[oldest_message_age(r.events_queue)],
        ),
        _graph(
            "Send queue (jobs of up to 10 recipients)",
            [
                r.send_queue.metric_number_of_messages_received(period=ONE_MINUTE),
                r.send_queue.metric_number_of_messages_deleted(period=ONE_MINUTE),
                queue_depth(r.send_queue),
            ],
            right=[oldest_message_age(r.send_queue)],
        ),
        _graph(
            "Dead-letter queues",
            [queue_depth(dlq) for _, dlq in r.dead_letter_queues],
            right=[oldest_message_age(dlq) for _, dlq in r.dead_letter_queues],
        ),
    )
    dashboard.add_widgets(
        *(
            _graph(
                f"{name} function",
                [
                    fn.metric_invocations(period=FIVE_MINUTES),
                    fn.metric_errors(period=FIVE_MINUTES),
                    fn.metric_throttles(period=FIVE_MINUTES),
                ],
                right=[fn.metric_duration(period=FIVE_MINUTES, statistic="p99")],
            )
            for name, fn in r.functions
        )
    )
    if r.export_queue is not None:
        dashboard.add_widgets(
            _graph(
                "Export queue",
                [
                    r.export_queue.metric_number_of_messages_received(period=ONE_MINUTE),
                    queue_depth(r.export_queue),
                ],
                right=[oldest_message_age(r.export_queue)],
            )
        )
    dashboard.add_widgets(*_table_widgets(r, throughput))
    dashboard.add_widgets(*_projector_widgets(r))
    if (events := _events_widgets(r)) is not None:
        dashboard.add_widgets(*events)
    dashboard.add_widgets(
        _counts_widget(
            "Ingest outcomes",
            [c.METRIC_EVENTS_APPLIED, c.METRIC_DUPLICATE_EVENTS, c.METRIC_RETRIED_EVENTS],
            right=[c.METRIC_QUARANTINED_EVENTS],
        ),
        _counts_widget(
            "SES outcomes", [c.METRIC_SES_DELIVERIES, c.METRIC_SES_BOUNCES, c.METRIC_SES_COMPLAINTS]
        ),
        cloudwatch.GraphWidget(
            title="SES reputation (account)",
            left=[ses_metric("Reputation.BounceRate"), ses_metric("Reputation.ComplaintRate")],
            left_annotations=[
                cloudwatch.HorizontalAnnotation(value=SES_BOUNCE_RATE_THRESHOLD, label="bounce review"),
                cloudwatch.HorizontalAnnotation(value=SES_COMPLAINT_RATE_THRESHOLD, label="complaint review"),
                cloudwatch.HorizontalAnnotation(value=SES_BOUNCE_RATE_AT_RISK, label="bounce pause"),
                cloudwatch.HorizontalAnnotation(value=SES_COMPLAINT_RATE_AT_RISK, label="complaint pause"),
            ],
            width=WIDTH,
        ),
    )
    dashboard.add_widgets(_tenant_health_widget())
    dashboard.add_widgets(
        _counts_widget(
            "Send outcomes",
            [c.METRIC_EMAILS_SENT, c.METRIC_SEND_FAILURES, c.METRIC_SENDS_DROPPED],
            right=[c.METRIC_SEND_THROTTLED, c.METRIC_SEND_JOBS_RETRIED],
        ),
        _graph(
            "API",
            [
                r.rest_api.metric_count(period=FIVE_MINUTES),
                r.rest_api.metric_client_error(period=FIVE_MINUTES),
                r.rest_api.metric_server_error(period=FIVE_MINUTES),
            ],
            right=[r.rest_api.metric_latency(period=FIVE_MINUTES, statistic="p99")],
        ),
        _apple_ranges_widget(r),
    )
    return dashboard


def _apple_ranges_widget(r: ObservedResources) -> cloudwatch.GraphWidget:
    """The daily refresh of Apple's ranges (successes, reported failures, crashed invocations: what
    its two alarms watch) over two weeks whatever the dashboard's range, and the stored prefixes."""
    return cloudwatch.GraphWidget(
        title="Apple ranges refresh (daily)",
        left=[
            app_metric(c.METRIC_APPLE_RANGES_REFRESHED, ONE_DAY),
            app_metric(c.METRIC_APPLE_RANGES_REFRESH_FAILED, ONE_DAY),
            r.apple_ranges_function.metric_errors(period=ONE_DAY, statistic="Sum"),
        ],
        right=[app_metric(c.METRIC_APPLE_RANGES_PREFIXES, ONE_DAY, statistic="Maximum")],
        start="-P14D",
        width=WIDTH,
    )


def _tenant_health_widget() -> cloudwatch.IWidget:
    """Each tenant whose health was computed as not ok (GET /stats/health; 1 warning, 2 at risk):
    one line per tenant, found by a search over the metric's tenant dimension."""
    query = (
        f'{{{c.METRICS_NAMESPACE},{c.TENANT_METRIC_DIMENSION}}} MetricName="{c.METRIC_TENANT_DELIVERABILITY}"'
    )
    search = f"SEARCH('{query}', 'Maximum', 3600)"
    return cloudwatch.GraphWidget(
        title="Tenants past SES's thresholds (1 warning, 2 at risk)",
        left=[cloudwatch.MathExpression(expression=search, label="", period=Duration.hours(1))],
        width=WIDTH,
    )


def _projector_widgets(r: ObservedResources) -> list[cloudwatch.IWidget]:
    """The projector: what it counted, skipped (nothing to count, or a replay) and retried, how far
    behind the stream it is, and the batches it gave up."""
    return [
        _counts_widget(
            "Projector outcomes",
            [c.METRIC_CHANGES_COUNTED, c.METRIC_CHANGES_SKIPPED, c.METRIC_SUPPRESSION_EVIDENCE],
            right=[c.METRIC_PROJECTION_RETRIES, c.METRIC_CHANGES_UNREADABLE],
        ),
        _graph(
            "Projector lag (iterator age, ms)",
            [projector_iterator_age(r.projector_function)],
            right=[queue_depth(r.projector_failures)],
        ),
    ]


def _events_widgets(r: ObservedResources) -> list[cloudwatch.IWidget] | None:
    """Events out: status events put and refused, webhook deliveries given up, the events
    function's lag and errors, the batches it gave up and the webhook DLQ's oldest message."""
    if r.events_function is None or r.events_failures is None:
        return None
    health: list[cloudwatch.IMetric] = [r.events_function.metric_errors(period=FIVE_MINUTES, statistic="Sum")]
    if r.webhook_dlq is not None:
        health.append(oldest_message_age(r.webhook_dlq))
    return [
        _counts_widget(
            "Status events",
            [c.METRIC_EVENTS_PUBLISHED],
            right=[c.METRIC_EVENTS_PUT_FAILED, c.METRIC_WEBHOOK_DELIVERY_FAILURES],
        ),
        _graph(
            "Events lag (iterator age, ms)",
            [projector_iterator_age(r.events_function)],
            right=[queue_depth(r.events_failures)],
        ),
        _graph("Events errors, webhook DLQ age (s)", health[:1], right=health[1:]),
    ]


def _table_widgets(r: ObservedResources, throughput: TableThroughput) -> list[cloudwatch.IWidget]:
    """Throttling by table and index and by cause, and the table's consumption against its warm
    throughput and on-demand maximum (per second: the per-minute sum / 60)."""
    indexes = [index.name for index in c.GLOBAL_INDEXES]
    per_second = {
        "writes": ("ConsumedWriteCapacityUnits", throughput.warm_write_units, throughput.max_write_units),
        "reads": ("ConsumedReadCapacityUnits", throughput.warm_read_units, throughput.max_read_units),
    }
    consumption = [
        cloudwatch.MathExpression(
            expression=f"{kind} / 60",
            using_metrics={kind: table_metric(r.table, metric, period=ONE_MINUTE)},
            label=f"table {kind} (units/s)",
            period=ONE_MINUTE,
        )
        for kind, (metric, _, _) in per_second.items()
    ]
    annotations = [
        cloudwatch.HorizontalAnnotation(value=value, label=f"{label} {kind}")
        for kind, (_, warm, maximum) in per_second.items()
        for label, value in (("warm", warm), ("max", maximum))
    ]
    return [
        _graph(
            "Table throttling (table and indexes)",
            [throttle_events(r.table), *(throttle_events(r.table, index) for index in indexes)],
        ),
        _graph(
            "Table throttling by cause",
            [
                table_metric(r.table, f"{op}{cause}ThrottleEvents")
                for cause in ("KeyRangeThroughput", "MaxOnDemandThroughput", "AccountLimit")
                for op in ("Write", "Read")
            ],
        ),
        cloudwatch.GraphWidget(
            title="Table consumption vs warm throughput and maximum",
            left=consumption,
            left_annotations=annotations,
            width=WIDTH,
        ),
    ]


def _graph(
    title: str, left: Sequence[cloudwatch.IMetric], right: Sequence[cloudwatch.IMetric] = ()
) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(title=title, left=list(left), right=list(right), width=WIDTH)


def _counts_widget(title: str, left: Sequence[str], right: Sequence[str] = ()) -> cloudwatch.GraphWidget:
    """A graph of our own count metrics, by name."""
    return _graph(title, [app_metric(name) for name in left], [app_metric(name) for name in right])
