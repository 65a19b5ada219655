"""Apple's ranges in the stack: the private bucket, the daily refresher and its schedule, the one
object each function may touch, and the two alarms, checked by value in the synthesized template."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra import table_access
from tests.infra.conftest import Synthesized, cdk_json_context
from tests.infra.helpers import (
    actions_of,
    as_list,
    denies_insecure_transport,
    function_by_handler,
    role_statements,
)
from tests.infra.test_web import FakeNode
from tracker import constants as c

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

REQUIRED = {"senderAddress": "billing@acme.example", "sesIdentity": "acme.example"}


def bucket_id(synth: Synthesized) -> str:
    return synth.logical_id(synth.stack.reference_data.bucket)


def the_object(synth: Synthesized) -> dict[str, Any]:
    """The ARN of the stored object, as CDK renders it."""
    return {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id(synth), "Arn"]}, f"/{c.APPLE_RANGES_KEY}"]]}


def s3_statements(synth: Synthesized, function: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        s for s in role_statements(synth, function) if any(a.startswith("s3:") for a in as_list(s["Action"]))
    ]


def bucket_policy(synth: Synthesized, logical_id: str) -> list[dict[str, Any]]:
    (policy,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in synth.resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": logical_id}
    ]
    statements: list[dict[str, Any]] = policy
    return statements


def test_the_bucket_is_private_encrypted_tls_only_versioned_and_logged(synth: Synthesized) -> None:
    props = synth.json["Resources"][bucket_id(synth)]["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ] == {"SSEAlgorithm": "AES256"}
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    log_bucket = synth.logical_id(synth.stack.reference_data.log_bucket)
    assert props["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": log_bucket}
    for logical_id in (bucket_id(synth), log_bucket):
        statements = bucket_policy(synth, logical_id)
        assert denies_insecure_transport(statements, "s3:*"), logical_id
        # Only S3's log delivery is granted anything by a bucket policy (to the log bucket).
        for allow in (s for s in statements if s["Effect"] == "Allow"):
            assert logical_id == log_bucket
            assert allow["Principal"] == {"Service": "logging.s3.amazonaws.com"}
            assert allow["Action"] == "s3:PutObject"
    logs = synth.json["Resources"][log_bucket]["Properties"]
    assert logs["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True
    assert logs["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == 365


def test_the_refresher_may_put_the_one_object_and_touches_no_table(synth: Synthesized) -> None:
    _, refresher = function_by_handler(synth, c.APPLE_RANGES_HANDLER)
    props = refresher["Properties"]
    assert (props["MemorySize"], props["Timeout"]) == (1769, 120)
    env = props["Environment"]["Variables"]
    assert env[c.ENV_APPLE_RANGES_BUCKET] == {"Ref": bucket_id(synth)}
    assert env[c.ENV_APPLE_RANGES_KEY] == c.APPLE_RANGES_KEY
    assert env[c.ENV_APPLE_RANGES_URL] == c.APPLE_RANGES_URL
    assert env[c.ENV_APPLE_RANGES_MIN_PREFIXES] == str(c.DEFAULT_APPLE_RANGES_MIN_PREFIXES)
    (statement,) = s3_statements(synth, refresher)
    assert statement["Action"] == "s3:PutObject"
    assert statement["Resource"] == the_object(synth)
    actions = actions_of(role_statements(synth, refresher))
    assert not {a for a in actions if a.startswith(("dynamodb:", "sqs:", "ses:", "secretsmanager:", "kms:"))}
    assert table_access.APPLE_RANGES.actions == ()


def test_the_ingest_function_may_get_the_one_object_and_knows_where_it_is(synth: Synthesized) -> None:
    _, ingest = function_by_handler(synth, c.INGEST_HANDLER)
    env = ingest["Properties"]["Environment"]["Variables"]
    assert env[c.ENV_APPLE_RANGES_BUCKET] == {"Ref": bucket_id(synth)}
    assert env[c.ENV_APPLE_RANGES_KEY] == c.APPLE_RANGES_KEY
    (statement,) = s3_statements(synth, ingest)
    assert statement["Action"] == "s3:GetObject"
    assert statement["Resource"] == the_object(synth)
    for handler in (c.SENDER_HANDLER, c.PROJECTOR_HANDLER, c.READ_API_HANDLER, c.SEND_API_HANDLER):
        _, other = function_by_handler(synth, handler)
        # (the read API presigns export downloads from its own bucket: tests/infra/test_exports.py)
        reaching = [s for s in s3_statements(synth, other) if bucket_id(synth) in json.dumps(s["Resource"])]
        assert reaching == [], handler


def test_a_daily_schedule_runs_the_refresher(synth: Synthesized) -> None:
    refresher_id, _ = function_by_handler(synth, c.APPLE_RANGES_HANDLER)
    (rule_id, rule) = next(iter(synth.resources("AWS::Events::Rule").items()))
    assert len(synth.resources("AWS::Events::Rule")) == 1
    props = rule["Properties"]
    assert props["ScheduleExpression"] == "cron(17 4 * * ? *)"
    assert props["State"] == "ENABLED"
    (target,) = props["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [refresher_id, "Arn"]}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 7200}
    (permission,) = [
        p["Properties"]
        for p in synth.resources("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "events.amazonaws.com"
    ]
    assert permission["FunctionName"] == {"Fn::GetAtt": [refresher_id, "Arn"]}
    assert permission["SourceArn"] == {"Fn::GetAtt": [rule_id, "Arn"]}  # this rule only


def alarm(synth: Synthesized, alarm_id: str) -> dict[str, Any]:
    found = synth.stack.observability.node.find_child(alarm_id)
    props: dict[str, Any] = synth.json["Resources"][synth.logical_id(found)]["Properties"]
    return props


def test_a_failed_refresh_alarms_whether_reported_or_a_crash(synth: Synthesized) -> None:
    refresher_id, _ = function_by_handler(synth, c.APPLE_RANGES_HANDLER)
    props = alarm(synth, "AppleRangesRefreshFailed")
    assert (props["Threshold"], props["ComparisonOperator"], props["EvaluationPeriods"]) == (
        0,
        "GreaterThanThreshold",
        1,
    )
    assert props["TreatMissingData"] == "notBreaching"
    (expression,) = [m for m in props["Metrics"] if "Expression" in m]
    assert expression["Expression"] == "FILL(reported, 0) + FILL(crashed, 0)"
    assert expression["ReturnData"] is True
    stats = {m["Id"]: m["MetricStat"] for m in props["Metrics"] if "MetricStat" in m}
    assert stats["reported"]["Metric"]["MetricName"] == c.METRIC_APPLE_RANGES_REFRESH_FAILED
    assert stats["crashed"]["Metric"] == {
        "Namespace": "AWS/Lambda",
        "MetricName": "Errors",
        "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": refresher_id}}],
    }
    assert {(s["Period"], s["Stat"]) for s in stats.values()} == {(86400, "Sum")}


def test_a_week_without_a_successful_refresh_alarms_also_when_nothing_is_reported(synth: Synthesized) -> None:
    props = alarm(synth, "AppleRangesStale")
    assert props["MetricName"] == c.METRIC_APPLE_RANGES_REFRESHED
    assert (props["Namespace"], props["Statistic"], props["Period"]) == (c.METRICS_NAMESPACE, "Sum", 86400)
    assert (props["Threshold"], props["ComparisonOperator"]) == (1, "LessThanThreshold")
    assert props["EvaluationPeriods"] == props["DatapointsToAlarm"] == 7
    assert props["TreatMissingData"] == "breaching"  # a refresh that no longer runs reports nothing
    # CloudWatch evaluates at most seven days (Period x EvaluationPeriods <= 604,800 s).
    assert props["Period"] * props["EvaluationPeriods"] <= 604_800


def test_the_outputs_name_the_bucket_and_the_function(synth: Synthesized) -> None:
    refresher_id, _ = function_by_handler(synth, c.APPLE_RANGES_HANDLER)
    outputs = synth.json["Outputs"]
    assert outputs["AppleRangesBucketName"]["Value"] == {"Ref": bucket_id(synth)}
    assert outputs["AppleRangesFunctionName"]["Value"] == {"Ref": refresher_id}


# --- settings ---------------------------------------------------------------------------------------


def test_the_schedule_and_the_minimum_come_from_the_context() -> None:
    from infra.settings import settings_from_context

    settings = settings_from_context(
        FakeNode({**REQUIRED, "appleRangesSchedule": "rate(12 hours)", "appleRangesMinPrefixes": "250_000"})  # type: ignore[arg-type]
    )
    assert (settings.apple_ranges_schedule, settings.apple_ranges_min_prefixes) == ("rate(12 hours)", 250_000)
    default = settings_from_context(FakeNode(REQUIRED))  # type: ignore[arg-type]
    assert (default.apple_ranges_schedule, default.apple_ranges_min_prefixes) == (
        "cron(17 4 * * ? *)",
        c.DEFAULT_APPLE_RANGES_MIN_PREFIXES,
    )


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"appleRangesSchedule": "daily"}, "an EventBridge schedule expression"),
        ({"appleRangesSchedule": "cron(0 4 * *)"}, "an EventBridge schedule expression"),
        ({"appleRangesSchedule": "rate(2 days)"}, "at least once a day"),
        ({"appleRangesSchedule": "rate(25 hours)"}, "at least once a day"),
        ({"appleRangesMinPrefixes": "0"}, "appleRangesMinPrefixes must be at least 1"),
        ({"appleRangesMinPrefixes": "many"}, "appleRangesMinPrefixes must be a whole number"),
    ],
)
def test_invalid_apple_ranges_settings_fail_with_a_message(context: dict[str, str], message: str) -> None:
    from infra.settings import settings_from_context

    with pytest.raises(ValueError, match=message):
        settings_from_context(FakeNode({**REQUIRED, **context}))  # type: ignore[arg-type]


def test_the_construct_passes_its_schedule_and_minimum_on() -> None:
    import aws_cdk as cdk
    from aws_cdk.assertions import Match, Template

    from infra.functions import FunctionFactory
    from infra.reference_data import ReferenceData

    stack = cdk.Stack(cdk.App(context=cdk_json_context()), "ReferenceDataOnly")
    factory = FunctionFactory(stack, "Functions", common_environment={})
    ReferenceData(stack, "ReferenceData", factory=factory, schedule="rate(12 hours)", min_prefixes=250_000)
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::Events::Rule", {"ScheduleExpression": "rate(12 hours)"})
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": c.APPLE_RANGES_HANDLER,
            "Environment": {"Variables": Match.object_like({c.ENV_APPLE_RANGES_MIN_PREFIXES: "250000"})},
        },
    )
