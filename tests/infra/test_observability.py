"""Alarms, the alarm topic and the dashboard, checked by value in the synthesized template."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.infra.conftest import ALARM_EMAIL, ROOT, Synthesized
from tests.infra.helpers import as_list, function_by_handler, ref_id
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


def alarm_by_id(synth: Synthesized, alarm_id: str) -> dict[str, Any]:
    alarm = synth.stack.observability.node.find_child(alarm_id)
    properties: dict[str, Any] = synth.json["Resources"][synth.logical_id(alarm)]["Properties"]
    return properties


def watched_metrics(alarm: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(namespace, metric name, dimensions) of an alarm on one metric or on a math expression."""

    def dimensions(items: list[dict[str, Any]]) -> dict[str, Any]:
        return {d["Name"]: d["Value"] for d in items}

    if "MetricName" in alarm:
        return [(alarm["Namespace"], alarm["MetricName"], dimensions(alarm.get("Dimensions", [])))]
    return [
        (
            m["MetricStat"]["Metric"]["Namespace"],
            m["MetricStat"]["Metric"]["MetricName"],
            dimensions(m["MetricStat"]["Metric"].get("Dimensions", [])),
        )
        for m in alarm["Metrics"]
        if "MetricStat" in m
    ]


def queue_ref(synth: Synthesized, queue: Any) -> dict[str, Any]:
    return {"QueueName": {"Fn::GetAtt": [synth.logical_id(queue), "QueueName"]}}


def test_dlq_alarms_on_every_work_queues_dead_letter_queue_depth_and_age(synth: Synthesized) -> None:
    from infra.alarms import DLQ_OLDEST_MESSAGE_AGE_SECONDS
    from infra.queues import DLQ_RETENTION, QUEUE_RETENTION

    for name, dlq in (
        ("Events", synth.stack.ingestion.dead_letter_queue),
        ("Send", synth.stack.sending.dead_letter_queue),
        ("Export", synth.stack.exports.dead_letter_queue),
    ):
        depth = alarm_by_id(synth, f"{name}DlqNotEmpty")
        assert watched_metrics(depth) == [
            ("AWS/SQS", "ApproximateNumberOfMessagesVisible", queue_ref(synth, dlq))
        ]
        assert (depth["Threshold"], depth["ComparisonOperator"]) == (0, "GreaterThanThreshold")
        age = alarm_by_id(synth, f"{name}DlqOldestMessageAge")
        assert watched_metrics(age) == [("AWS/SQS", "ApproximateAgeOfOldestMessage", queue_ref(synth, dlq))]
        assert age["Threshold"] == DLQ_OLDEST_MESSAGE_AGE_SECONDS
    # The age counts from the move into the DLQ, but the message expires by its first enqueue time:
    # after the longest stay in the work queue, the alarm still leaves days to redrive.
    least_time_in_dlq = DLQ_RETENTION.to_seconds() - QUEUE_RETENTION.to_seconds()
    assert least_time_in_dlq - DLQ_OLDEST_MESSAGE_AGE_SECONDS >= 3 * 24 * 3600


def test_exports_alarm_on_a_stuck_or_failing_exporter(synth: Synthesized) -> None:
    from infra.alarms import OLDEST_EXPORT_JOB_AGE_SECONDS

    age = alarm_by_id(synth, "OldestExportJobAge")
    queue = queue_ref(synth, synth.stack.exports.queue)
    assert watched_metrics(age) == [("AWS/SQS", "ApproximateAgeOfOldestMessage", queue)]
    assert age["Threshold"] == OLDEST_EXPORT_JOB_AGE_SECONDS
    function_id, _ = function_by_handler(synth, c.EXPORT_HANDLER)
    errors = alarm_by_id(synth, "ExporterErrors")
    assert watched_metrics(errors) == [("AWS/Lambda", "Errors", {"FunctionName": {"Ref": function_id}})]
    assert (errors["Threshold"], errors["ComparisonOperator"]) == (0, "GreaterThanThreshold")


def test_send_queue_age_and_depth_alarms(synth: Synthesized) -> None:
    queue = queue_ref(synth, synth.stack.sending.queue)
    age = alarm_by_id(synth, "OldestSendJobAge")
    assert watched_metrics(age) == [("AWS/SQS", "ApproximateAgeOfOldestMessage", queue)]
    assert (age["Threshold"], age["EvaluationPeriods"]) == (3600, 3)
    depth = alarm_by_id(synth, "SendQueueDepth")
    assert watched_metrics(depth) == [("AWS/SQS", "ApproximateNumberOfMessagesVisible", queue)]
    assert depth["Threshold"] == 1000  # an hour at 14/s in jobs of 50


