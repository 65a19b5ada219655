"""The optional dashboard hosting (infra/web.py, `-c web=true`): a private bucket behind CloudFront with
origin access control, HTTPS only, security headers, the SPA fallback, a deployment of web/ with a
generated config, Cognito sign-in for the distribution, cdk-nag and cfn-lint clean, and no Docker."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Annotations, Match
from cfnlint.api import ManualArgs, lint_file  # type: ignore[import-untyped]

from infra.web import config_module
from tests.infra.conftest import ROOT, SENDER_ADDRESS, SES_IDENTITY, Synthesized, synthesize
from tests.infra.test_cfn_lint import ALLOWED_WARNINGS, REGIONS
from tracker import constants as c

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

# No frontendOrigin: with the web hosting on, the API's CORS origin becomes the distribution's.
REQUIRED = {"senderAddress": SENDER_ADDRESS, "sesIdentity": SES_IDENTITY}
WEB_CONTEXT = {**REQUIRED, "web": "true"}

# The findings the web construct accepts (infra/web.py gives each its reason).
EXPECTED_WEB_SUPPRESSIONS = {
    "AwsSolutions-S1",  # the log bucket itself
    "AwsSolutions-CFR1",  # no geo restriction
    "AwsSolutions-CFR2",  # no WAF by default (warning)
    "AwsSolutions-CFR4",  # default cloudfront.net certificate
    "AwsSolutions-IAM5",  # BucketDeployment's grants
    "AwsSolutions-L1",  # BucketDeployment's handler runtime, chosen by aws-cdk-lib
}


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(tmp_path_factory.mktemp("cdk-out-web"), WEB_CONTEXT)


def one(synth: Synthesized, resource_type: str) -> tuple[str, dict[str, Any]]:
    found = synth.resources(resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
    return next(iter(found.items()))


def site_bucket(synth: Synthesized) -> tuple[str, dict[str, Any]]:
    logical_id = synth.logical_id(synth.stack.web.bucket)
    return logical_id, synth.json["Resources"][logical_id]


def distribution_origin(synth: Synthesized) -> dict[str, Any]:
    return {
        "Fn::Join": [
            "",
            ["https://", {"Fn::GetAtt": [synth.logical_id(synth.stack.web.distribution), "DomainName"]}],
        ]
    }


def bucket_policy(synth: Synthesized, bucket_id: str) -> list[dict[str, Any]]:
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in synth.resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    assert len(policies) == 1
    statements: list[dict[str, Any]] = policies[0]
    return statements


# --- Off by default ---------------------------------------------------------------------------------


def test_disabled_by_default_creates_nothing(synth: Synthesized) -> None:
    assert synth.stack.web is None
    for resource_type in (
        "AWS::CloudFront::Distribution",
        "AWS::CloudFront::OriginAccessControl",
        "Custom::CDKBucketDeployment",
        "AWS::Cognito::UserPoolDomain",
    ):
        assert synth.resources(resource_type) == {}, resource_type
    # The only buckets are the reference data's and the exports' (infra/reference_data.py, exports.py).
    assert all(
        logical_id.startswith(("ReferenceData", "Exports"))
        for logical_id in synth.resources("AWS::S3::Bucket")
    )
    assert "WebUrl" not in synth.json["Outputs"]


# --- Bucket and distribution -----------------------------------------------------------------------


def test_site_bucket_is_private_encrypted_tls_only_and_logged(web: Synthesized) -> None:
    bucket_id, bucket = site_bucket(web)
    props = bucket["Properties"]
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
    log_bucket_id = web.logical_id(web.stack.web.log_bucket)
    assert props["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": log_bucket_id}
    assert "WebsiteConfiguration" not in props  # served by CloudFront only, never as an S3 website

    statements = bucket_policy(web, bucket_id)
    deny_plain_http = [s for s in statements if s["Effect"] == "Deny"]
    assert deny_plain_http
    assert deny_plain_http[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert len(allows) == 1, "only CloudFront may read the bucket"
    (allow,) = allows
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    source_arn = json.dumps(allow["Condition"]["StringEquals"]["AWS:SourceArn"])
    assert web.logical_id(web.stack.web.distribution) in source_arn  # this distribution only

    log_bucket = web.json["Resources"][log_bucket_id]["Properties"]
    assert log_bucket["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True
    assert log_bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert any(s["Effect"] == "Deny" for s in bucket_policy(web, log_bucket_id))


def test_distribution_reads_the_bucket_through_origin_access_control(web: Synthesized) -> None:
    oac_id, oac = one(web, "AWS::CloudFront::OriginAccessControl")
    config = oac["Properties"]["OriginAccessControlConfig"]
    assert config["OriginAccessControlOriginType"] == "s3"
    assert config["SigningBehavior"] == "always"
    assert config["SigningProtocol"] == "sigv4"
    assert web.resources("AWS::CloudFront::CloudFrontOriginAccessIdentity") == {}

    _, distribution = one(web, "AWS::CloudFront::Distribution")
    (origin,) = distribution["Properties"]["DistributionConfig"]["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [oac_id, "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    bucket_id, _ = site_bucket(web)
    assert origin["DomainName"] == {"Fn::GetAtt": [bucket_id, "RegionalDomainName"]}


def test_distribution_is_https_only_with_a_root_object_and_the_spa_fallback(web: Synthesized) -> None:
    _, distribution = one(web, "AWS::CloudFront::Distribution")
    config = distribution["Properties"]["DistributionConfig"]
    behaviors = [config["DefaultCacheBehavior"], *config.get("CacheBehaviors", [])]
    assert {b["ViewerProtocolPolicy"] for b in behaviors} == {"redirect-to-https"}
    assert config["DefaultCacheBehavior"]["AllowedMethods"] == ["GET", "HEAD"]
    assert config["DefaultRootObject"] == "index.html"
    assert sorted(
        (r["ErrorCode"], r["ResponseCode"], r["ResponsePagePath"]) for r in config["CustomErrorResponses"]
    ) == [
        (403, 200, "/index.html"),
        (404, 200, "/index.html"),
    ]
    assert config["Logging"]["Bucket"] == {
        "Fn::GetAtt": [web.logical_id(web.stack.web.log_bucket), "RegionalDomainName"]
    }
    policy_id, policy = one(web, "AWS::CloudFront::ResponseHeadersPolicy")
    assert config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] == {"Ref": policy_id}
    headers = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["ContentTypeOptions"]["Override"] is True
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
    csp = json.dumps(headers["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    for directive in (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp


# --- Deployment, configuration and sign-in -----------------------------------------------------------


def test_deployment_uploads_web_and_a_generated_config(web: Synthesized) -> None:
    _, deployment = one(web, "Custom::CDKBucketDeployment")
    props = deployment["Properties"]
    bucket_id, _ = site_bucket(web)
    assert props["DestinationBucketName"] == {"Ref": bucket_id}
    assert props["DistributionId"] == {"Ref": web.logical_id(web.stack.web.distribution)}
    assert props["DistributionPaths"] == ["/*"]
    assert props["Prune"] is True
    assert props["SystemMetadata"] == {"cache-control": "no-cache"}
    # Two sources: web/ itself, and config.js filled in at deploy time with the stack's values.
    assert len(props["SourceObjectKeys"]) == 2
    markers = json.dumps(props["SourceMarkers"][1])
    api = web.stack.api
    for construct in (api.rest_api, api.user_pool, api.user_pool_client, web.stack.web.auth_domain):
        assert f'"Ref": "{web.logical_id(construct)}"' in markers, construct.node.path

    # config.js is an ES module exporting the settings web/auth.js reads (values resolved at deploy time).
    config = config_module({"mode": "cognito", "apiUrl": "https://api.example/v1/", "scopes": ["openid"]})
    assert config.startswith("// Generated at deploy time")
    body = json.loads(config.split("export default ", 1)[1].rstrip().removesuffix(";"))
    assert body == {"mode": "cognito", "apiUrl": "https://api.example/v1/", "scopes": ["openid"]}
    for key in ("apiUrl", "clientId", "authDomain", "scopes", "mode"):
        assert (
            f"config.{key}" in (ROOT / "web" / "auth.js").read_text() + (ROOT / "web" / "app.js").read_text()
        )


def test_synthesis_needs_no_docker(web: Synthesized) -> None:
    manifest = json.loads(next(Path(web.app.synth().directory).glob("*.assets.json")).read_text())
    assert manifest.get("dockerImages", {}) == {}
    for asset in manifest["files"].values():
        assert asset["source"].get("executable") is None  # no bundling command either
    web_dir = [a for a in manifest["files"].values() if Path(a["source"]["path"]).name == "web"]
    assert len(web_dir) == 1
    assert web_dir[0]["source"]["packaging"] == "zip"


def test_the_app_client_signs_in_to_the_dashboard_only(web: Synthesized) -> None:
    _, client = one(web, "AWS::Cognito::UserPoolClient")
    props = client["Properties"]
    dashboard = {
        "Fn::Join": [
            "",
            ["https://", {"Fn::GetAtt": [web.logical_id(web.stack.web.distribution), "DomainName"]}, "/"],
        ]
    }
    assert props["CallbackURLs"] == [dashboard]
    assert props["LogoutURLs"] == [dashboard]
    assert props["AllowedOAuthFlows"] == ["code"]  # no implicit flow, no client credentials
    assert props["AllowedOAuthFlowsUserPoolClient"] is True
    assert props["AllowedOAuthScopes"] == ["openid", "email", "profile"]
    assert props["SupportedIdentityProviders"] == ["COGNITO"]
    assert props["GenerateSecret"] is False  # a public client: PKCE is what binds the code to it
    # The dashboard sends an S256 PKCE challenge with every authorization request.
    auth_js = (ROOT / "web" / "auth.js").read_text()
    assert "code_challenge_method" in auth_js
    assert '"S256"' in auth_js or "'S256'" in auth_js
    _, domain = one(web, "AWS::Cognito::UserPoolDomain")
    assert domain["Properties"]["UserPoolId"] == {"Ref": web.logical_id(web.stack.api.user_pool)}
    assert {"WebUrl", "WebSignInDomain"} <= set(web.json["Outputs"])


def test_the_api_allows_the_distribution_as_its_cors_origin(web: Synthesized) -> None:
    origin = distribution_origin(web)
    api_functions = [
        f
        for f in web.resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") in (c.READ_API_HANDLER, c.SEND_API_HANDLER)
    ]
    assert len(api_functions) == 2
    for api_function in api_functions:
        assert api_function["Properties"]["Environment"]["Variables"][c.ENV_ALLOWED_ORIGIN] == origin
    preflights = [
        m["Properties"]
        for m in web.resources("AWS::ApiGateway::Method").values()
        if m["Properties"]["HttpMethod"] == "OPTIONS"
    ]
    assert preflights
    for method in preflights:
        header = method["Integration"]["IntegrationResponses"][0]["ResponseParameters"][
            "method.response.header.Access-Control-Allow-Origin"
        ]
        assert web.logical_id(web.stack.web.distribution) in json.dumps(header)


# --- Checks -------------------------------------------------------------------------------------------


def test_no_unsuppressed_nag_findings(web: Synthesized) -> None:
    annotations = Annotations.from_stack(web.stack)
    errors = annotations.find_error("*", Match.string_like_regexp("AwsSolutions-.*"))
    warnings = annotations.find_warning("*", Match.string_like_regexp("AwsSolutions-.*"))
    assert [f"{e.id}: {e.entry.data}" for e in [*errors, *warnings]] == []


def test_web_suppressions_are_the_reviewed_ones_with_reasons(web: Synthesized) -> None:
    web_ids = {
        logical_id
        for logical_id in web.json["Resources"]
        if logical_id.startswith(("Web", "CustomCDKBucketDeployment"))
    }
    found: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for logical_id in web_ids:
        for rule in (
            web.json["Resources"][logical_id]
            .get("Metadata", {})
            .get("cdk_nag", {})
            .get("rules_to_suppress", [])
        ):
            found.setdefault(rule["id"], []).append((logical_id, rule))
            words = re.findall(r"[A-Za-z']+", rule["reason"])
            assert len(words) >= 12, (logical_id, rule)
            assert rule["reason"].rstrip().endswith("."), (logical_id, rule)
    assert set(found) == EXPECTED_WEB_SUPPRESSIONS
    for logical_id, rule in found["AwsSolutions-IAM5"]:
        assert logical_id.startswith("WebDeploymentRole"), logical_id
        assert rule.get("applies_to"), "an IAM5 suppression must name its wildcards"
    s1 = [logical_id for logical_id, _ in found["AwsSolutions-S1"]]
    assert s1
    assert all(i.startswith("WebLogs") for i in s1), s1  # the log bucket and its policy


def test_cfn_lint_is_clean(web: Synthesized, tmp_path: Path) -> None:
    template = tmp_path / "DeliveryTrackerWeb.template.json"
    template.write_text(json.dumps(web.json, indent=1))
    matches = lint_file(template, ManualArgs(regions=REGIONS))
    problems = [
        f"{m.rule.id} {m.message} ({'/'.join(map(str, m.path))})"
        for m in matches
        if m.rule.id.startswith("E") or m.rule.id not in ALLOWED_WARNINGS
    ]
    assert problems == []


# --- Settings -------------------------------------------------------------------------------------------


class FakeNode:
    def __init__(self, context: dict[str, Any]) -> None:
        self.context = context

    def try_get_context(self, key: str) -> Any:
        return self.context.get(key)


@pytest.mark.parametrize(
    ("value", "enabled"),
    [
        (None, False),
        ("false", False),
        ("0", False),
        ("true", True),
        ("TRUE", True),
        ("1", True),
        (True, True),
    ],
)
def test_the_web_flag(value: Any, enabled: bool) -> None:
    from infra.settings import settings_from_context

    context = {**REQUIRED} if value is None else {**REQUIRED, "web": value}
    assert settings_from_context(FakeNode(context)).web_enabled is enabled  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"web": "maybe"}, "web must be true or false"),
        ({"webAuthDomainPrefix": "Has-Capitals"}, "webAuthDomainPrefix"),
        ({"webAuthDomainPrefix": "my-cognito-login"}, "webAuthDomainPrefix"),
        ({"webAuthDomainPrefix": "-leading"}, "webAuthDomainPrefix"),
    ],
)
def test_invalid_web_settings_fail_with_a_message(context: dict[str, Any], message: str) -> None:
    from infra.settings import settings_from_context

    with pytest.raises(ValueError, match=message):
        settings_from_context(FakeNode({**REQUIRED, **context}))  # type: ignore[arg-type]


def test_web_with_an_existing_user_pool_is_refused_with_a_message() -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_cognito as cognito

    from infra.web import WebHosting

    stack = cdk.Stack(cdk.App(), "WebOnly")
    hosting = WebHosting(stack, "Web")
    pool = cognito.UserPool.from_user_pool_id(stack, "Pool", "eu-west-1_AbC123")
    with pytest.raises(ValueError, match="existingUserPoolId"):
        hosting.publish(
            api_url="https://api.example/v1/",
            user_pool=pool,
            user_pool_client=None,
            auth_domain_prefix="delivery-tracker-test",
        )


def test_checkov_finds_only_reviewed_checks(web: Synthesized, tmp_path: Path) -> None:
    from tests.infra.test_checkov import SKIPPED, assert_only_skipped_checks_fail, run_checkov

    failures = run_checkov({"DeliveryTrackerWeb": web.json}, tmp_path)
    assert_only_skipped_checks_fail(failures, set(SKIPPED))
