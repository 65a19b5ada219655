"""Two stages in one account and region: every name that must be unique there differs between them.

The names are read from the templates as CloudFormation would resolve them for one account and
region; a name built from another resource's generated id is unique by construction and skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.infra.conftest import SENDER_ADDRESS, SES_IDENTITY, Synthesized, synthesize
from tracker import constants as c

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

ACCOUNT = "111111111111"
PRODUCTION_DOMAIN_PREFIX = "acme-tracker-login"
PRODUCTION_WEB_DOMAIN = "tracker.acme.example"
PRODUCTION_CERTIFICATE = f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
REGION = "eu-west-1"
# Physical names that must be unique per account and region (CloudWatch dashboards and CloudFront
# policies per account). Names that may repeat (a REST API's, an inline policy's) are not listed.
UNIQUE_NAMES = {
    "AWS::SES::ConfigurationSet": ("Name",),
    "AWS::Cognito::UserPoolDomain": ("Domain",),
    "AWS::CloudWatch::Dashboard": ("DashboardName",),
    "AWS::CloudFront::ResponseHeadersPolicy": ("ResponseHeadersPolicyConfig", "Name"),
    "AWS::CloudFront::OriginAccessControl": ("OriginAccessControlConfig", "Name"),
    "AWS::DynamoDB::GlobalTable": ("TableName",),
    "AWS::SQS::Queue": ("QueueName",),
    "AWS::SNS::Topic": ("TopicName",),
    "AWS::Lambda::Function": ("FunctionName",),
    "AWS::Logs::LogGroup": ("LogGroupName",),
    "AWS::IAM::Role": ("RoleName",),
    "AWS::S3::Bucket": ("BucketName",),
    "AWS::CloudWatch::Alarm": ("AlarmName",),
    "AWS::KMS::Alias": ("AliasName",),
    "AWS::SecretsManager::Secret": ("Name",),
    "AWS::Cognito::UserPool": ("UserPoolName",),
}


def stage_context(stage: str) -> dict[str, Any]:
    return {"senderAddress": SENDER_ADDRESS, "sesIdentity": SES_IDENTITY, "web": "true", "stage": stage}


@pytest.fixture(scope="module")
def staging(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(tmp_path_factory.mktemp("cdk-out-staging"), stage_context("staging"))


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    # Production also names its Cognito domain itself: an explicit prefix is used as given.
    context = {
        **stage_context("prod"),
        "webAuthDomainPrefix": PRODUCTION_DOMAIN_PREFIX,
        "webDomainName": PRODUCTION_WEB_DOMAIN,
        "webCertificateArn": PRODUCTION_CERTIFICATE,
    }
    return synthesize(tmp_path_factory.mktemp("cdk-out-prod"), context)


class GeneratedNameError(Exception):
    """The value refers to another resource: CloudFormation generates it, unique by construction."""


def resolve(value: Any, stack_name: str) -> str:
    pseudo = {"AWS::StackName": stack_name, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}
    pseudo["AWS::Partition"] = "aws"
    pseudo["AWS::URLSuffix"] = "amazonaws.com"
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value:
        if value["Ref"] in pseudo:
            return pseudo[value["Ref"]]
        raise GeneratedNameError
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(resolve(part, stack_name) for part in parts)
    raise GeneratedNameError


def unique_names(synth: Synthesized) -> Iterator[tuple[str, str]]:
    for resource_type, path in UNIQUE_NAMES.items():
        for resource in synth.resources(resource_type).values():
            value: Any = resource["Properties"]
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            if value is None:
                continue  # no physical name: CloudFormation generates one
            try:
                yield resource_type, resolve(value, synth.stack.stack_name)
            except GeneratedNameError:
                continue


def test_two_stages_synthesize_side_by_side_with_no_clashing_name(
    staging: Synthesized, production: Synthesized
) -> None:
    assert staging.stack.stack_name == f"staging-{c.STACK_NAME}"
    assert production.stack.stack_name == f"prod-{c.STACK_NAME}"
    names = {
        stage: dict(unique_names(synth)) for stage, synth in (("staging", staging), ("prod", production))
    }
    sets = sorted(name for kind, name in unique_names(staging) if kind == "AWS::SES::ConfigurationSet")
    assert sets == [f"staging-{c.CONFIGURATION_SET_NAME}", f"staging-{c.UNTRACKED_CONFIGURATION_SET_NAME}"]
    # The names a stage must prefix are there (the check below would pass vacuously otherwise).
    names["staging"].pop("AWS::SES::ConfigurationSet")  # one entry per type: the two sets are above
    assert names["staging"] == {
        "AWS::Cognito::UserPoolDomain": f"staging-{c.SERVICE_NAME}-{ACCOUNT}",
        "AWS::CloudWatch::Dashboard": f"staging-{c.STACK_NAME}-{REGION}",
        "AWS::CloudFront::ResponseHeadersPolicy": f"staging-{c.STACK_NAME}-web-{REGION}",
        "AWS::CloudFront::OriginAccessControl": names["staging"]["AWS::CloudFront::OriginAccessControl"],
    }
    staging_names = set(unique_names(staging))
    production_names = set(unique_names(production))
    assert len(staging_names) == len(production_names) == 6
    assert staging_names & production_names == set()


def test_each_stage_uses_its_own_configuration_set_everywhere(staging: Synthesized) -> None:
    name = f"staging-{c.CONFIGURATION_SET_NAME}"
    assert staging.json["Outputs"]["ConfigurationSetName"]["Value"] == name
    ours = [
        f["Properties"]["Environment"]["Variables"]
        for f in staging.resources("AWS::Lambda::Function").values()
        if f["Properties"]["Handler"]
        in (c.INGEST_HANDLER, c.PROJECTOR_HANDLER, c.SENDER_HANDLER, c.READ_API_HANDLER, c.SEND_API_HANDLER)
    ]
    assert len(ours) == 5
    assert {env[c.ENV_CONFIGURATION_SET] for env in ours} == {name}
    template = str(staging.json)
    # The sender's SES grant and the events topic's SourceArn name the stage's configuration set only.
    assert f":configuration-set/{name}" in template
    assert f":configuration-set/{c.CONFIGURATION_SET_NAME}'" not in template
    tags = staging.resources("AWS::SQS::Queue")
    assert all({"Key": "stage", "Value": "staging"} in q["Properties"]["Tags"] for q in tags.values())


def test_an_explicit_domain_prefix_is_used_as_given(production: Synthesized) -> None:
    (domain,) = production.resources("AWS::Cognito::UserPoolDomain").values()
    assert domain["Properties"]["Domain"] == PRODUCTION_DOMAIN_PREFIX


def test_a_custom_domain_requires_tls_1_2_2021_and_is_the_only_sign_in_callback(
    production: Synthesized, staging: Synthesized
) -> None:
    (distribution,) = production.resources("AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    assert config["Aliases"] == [PRODUCTION_WEB_DOMAIN]
    assert config["ViewerCertificate"] == {
        "AcmCertificateArn": PRODUCTION_CERTIFICATE,
        "MinimumProtocolVersion": "TLSv1.2_2021",
        "SslSupportMethod": "sni-only",
    }
    (client,) = production.resources("AWS::Cognito::UserPoolClient").values()
    assert client["Properties"]["CallbackURLs"] == [f"https://{PRODUCTION_WEB_DOMAIN}/"]
    assert production.json["Outputs"]["WebUrl"]["Value"] == f"https://{PRODUCTION_WEB_DOMAIN}/"
    suppressed = {
        rule["id"]
        for resource in production.resources("AWS::CloudFront::Distribution").values()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    }
    assert "AwsSolutions-CFR4" not in suppressed
    # With the default certificate CloudFront fixes TLSv1 whatever the template says: CFR4 stays
    # suppressed with that reason, and the template still asks for TLSv1.2_2021.
    (default,) = staging.resources("AWS::CloudFront::Distribution").values()
    assert "Aliases" not in default["Properties"]["DistributionConfig"]
    reasons = [
        rule["reason"]
        for rule in default.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
        if rule["id"] == "AwsSolutions-CFR4"
    ]
    assert len(reasons) == 1
    assert "webDomainName" in reasons[0]