def test_every_function_has_a_throttles_alarm(synth: Synthesized) -> None:
    for name, handler in (
        ("Ingest", c.INGEST_HANDLER),
        ("Projector", c.PROJECTOR_HANDLER),
        ("Sender", c.SENDER_HANDLER),
        ("ReadApi", c.READ_API_HANDLER),
        ("SendApi", c.SEND_API_HANDLER),
        ("Exporter", c.EXPORT_HANDLER),
    ):
        function_id, _ = function_by_handler(synth, handler)
        alarm = alarm_by_id(synth, f"{name}Throttles")
        assert watched_metrics(alarm) == [("AWS/Lambda", "Throttles", {"FunctionName": {"Ref": function_id}})]
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")


def test_table_and_every_index_have_a_throttling_alarm_on_reads_and_writes(synth: Synthesized) -> None:
    table = {"Ref": synth.logical_id(synth.stack.storage.table)}
    targets = [("TableThrottles", {"TableName": table})] + [
        (
            f"Index{index.name.capitalize()}Throttles",
            {"TableName": table, "GlobalSecondaryIndexName": index.name},
        )
        for index in c.GLOBAL_INDEXES
    ]
    for alarm_id, dimensions in targets:
        alarm = alarm_by_id(synth, alarm_id)
        assert sorted(watched_metrics(alarm), key=str) == [
            ("AWS/DynamoDB", "ReadThrottleEvents", dimensions),
            ("AWS/DynamoDB", "WriteThrottleEvents", dimensions),
        ], alarm_id
        (expression,) = [m for m in alarm["Metrics"] if "Expression" in m]
        assert expression["ReturnData"] is True
        assert "+" in expression["Expression"]
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")


def test_send_failures_and_partial_batch_retries_are_alarmed(synth: Synthesized) -> None:
    service = {c.METRICS_SERVICE_DIMENSION: c.SERVICE_NAME}
    for alarm_id, metric, periods in (
        ("SendFailures", c.METRIC_SEND_FAILURES, 1),
        ("IngestRetries", c.METRIC_RETRIED_EVENTS, 3),
        ("SendRetries", c.METRIC_SEND_JOBS_RETRIED, 3),
    ):
        alarm = alarm_by_id(synth, alarm_id)
        assert watched_metrics(alarm) == [(c.METRICS_NAMESPACE, metric, service)], alarm_id
        assert alarm["Statistic"] == "Sum"
        assert (alarm["Threshold"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (
            0,
            periods,
            periods,
        )


def test_every_alarm_has_a_runbook_entry_and_points_to_it(synth: Synthesized) -> None:
    runbook = (ROOT / "docs" / "operations.md").read_text()
    alarms_section = runbook.split("\n## Alarms\n", 1)[1].split("\n## ", 1)[0]
    entries = set(re.findall(r"\*\*`(\w+)`\*\*", alarms_section))
    alarm_ids = {alarm.node.id for alarm in synth.stack.observability.alarms}
    assert len(alarm_ids) == len(synth.resources("AWS::CloudWatch::Alarm"))
    assert alarm_ids == entries
    for alarm in synth.stack.observability.alarms:
        props = synth.json["Resources"][synth.logical_id(alarm)]["Properties"]
        assert props["AlarmDescription"].endswith(f"Runbook: docs/operations.md, {alarm.node.id}.")


def test_operational_alarms_exist_with_their_thresholds(synth: Synthesized) -> None:
    ingest_id, _ = function_by_handler(synth, c.INGEST_HANDLER)
    (errors,) = [
        a
        for a in alarms_by_metric(synth, "Errors")
        if a["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": ingest_id}}]
    ]
    assert errors["Threshold"] == 0
    assert errors["ComparisonOperator"] == "GreaterThanThreshold"
    age = alarm_by_id(synth, "OldestEventAge")
    assert watched_metrics(age) == [
        ("AWS/SQS", "ApproximateAgeOfOldestMessage", queue_ref(synth, synth.stack.ingestion.queue))
    ]
    assert age["Threshold"] == 600
    (quarantined,) = alarms_by_metric(synth, c.METRIC_QUARANTINED_EVENTS)
    assert quarantined["Namespace"] == c.METRICS_NAMESPACE
    assert quarantined["Dimensions"] == [{"Name": c.METRICS_SERVICE_DIMENSION, "Value": c.SERVICE_NAME}]
    assert quarantined["Threshold"] == 0
    assert quarantined["ComparisonOperator"] == "GreaterThanThreshold"
    bounce = alarms_by_metric(synth, "Reputation.BounceRate")
    complaint = alarms_by_metric(synth, "Reputation.ComplaintRate")
    # One alarm at SES's review threshold, one at its pause threshold.
    for alarms, thresholds in ((bounce, [0.05, 0.10]), (complaint, [0.001, 0.005])):
        assert sorted(alarm["Threshold"] for alarm in alarms) == thresholds
        for alarm in alarms:
            assert alarm["Namespace"] == "AWS/SES"
            assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_the_dashboard_charts_every_metric_the_functions_publish(synth: Synthesized) -> None:
    (dashboard,) = synth.resources("AWS::CloudWatch::Dashboard").values()
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    body = "".join(part if isinstance(part, str) else "?" for part in parts)
    charted = set(re.findall(rf'\["{c.METRICS_NAMESPACE}","(\w+)"', body))
    # Metrics with a per-tenant dimension are charted by a search over it.
    search = r"SEARCH\('\{" + c.METRICS_NAMESPACE + r",\w+\} MetricName=\\\"(\w+)"
    charted |= set(re.findall(search, body))
    published = {value for name, value in vars(c).items() if name.startswith("METRIC_")}
    assert c.METRIC_SENDS_DROPPED in published
    assert published <= charted, sorted(published - charted)


