"""Context values: the required ones, defaults that synthesize offline, validation with clear
messages, and the two alternative shapes of the stack (only the required context; an existing pool)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Annotations, Match

from tests.infra.conftest import ROOT, SENDER_ADDRESS, SES_IDENTITY, synthesize
from tracker import constants as c

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


class FakeNode:
    def __init__(self, context: dict[str, Any]) -> None:
        self.context = context

    def try_get_context(self, key: str) -> Any:
        return self.context.get(key)


def settings(**context: Any) -> Any:
    from infra.settings import settings_from_context

    return settings_from_context(FakeNode(context))  # type: ignore[arg-type]


REQUIRED = {"senderAddress": SENDER_ADDRESS, "sesIdentity": SES_IDENTITY}


def test_optional_values_have_their_documented_defaults() -> None:
    s = settings(**REQUIRED)
    assert s.sender_address == SENDER_ADDRESS
    assert s.ses_identity == SES_IDENTITY
    assert s.frontend_origin == "http://127.0.0.1:8000"
    assert s.existing_user_pool_id is None
    assert s.alarm_email is None
    assert (s.message_retention_days, s.recipient_retention_days, s.content_retention_days) == (
        c.DEFAULT_MESSAGE_RETENTION_DAYS,
        c.DEFAULT_RECIPIENT_RETENTION_DAYS,
        c.DEFAULT_CONTENT_RETENTION_DAYS,
    )
    assert s.stage is None
    assert s.stack_name == c.STACK_NAME
    assert s.configuration_set_name == c.CONFIGURATION_SET_NAME
    assert s.untracked_configuration_set_name == c.UNTRACKED_CONFIGURATION_SET_NAME
    assert s.tracking_environment[c.ENV_UNTRACKED_KINDS] == "invoice"
    assert s.unsubscribe_base_url is None  # the API's own URL
    assert s.tracing_environment == {c.ENV_SDK_TRACING: "false"}  # active tracing, no X-Ray SDK
    assert (s.table.warm_write_units, s.table.warm_read_units) == (10_000, 12_000)
    assert (s.table.max_write_units, s.table.max_read_units) == (20_000, 20_000)


@pytest.mark.parametrize(
    ("context", "missing"),
    [
        ({}, "senderAddress, sesIdentity"),
        ({"senderAddress": SENDER_ADDRESS}, "sesIdentity"),
        ({"sesIdentity": SES_IDENTITY, "senderAddress": " "}, "senderAddress"),
    ],
)
def test_the_sender_and_identity_are_required_with_a_message_saying_how(
    context: dict[str, Any], missing: str
) -> None:
    from infra.settings import SettingsError

    with pytest.raises(SettingsError, match=f"missing context value\\(s\\) {missing}:") as raised:
        settings(**context)
    assert "-c senderAddress=billing@acme.example -c sesIdentity=acme.example" in str(raised.value)


def test_app_py_exits_with_the_message_and_no_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "CDK_OUTDIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py")], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 1
    # The last line: jsii may print a Node.js version notice before it.
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: missing context value(s) senderAddress, sesIdentity:")
    assert "Traceback" not in result.stderr


def test_the_identity_may_be_the_address_and_values_are_normalized() -> None:
    assert (
        settings(senderAddress="a@acme.example", sesIdentity="a@acme.example").ses_identity
        == "a@acme.example"
    )
    assert (
        settings(**REQUIRED, frontendOrigin="https://app.acme.example/").frontend_origin
        == "https://app.acme.example"
    )
    assert settings(**REQUIRED, recipientRetentionDays=30).recipient_retention_days == 30
    # The name it had when each event was an item of its own.
    assert settings(**REQUIRED, eventLogRetentionDays=30).recipient_retention_days == 30
    assert settings(**REQUIRED, contentRetentionDays=7).content_retention_days == 7
    assert settings(**REQUIRED, tableMaxWriteUnits="30_000").table.max_write_units == 30_000


def test_a_stage_prefixes_the_stack_and_configuration_set_names() -> None:
    s = settings(**REQUIRED, stage="staging")
    assert s.stack_name == f"staging-{c.STACK_NAME}"
    assert s.configuration_set_name == f"staging-{c.CONFIGURATION_SET_NAME}"


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"senderAddress": "not-an-address", "sesIdentity": "acme.example"}, "senderAddress"),
        ({"senderAddress": "a@acme.example", "sesIdentity": "other.example"}, "sesIdentity domain"),
        ({"senderAddress": "a@acme.example", "sesIdentity": "b@acme.example"}, "must equal senderAddress"),
        ({"sesIdentity": "acme"}, "neither a domain nor an email address"),
        ({"frontendOrigin": "http://app.acme.example"}, "frontendOrigin"),
        ({"frontendOrigin": "https://app.acme.example/path"}, "frontendOrigin"),
        ({"existingUserPoolId": "pool"}, "existingUserPoolId"),
        ({"alarmEmail": "ops"}, "alarmEmail"),
        ({"recipientRetentionDays": "0"}, "recipientRetentionDays"),
        ({"eventLogRetentionDays": "a year"}, "eventLogRetentionDays must be a whole number"),
        ({"messageRetentionDays": "3651"}, "messageRetentionDays must be between"),
        ({"messageRetentionDays": "100"}, "recipientRetentionDays cannot exceed messageRetentionDays"),
        ({"contentRetentionDays": "800"}, "contentRetentionDays cannot exceed messageRetentionDays"),
        ({"attentionStuckHours": "0"}, "attentionStuckHours must be between 1 and 336"),
        ({"attentionStuckHours": "337"}, "attentionStuckHours must be between 1 and 336"),
        ({"stage": "Staging"}, "stage"),
        ({"stage": "stage_1"}, "stage"),
        ({"stage": "-staging"}, "stage"),
        ({"stage": "my-aws-test"}, "stage"),
        ({"stage": "a" * 21}, "stage"),
        ({"tableWarmWriteUnits": "1000"}, "tableWarmWriteUnits must be between 4000 and 40000"),
        ({"tableWarmReadUnits": "50000"}, "tableWarmReadUnits must be between 12000 and 40000"),
        ({"tableMaxWriteUnits": "0"}, "tableMaxWriteUnits"),
        ({"tableMaxWriteUnits": "8000"}, "warm throughput must not exceed"),
        ({"webDomainName": "tracker.acme.example"}, "webDomainName and webCertificateArn go together"),
        ({"untrackedKinds": "invoice,fax"}, "untrackedKinds: fax is not a kind"),
        ({"sdkTracing": "sometimes"}, "sdkTracing must be true or false"),
        ({"unsubscribeBaseUrl": "http://links.acme.example"}, "RFC 8058 requires HTTPS"),
        (
            {
                "webDomainName": "tracker.acme.example",
                "webCertificateArn": "arn:aws:acm:eu-west-1:111111111111:certificate/0a1b",
            },
            "in us-east-1",
        ),
    ],
)
def test_invalid_context_fails_synth_with_a_clear_message(context: dict[str, Any], message: str) -> None:
    from infra.settings import SettingsError

    with pytest.raises(SettingsError, match=message):
        settings(**{**REQUIRED, **context})


def test_synth_with_only_the_required_context_and_with_an_existing_user_pool(tmp_path: Path) -> None:
    """Two more shapes in one synthesis each: only the required values (every optional one at its
    default) must work, and an existing pool replaces the stack's own pool and client."""
    default = synthesize(tmp_path / "default", REQUIRED)
    assert len(default.resources("AWS::Cognito::UserPool")) == 1
    assert not default.resources("AWS::SNS::Subscription").keys() - {
        k
        for k, v in default.resources("AWS::SNS::Subscription").items()
        if v["Properties"]["Protocol"] == "sqs"
    }, "no alarm e-mail subscription without alarmEmail"

    pool_id = "eu-west-1_AbCdEf123"
    existing = synthesize(tmp_path / "existing", {**REQUIRED, "existingUserPoolId": pool_id})
    assert existing.resources("AWS::Cognito::UserPool") == {}
    assert existing.resources("AWS::Cognito::UserPoolClient") == {}
    (authorizer,) = existing.resources("AWS::ApiGateway::Authorizer").values()
    (arn,) = authorizer["Properties"]["ProviderARNs"]
    assert pool_id in str(arn)

    for shape in (default, existing):
        errors = Annotations.from_stack(shape.stack).find_error(
            "*", Match.string_like_regexp("AwsSolutions-.*")
        )
        assert [f"{e.id}: {e.entry.data}" for e in errors] == []


