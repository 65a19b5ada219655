"""Alarms, one dashboard and an optional alarm topic with an email subscription."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from tracker import constants as c

# SES puts an account under review at a 5% bounce rate and 0.1% complaint rate (and may pause sending
# at 10% and 0.5%); alarm when the account reaches the review thresholds, well before a pause.
SES_BOUNCE_RATE_THRESHOLD = 0.05
SES_COMPLAINT_RATE_THRESHOLD = 0.001
# Normal latency from SES event to table is seconds; ten minutes of backlog means ingest is stuck
# (failing, throttled or out of concurrency).
OLDEST_EVENT_AGE_SECONDS = 600


@dataclass(frozen=True)
class ObservedResources:
    events_queue: sqs.IQueue
    events_dlq: sqs.IQueue
    send_queue: sqs.IQueue
    send_dlq: sqs.IQueue
    ingest_function: lambda_.IFunction
    sender_function: lambda_.IFunction
    api_function: lambda_.IFunction
    rest_api: apigw.RestApi


class Observability(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        resources: ObservedResources,
        alarm_email: str | None,
        dashboard_name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        r = resources
        one_minute = Duration.minutes(1)
        five_minutes = Duration.minutes(5)

        def alarm(
            alarm_id: str,
            metric: cloudwatch.IMetric,
            threshold: float,
            description: str,
            *,
            comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods: int = 1,
        ) -> cloudwatch.Alarm:
            return cloudwatch.Alarm(
                self,
                alarm_id,
                metric=metric,
                threshold=threshold,
                comparison_operator=comparison,
                evaluation_periods=evaluation_periods,
                datapoints_to_alarm=evaluation_periods,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=description,
            )

        events_dlq_depth = r.events_dlq.metric_approximate_number_of_messages_visible(
            period=one_minute, statistic="Maximum"
        )
        send_dlq_depth = r.send_dlq.metric_approximate_number_of_messages_visible(
            period=one_minute, statistic="Maximum"
        )
        oldest_event_age = r.events_queue.metric_approximate_age_of_oldest_message(
            period=one_minute, statistic="Maximum"
        )
        ingest_errors = r.ingest_function.metric_errors(period=five_minutes, statistic="Sum")
        quarantined = cloudwatch.Metric(
            namespace=c.METRICS_NAMESPACE,
            metric_name=c.METRIC_QUARANTINED_EVENTS,
            dimensions_map={c.METRICS_SERVICE_DIMENSION: c.SERVICE_NAME},
            period=five_minutes,
            statistic="Sum",
        )
        bounce_rate = cloudwatch.Metric(
            namespace="AWS/SES",
            metric_name="Reputation.BounceRate",
            period=Duration.hours(1),
            statistic="Maximum",
        )
        complaint_rate = cloudwatch.Metric(
            namespace="AWS/SES",
            metric_name="Reputation.ComplaintRate",
            period=Duration.hours(1),
            statistic="Maximum",
        )

        at_least = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        self.alarms = [
            alarm(
                "EventsDlqNotEmpty",
                events_dlq_depth,
                0,
                "SES events are in the dead-letter queue: inspect them and redrive after fixing the cause.",
            ),
            alarm(
                "SendDlqNotEmpty",
                send_dlq_depth,
                0,
                "Send jobs are in the dead-letter queue: those recipients were never handed to SES.",
            ),
            alarm("IngestErrors", ingest_errors, 0, "The ingest function failed whole invocations."),
            alarm(
                "OldestEventAge",
                oldest_event_age,
                OLDEST_EVENT_AGE_SECONDS,
                "SES events wait more than 10 minutes in the queue: ingest is stuck or too slow.",
                evaluation_periods=3,
            ),
            alarm(
                "QuarantinedEvents",
                quarantined,
                0,
                "Malformed or unknown SES events were quarantined; they are kept for inspection.",
            ),
            alarm(
                "SesBounceRate",
                bounce_rate,
                SES_BOUNCE_RATE_THRESHOLD,
                "SES bounce rate reached 5% (SES review threshold; sending may be paused at 10%).",
                comparison=at_least,
            ),
            alarm(
                "SesComplaintRate",
                complaint_rate,
                SES_COMPLAINT_RATE_THRESHOLD,
                "SES complaint rate reached 0.1% (SES review threshold; sending may be paused at 0.5%).",
                comparison=at_least,
            ),
            alarm(
                "SenderErrors",
                r.sender_function.metric_errors(period=five_minutes, statistic="Sum"),
                0,
                "The sender function failed whole invocations.",
            ),
            alarm(
                "Api5xx",
                r.rest_api.metric_server_error(period=five_minutes, statistic="Sum"),
                0,
                "The API answered 5xx.",
            ),
        ]

        self.alarm_topic: sns.Topic | None = None
        if alarm_email:
            stack = Stack.of(self)
            key = kms.Key(
                self,
                "AlarmTopicKey",
                description="Encrypts the alarm topic",
                enable_key_rotation=True,
                removal_policy=RemovalPolicy.DESTROY,
                pending_window=Duration.days(7),
            )
            # CloudWatch alarms publish with the cloudwatch.amazonaws.com service principal. The topic's
            # policy (enforce_ssl creates one) replaces SNS's default policy, so it must allow them itself;
            # both grants are limited to alarms of this account and region (confused-deputy protection).
            alarms_of_this_account = {
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {
                    "aws:SourceArn": stack.format_arn(
                        service="cloudwatch",
                        resource="alarm",
                        resource_name="*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                },
            }
            key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="AllowCloudWatchAlarmsToPublish",
                    principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                    actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                    resources=["*"],
                    conditions=alarms_of_this_account,
                )
            )
            self.alarm_topic = sns.Topic(
                self, "AlarmTopic", display_name="Delivery tracker alarms", master_key=key, enforce_ssl=True
            )
            self.alarm_topic.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="AllowCloudWatchAlarmsToPublish",
                    principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                    actions=["sns:Publish"],
                    resources=[self.alarm_topic.topic_arn],
                    conditions=alarms_of_this_account,
                )
            )
            self.alarm_topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
            action = cw_actions.SnsAction(self.alarm_topic)
            for each in self.alarms:
                each.add_alarm_action(action)
                each.add_ok_action(action)

        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=dashboard_name, default_interval=Duration.hours(6)
        )
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=24, height=4),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Events queue",
                left=[r.events_queue.metric_number_of_messages_received(period=one_minute)],
                right=[oldest_event_age],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Dead-letter queues",
                left=[events_dlq_depth, send_dlq_depth],
                width=8,
            ),
            _counts_widget(
                "Ingest outcomes",
                [c.METRIC_EVENTS_APPLIED, c.METRIC_DUPLICATE_EVENTS, c.METRIC_RETRIED_EVENTS],
                also=[quarantined],
            ),
        )
        self.dashboard.add_widgets(
            *(
                cloudwatch.GraphWidget(
                    title=f"{name} function",
                    left=[fn.metric_invocations(period=five_minutes), fn.metric_errors(period=five_minutes)],
                    right=[fn.metric_duration(period=five_minutes, statistic="p99")],
                    width=8,
                )
                for name, fn in (
                    ("Ingest", r.ingest_function),
                    ("Sender", r.sender_function),
                    ("API", r.api_function),
                )
            )
        )
        self.dashboard.add_widgets(
            _counts_widget(
                "SES outcomes", [c.METRIC_SES_DELIVERIES, c.METRIC_SES_BOUNCES, c.METRIC_SES_COMPLAINTS]
            ),
            cloudwatch.GraphWidget(
                title="SES reputation (account)",
                left=[bounce_rate, complaint_rate],
                left_annotations=[
                    cloudwatch.HorizontalAnnotation(value=SES_BOUNCE_RATE_THRESHOLD, label="bounce review"),
                    cloudwatch.HorizontalAnnotation(
                        value=SES_COMPLAINT_RATE_THRESHOLD, label="complaint review"
                    ),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="API",
                left=[
                    r.rest_api.metric_count(period=five_minutes),
                    r.rest_api.metric_client_error(period=five_minutes),
                    r.rest_api.metric_server_error(period=five_minutes),
                ],
                right=[r.rest_api.metric_latency(period=five_minutes, statistic="p99")],
                width=8,
            ),
        )
        self.dashboard.add_widgets(
            _counts_widget(
                "Send outcomes",
                [c.METRIC_EMAILS_SENT, c.METRIC_SEND_FAILURES, c.METRIC_SENDS_DROPPED],
                right=[c.METRIC_SEND_THROTTLED, c.METRIC_SEND_JOBS_RETRIED],
            )
        )


def _counts_widget(
    title: str,
    left: Sequence[str],
    right: Sequence[str] = (),
    also: Sequence[cloudwatch.IMetric] = (),
) -> cloudwatch.GraphWidget:
    """A graph of our own count metrics (by name), plus any other metrics on the left axis."""
    return cloudwatch.GraphWidget(
        title=title,
        left=[*(_app_metric(name) for name in left), *also],
        right=[_app_metric(name) for name in right],
        width=8,
    )


def _app_metric(name: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=c.METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={c.METRICS_SERVICE_DIMENSION: c.SERVICE_NAME},
        period=Duration.minutes(5),
        statistic="Sum",
    )