def dashboard_metrics(synth: Synthesized) -> tuple[list[list[Any]], list[dict[str, Any]]]:
    """The dashboard's metric arrays ([namespace, name, dimension, value, ...]) and its annotations,
    with each reference to a resource written as <logical id>."""
    (dashboard,) = synth.resources("AWS::CloudWatch::Dashboard").values()
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    body = json.loads(
        "".join(
            part
            if isinstance(part, str)
            else f"<{ref_id(part)}>"
            if "Ref" in part or "Fn::GetAtt" in part
            else "?"
            for part in parts
        )
    )
    metrics, annotations = [], []
    for widget in body["widgets"]:
        properties = widget["properties"]
        metrics += [m for m in properties.get("metrics", []) if not isinstance(m[0], dict)]
        annotations += properties.get("annotations", {}).get("horizontal", [])
    return metrics, annotations


def test_the_dashboard_charts_the_send_queue_table_throttling_and_function_throttles(
    synth: Synthesized,
) -> None:
    metrics, annotations = dashboard_metrics(synth)
    charted = set()
    for m in metrics:
        values = [v for v in m[2:] if not isinstance(v, dict)]
        charted.add((m[0], m[1], frozenset(zip(values[::2], values[1::2], strict=True))))
    send_queue = {("QueueName", f"<{synth.logical_id(synth.stack.sending.queue)}>")}
    for metric in ("ApproximateAgeOfOldestMessage", "ApproximateNumberOfMessagesVisible"):
        assert ("AWS/SQS", metric, frozenset(send_queue)) in charted, metric
    table = {("TableName", f"<{synth.logical_id(synth.stack.storage.table)}>")}
    for metric in ("ReadThrottleEvents", "WriteThrottleEvents", "WriteMaxOnDemandThroughputThrottleEvents"):
        assert ("AWS/DynamoDB", metric, frozenset(table)) in charted, metric
    for index in c.GLOBAL_INDEXES:
        for metric in ("ReadThrottleEvents", "WriteThrottleEvents"):
            dimensions = frozenset(table | {("GlobalSecondaryIndexName", index.name)})
            assert ("AWS/DynamoDB", metric, dimensions) in charted, (index.name, metric)
    # Ingest, projector, sender, read API, send API, exporter.
    assert len([m for m in charted if m[:2] == ("AWS/Lambda", "Throttles")]) == 6
    # The table's consumption is drawn against its warm throughput and on-demand maximum.
    assert {"label": "max writes", "value": 20_000, "yAxis": "left"} in annotations
    assert {"label": "warm writes", "value": 10_000, "yAxis": "left"} in annotations


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
    stale = synth.logical_id(synth.stack.observability.node.find_child("AppleRangesStale"))
    for logical_id, alarm in synth.resources("AWS::CloudWatch::Alarm").items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]
        # No data is no problem, except where the data is a success that must keep coming.
        expected = "breaching" if logical_id == stale else "notBreaching"
        assert alarm["Properties"]["TreatMissingData"] == expected, logical_id


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


def test_the_dashboard_charts_every_metric_an_alarm_watches(synth: Synthesized) -> None:
    def value(v: Any) -> str:
        return f"<{ref_id(v)}>" if isinstance(v, dict) else str(v)

    metrics, _ = dashboard_metrics(synth)
    charted = set()
    for m in metrics:
        values = [v for v in m[2:] if not isinstance(v, dict)]
        charted.add((m[0], m[1], frozenset(zip(values[::2], values[1::2], strict=True))))
    watched = {
        (namespace, name, frozenset((k, value(v)) for k, v in dimensions.items()))
        for alarm in synth.resources("AWS::CloudWatch::Alarm").values()
        for namespace, name, dimensions in watched_metrics(alarm["Properties"])
    }
    assert len(watched) >= 20
    assert sorted(map(str, watched - charted)) == []