def test_engagement_thresholds_are_context_values_checked_at_synth() -> None:
    assert settings(**REQUIRED).engagement == {}
    tuned = settings(**REQUIRED, engagementClickAfterDeliverySeconds="10", engagementBurstMinLinks="3")
    assert tuned.engagement == {
        "ENGAGEMENT_CLICK_AFTER_DELIVERY_SECONDS": "10",
        "ENGAGEMENT_BURST_MIN_LINKS": "3",
    }
    from infra.settings import SettingsError

    with pytest.raises(SettingsError, match="engagementClickAfterDeliverySeconds"):
        settings(**REQUIRED, engagementClickAfterDeliverySeconds="soon")


def test_every_function_gets_the_engagement_thresholds(tmp_path: Path) -> None:
    synth = synthesize(tmp_path, {**REQUIRED, "engagementOpenAfterDeliverySeconds": "3"})
    functions = synth.resources("AWS::Lambda::Function").values()
    assert functions
    for function in functions:
        assert (
            function["Properties"]["Environment"]["Variables"]["ENGAGEMENT_OPEN_AFTER_DELIVERY_SECONDS"]
            == "3"
        )


def test_the_attention_queues_stuck_hours_are_a_context_value_the_functions_read() -> None:
    tuned = settings(**REQUIRED, attentionStuckHours="48")
    assert tuned.attention_stuck_hours == 48
    assert tuned.data_environment[c.ENV_ATTENTION_STUCK_HOURS] == "48"


def test_untracked_kinds_and_the_unsubscribe_base_are_context_values() -> None:
    s = settings(
        **REQUIRED, untrackedKinds="receipt, invoice", unsubscribeBaseUrl="https://links.acme.example/u"
    )
    assert s.tracking_environment[c.ENV_UNTRACKED_KINDS] == "invoice,receipt"
    assert s.unsubscribe_base_url == "https://links.acme.example/u"
    assert settings(**REQUIRED, untrackedKinds="none").tracking_environment[c.ENV_UNTRACKED_KINDS] == ""


def test_sdk_tracing_is_a_context_value_every_function_reads() -> None:
    assert settings(**REQUIRED, sdkTracing="true").tracing_environment == {c.ENV_SDK_TRACING: "true"}
