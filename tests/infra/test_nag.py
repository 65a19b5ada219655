"""cdk-nag AwsSolutions: no unsuppressed finding, and every suppression explains itself."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aws_cdk.assertions import Annotations, Match

from tests.infra.conftest import Synthesized

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

# The accepted findings (infra/nag.py gives each its reason). A new suppression must be added here
# deliberately, so it gets reviewed.
EXPECTED_SUPPRESSED_RULES = {
    "AwsSolutions-IAM5",  # X-Ray Resource '*' only (checked below)
    "AwsSolutions-IAM4",  # API Gateway's account CloudWatch role
    "AwsSolutions-APIG2",  # validation in the function
    "AwsSolutions-APIG3",  # no WAF by default (warning)
    "AwsSolutions-APIG4",  # GET /health and CORS preflight
    "AwsSolutions-COG4",  # GET /health and CORS preflight
    "AwsSolutions-COG8",  # Essentials feature plan
    "AwsSolutions-SMG4",  # cursor key rotation
    "AwsSolutions-S1",  # the reference data's access-log bucket does not log into itself
    "AwsSolutions-SQS3",  # the projector's on-failure queue is a DLQ cdk-nag does not recognize
}


def suppressions(synth: Synthesized) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for logical_id, resource in synth.json["Resources"].items():
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
            found.append((logical_id, rule))
    return found


def test_no_unsuppressed_aws_solutions_errors(synth: Synthesized) -> None:
    errors = Annotations.from_stack(synth.stack).find_error("*", Match.string_like_regexp("AwsSolutions-.*"))
    assert [f"{e.id}: {e.entry.data}" for e in errors] == []


def test_no_unsuppressed_aws_solutions_warnings(synth: Synthesized) -> None:
    warnings = Annotations.from_stack(synth.stack).find_warning(
        "*", Match.string_like_regexp("AwsSolutions-.*")
    )
    assert [f"{w.id}: {w.entry.data}" for w in warnings] == []


def test_every_suppression_has_a_specific_reason(synth: Synthesized) -> None:
    found = suppressions(synth)
    assert found
    for logical_id, rule in found:
        reason = rule["reason"]
        words = re.findall(r"[A-Za-z']+", reason)
        assert len(words) >= 12, f"{logical_id} {rule['id']}: give a real reason, not {reason!r}"
        assert reason.rstrip().endswith("."), f"{logical_id} {rule['id']}: write the reason as sentences"


def test_suppressed_rules_are_the_reviewed_ones(synth: Synthesized) -> None:
    assert {rule["id"] for _, rule in suppressions(synth)} == EXPECTED_SUPPRESSED_RULES


def test_wildcard_suppressions_name_the_exact_wildcards(synth: Synthesized) -> None:
    # X-Ray; the table's indexes are granted by name; the webhooks' per-tenant resources by prefix.
    allowed = {"Resource::*", *synth.stack.events_out.admin_wildcards()}
    iam5 = [(lid, rule) for lid, rule in suppressions(synth) if rule["id"] == "AwsSolutions-IAM5"]
    assert iam5
    for logical_id, rule in iam5:
        assert rule.get("applies_to"), f"{logical_id}: an IAM5 suppression must name the wildcard"
        assert set(rule["applies_to"]) <= allowed, logical_id
    for logical_id, rule in suppressions(synth):
        if rule["id"] == "AwsSolutions-IAM4":
            assert rule["applies_to"] == [
                "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
            ], logical_id


def test_unauthenticated_method_suppressions_cover_only_health_preflight_and_the_unsubscribe_link(
    synth: Synthesized,
) -> None:
    methods = synth.resources("AWS::ApiGateway::Method")
    for logical_id, rule in suppressions(synth):
        if rule["id"] in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
            props = methods[logical_id]["Properties"]
            assert props["AuthorizationType"] == "NONE"
            if props["HttpMethod"] == "ANY":
                resource = synth.json["Resources"][props["ResourceId"]["Ref"]]
                # The signed one-click unsubscribe link of an email, and nothing else.
                assert resource["Properties"]["PathPart"] == "{token}"
                parent = synth.json["Resources"][resource["Properties"]["ParentId"]["Ref"]]
                assert parent["Properties"]["PathPart"] == "unsubscribe"
                continue
            assert props["HttpMethod"] in ("GET", "OPTIONS")
            if props["HttpMethod"] == "GET":
                resource = synth.json["Resources"][props["ResourceId"]["Ref"]]
                assert resource["Properties"]["PathPart"] == "health"


def test_the_only_bucket_without_access_logs_is_the_access_log_bucket(synth: Synthesized) -> None:
    log_bucket = synth.logical_id(synth.stack.reference_data.log_bucket)
    policy = synth.logical_id(synth.stack.reference_data.log_bucket.policy)
    s1 = {logical_id for logical_id, rule in suppressions(synth) if rule["id"] == "AwsSolutions-S1"}
    assert s1 == {log_bucket, policy}  # the log bucket and its policy
    for logical_id, bucket in synth.resources("AWS::S3::Bucket").items():
        if logical_id != log_bucket:
            assert bucket["Properties"]["LoggingConfiguration"]["DestinationBucketName"] == {
                "Ref": log_bucket
            }
