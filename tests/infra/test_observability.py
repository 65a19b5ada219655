"""Alarms, the alarm topic and the dashboard, checked by value in the synthesized template."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.infra.conftest import ALARM_EMAIL, Synthesized
from tests.infra.helpers import as_list, function_by_handler
from tracker import constants as c

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

CLOUDWATCH = {"Service": "cloudwatch.amazonaws.com"}
THIS_ACCOUNT = {"Ref": "AWS::AccountId"}
# arn:<partition>:cloudwatch:<region>:<account>:alarm:*, as CDK renders it.
THIS_ACCOUNTS_ALARMS = {
    "Fn::Join": [
        "",
        [
            "arn:",
            {"Ref": "AWS::Partition"},
            ":cloudwatch:",
            {"Ref": "AWS::Region"},
            ":",
            {"Ref": "AWS::AccountId"},
            ":alarm:*",
        ],
    ]
}


def alarms_by_metric(synth: Synthesized, metric_name: str) -> list[dict[str, Any]]:
    return [
        a["Properties"]
        for a in synth.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == metric_name
    ]


def test_dlq_depth_alarms_on_both_dead_letter_queues(synth: Synthesized) -> None:
    alarms = alarms_by_metric(synth, "ApproximateNumberOfMessagesVisible")
    dlqs = {
        synth.logical_id(synth.stack.ingestion.dead_letter_queue),
        synth.logical_id(synth.stack.sending.dead_letter_queue),
    }
    watched = set()
    for alarm in alarms:
        assert alarm["Namespace"] == "AWS/SQS"
        assert alarm["Threshold"] == 0
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        (dimension,) = alarm["Dimensions"]
        assert dimension["Name"] == "QueueName"
        watched.add(dimension["Value"]["Fn::GetAtt"][0])
    assert watched == dlqs


def test_operational_alarms_exist_with_their_thresholds(synth: Synthesized) -> None:
    ingest_id, _ = function_by_handler(synth, c.INGEST_HANDLER)
    (errors,) = [
        a
        for a in alarms_by_metric(synth, "Errors")
        if a["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": ingest_id}}]
    ]
    assert errors["Threshold"] == 0
    assert errors["ComparisonOperator"] == "GreaterThanThreshold"
    (age,) = alarms_by_metric(synth, "ApproximateAgeOfOldestMessage")
    assert age["Namespace"] == "AWS/SQS"
    assert age["Threshold"] > 0
    (quarantined,) = alarms_by_metric(synth, c.METRIC_QUARANTINED_EVENTS)
    assert quarantined["Namespace"] == c.METRICS_NAMESPACE
    assert quarantined["Dimensions"] == [{"Name": c.METRICS_SERVICE_DIMENSION, "Value": c.SERVICE_NAME}]
    assert quarantined["Threshold"] == 0
    assert quarantined["ComparisonOperator"] == "GreaterThanThreshold"
    (bounce,) = alarms_by_metric(synth, "Reputation.BounceRate")
    (complaint,) = alarms_by_metric(synth, "Reputation.ComplaintRate")
    for alarm, threshold, pause_threshold in ((bounce, 0.05, 0.10), (complaint, 0.001, 0.005)):
        assert alarm["Namespace"] == "AWS/SES"
        assert alarm["Threshold"] == threshold
        assert alarm["Threshold"] < pause_threshold
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_the_dashboard_charts_every_metric_the_functions_publish(synth: Synthesized) -> None:
    (dashboard,) = synth.resources("AWS::CloudWatch::Dashboard").values()
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    body = "".join(part if isinstance(part, str) else "?" for part in parts)
    charted = set(re.findall(rf'\["{c.METRICS_NAMESPACE}","(\w+)"', body))
    published = {value for name, value in vars(c).items() if name.startswith("METRIC_")}
    assert c.METRIC_SENDS_DROPPED in published
    assert published <= charted, sorted(published - charted)


def test_alarms_notify_the_email_topic_and_there_is_one_dashboard(synth: Synthesized) -> None:
    assert len(synth.resources("AWS::CloudWatch::Dashboard")) == 1
    topic_id = synth.logical_id(synth.stack.observability.alarm_topic)
    (subscription,) = [
        s["Properties"]
        for s in synth.resources("AWS::SNS::Subscription").values()
        if s["Properties"]["TopicArn"] == {"Ref": topic_id}
    ]
    assert subscription == {"Endpoint": ALARM_EMAIL, "Protocol": "email", "TopicArn": {"Ref": topic_id}}
    assert "KmsMasterKeyId" in synth.json["Resources"][topic_id]["Properties"]
    for alarm in synth.resources("AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]
        assert alarm["Properties"]["TreatMissingData"] == "notBreaching"


# --- the alarm topic can receive the alarms ---------------------------------------------------------


def topic_policy_statements(synth: Synthesized, topic_id: str) -> list[dict[str, Any]] | None:
    """The statements of the topic's policy, or None when it has none (SNS's default policy applies)."""
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in synth.resources("AWS::SNS::TopicPolicy").values()
        if {"Ref": topic_id} in p["Properties"]["Topics"]
    ]
    if not policies:
        return None
    return [s for statements in policies for s in statements]


def allows_this_accounts_alarms(statement: dict[str, Any], actions: set[str]) -> bool:
    conditions = statement.get("Condition", {})
    return (
        statement["Effect"] == "Allow"
        and statement.get("Principal") == CLOUDWATCH
        and actions <= set(as_list(statement["Action"]))
        and conditions.get("StringEquals", {}).get("aws:SourceAccount") == THIS_ACCOUNT
        and conditions.get("ArnLike", {}).get("aws:SourceArn") == THIS_ACCOUNTS_ALARMS
    )


def cloudwatch_can_publish(synth: Synthesized, topic_id: str) -> list[str]:
    """Why CloudWatch alarms could not publish to the topic (empty: they can)."""
    problems = []
    statements = topic_policy_statements(synth, topic_id)
    # A topic policy replaces SNS's default one, so it must allow CloudWatch itself.
    if statements is not None and not any(
        allows_this_accounts_alarms(s, {"sns:Publish"}) and s["Resource"] == {"Ref": topic_id}
        for s in statements
    ):
        problems.append(f"the policy of {topic_id} does not allow this account's alarms to publish")
    key = synth.json["Resources"][topic_id]["Properties"].get("KmsMasterKeyId")
    if key is not None:
        key_id = key["Fn::GetAtt"][0] if "Fn::GetAtt" in key else key["Ref"]
        key_statements = synth.json["Resources"][key_id]["Properties"]["KeyPolicy"]["Statement"]
        if not any(
            allows_this_accounts_alarms(s, {"kms:GenerateDataKey*", "kms:Decrypt"}) for s in key_statements
        ):
            problems.append(f"the key of {topic_id} does not let this account's alarms encrypt")
    return problems


def test_the_alarm_topic_policy_allows_this_accounts_cloudwatch_alarms(synth: Synthesized) -> None:
    topic_id = synth.logical_id(synth.stack.observability.alarm_topic)
    statements = topic_policy_statements(synth, topic_id)
    assert statements is not None
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == CLOUDWATCH
    assert allow["Action"] == "sns:Publish"
    assert allow["Resource"] == {"Ref": topic_id}
    assert allow["Condition"] == {
        "StringEquals": {"aws:SourceAccount": THIS_ACCOUNT},
        "ArnLike": {"aws:SourceArn": THIS_ACCOUNTS_ALARMS},
    }
    assert cloudwatch_can_publish(synth, topic_id) == []


def test_every_alarm_action_is_a_topic_cloudwatch_may_publish_to(synth: Synthesized) -> None:
    topics = synth.resources("AWS::SNS::Topic")
    alarms = synth.resources("AWS::CloudWatch::Alarm")
    assert alarms
    problems = set()
    for logical_id, alarm in alarms.items():
        props = alarm["Properties"]
        actions = [*props.get("AlarmActions", []), *props.get("OKActions", [])]
        actions += props.get("InsufficientDataActions", [])
        assert actions, f"{logical_id} notifies nobody"
        for action in actions:
            assert action.get("Ref") in topics, f"{logical_id}: {action} is not a topic of this stack"
            problems.update(cloudwatch_can_publish(synth, action["Ref"]))
    assert sorted(problems) == []
