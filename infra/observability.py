"""Alarms (infra/alarms.py), the dashboard (infra/dashboard.py) and an optional alarm topic with an
email subscription that every alarm notifies."""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.alarms import AlarmSpec, ObservedResources, alarm_specs
from infra.dashboard import build_dashboard
from infra.settings import TableThroughput

__all__ = ["Observability", "ObservedResources"]


class Observability(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        resources: ObservedResources,
        alarm_email: str | None,
        dashboard_name: str,
        throughput: TableThroughput,
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarms = [self._alarm(spec) for spec in alarm_specs(resources)]

        self.alarm_topic: sns.Topic | None = None
        if alarm_email:
            self.alarm_topic = self._alarm_topic(alarm_email)
            action = cw_actions.SnsAction(self.alarm_topic)
            for each in self.alarms:
                each.add_alarm_action(action)
                each.add_ok_action(action)

        self.dashboard = build_dashboard(
            self, name=dashboard_name, resources=resources, alarms=self.alarms, throughput=throughput
        )

    def _alarm(self, spec: AlarmSpec) -> cloudwatch.Alarm:
        comparison = cloudwatch.ComparisonOperator
        if spec.below:
            operator = comparison.LESS_THAN_THRESHOLD
        elif spec.at_least:
            operator = comparison.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        else:
            operator = comparison.GREATER_THAN_THRESHOLD
        return cloudwatch.Alarm(
            self,
            spec.alarm_id,
            metric=spec.metric,
            threshold=spec.threshold,
            comparison_operator=operator,
            evaluation_periods=spec.periods,
            datapoints_to_alarm=spec.periods,
            # No data means nothing happened (no messages queued, no errors, no throttles), except
            # for a metric that must keep coming (a daily success count), whose absence is the problem.
            treat_missing_data=(
                cloudwatch.TreatMissingData.BREACHING
                if spec.missing_breaches
                else cloudwatch.TreatMissingData.NOT_BREACHING
            ),
            alarm_description=f"{spec.description} Runbook: docs/operations.md, {spec.alarm_id}.",
        )

    def _alarm_topic(self, alarm_email: str) -> sns.Topic:
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
        topic = sns.Topic(
            self, "AlarmTopic", display_name="Delivery tracker alarms", master_key=key, enforce_ssl=True
        )
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions=alarms_of_this_account,
            )
        )
        topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        return topic
