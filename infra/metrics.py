"""The CloudWatch metrics the alarms (infra/alarms.py) and the dashboard (infra/dashboard.py) read."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs

from tracker import constants as c

ONE_MINUTE = Duration.minutes(1)
FIVE_MINUTES = Duration.minutes(5)
ONE_DAY = Duration.days(1)


def app_metric(name: str, period: Duration = FIVE_MINUTES, statistic: str = "Sum") -> cloudwatch.Metric:
    """One of the count metrics the functions publish (Powertools EMF)."""
    return cloudwatch.Metric(
        namespace=c.METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={c.METRICS_SERVICE_DIMENSION: c.SERVICE_NAME},
        period=period,
        statistic=statistic,
    )


def ses_metric(name: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace="AWS/SES", metric_name=name, period=Duration.hours(1), statistic="Maximum"
    )


def table_metric(
    table: dynamodb.TableV2, name: str, index: str | None = None, period: Duration = FIVE_MINUTES
) -> cloudwatch.Metric:
    """A DynamoDB metric of the table, or of one global secondary index (its own dimension)."""
    dimensions = {"TableName": table.table_name}
    if index is not None:
        dimensions["GlobalSecondaryIndexName"] = index
    return cloudwatch.Metric(
        namespace="AWS/DynamoDB",
        metric_name=name,
        dimensions_map=dimensions,
        period=period,
        statistic="Sum",
        label=f"{index or 'table'} {name}",
    )


def throttle_events(table: dynamodb.TableV2, index: str | None = None) -> cloudwatch.MathExpression:
    """Read + write throttle events (every cause: key range, the on-demand maximum, account limits)."""
    # Ids unique per table/index: one graph may draw several of these expressions.
    suffix = index or "table"
    return cloudwatch.MathExpression(
        expression=f"FILL(reads_{suffix}, 0) + FILL(writes_{suffix}, 0)",
        using_metrics={
            f"reads_{suffix}": table_metric(table, "ReadThrottleEvents", index),
            f"writes_{suffix}": table_metric(table, "WriteThrottleEvents", index),
        },
        label=f"{index or 'table'} throttle events",
        period=FIVE_MINUTES,
    )


def queue_depth(queue: sqs.IQueue) -> cloudwatch.Metric:
    return queue.metric_approximate_number_of_messages_visible(period=ONE_MINUTE, statistic="Maximum")


def oldest_message_age(queue: sqs.IQueue) -> cloudwatch.Metric:
    return queue.metric_approximate_age_of_oldest_message(period=ONE_MINUTE, statistic="Maximum")


def projector_iterator_age(function: lambda_.IFunction) -> cloudwatch.Metric:
    """How far behind the newest record of its stream the projector's last batch was (ms)."""
    return function.metric("IteratorAge", period=ONE_MINUTE, statistic="Maximum")
