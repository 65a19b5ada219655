"""Context values: defaults that synthesize offline, validation with clear messages, and the two
alternative shapes of the stack (no context at all; an existing user pool)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Annotations, Match

from tests.infra.conftest import synthesize
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


def test_defaults_need_no_context() -> None:
    s = settings()
    assert s.sender_address == "no-reply@example.com"
    assert s.ses_identity == "example.com"
    assert s.frontend_origin == "http://127.0.0.1:8000"
    assert s.existing_user_pool_id is None
    assert s.alarm_email is None
    assert s.event_log_retention_days == c.DEFAULT_EVENT_LOG_RETENTION_DAYS


def test_identity_defaults_to_the_sender_domain_and_may_be_the_address() -> None:
    assert settings(senderAddress="a@mail.acme.example").ses_identity == "mail.acme.example"
    assert (
        settings(senderAddress="a@acme.example", sesIdentity="a@acme.example").ses_identity
        == "a@acme.example"
    )
    assert settings(frontendOrigin="https://app.acme.example/").frontend_origin == "https://app.acme.example"
    assert settings(eventLogRetentionDays=30).event_log_retention_days == 30


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"senderAddress": "not-an-address"}, "senderAddress"),
        ({"senderAddress": "a@acme.example", "sesIdentity": "other.example"}, "sesIdentity domain"),
        ({"senderAddress": "a@acme.example", "sesIdentity": "b@acme.example"}, "must equal senderAddress"),
        ({"frontendOrigin": "http://app.acme.example"}, "frontendOrigin"),
        ({"frontendOrigin": "https://app.acme.example/path"}, "frontendOrigin"),
        ({"existingUserPoolId": "pool"}, "existingUserPoolId"),
        ({"alarmEmail": "ops"}, "alarmEmail"),
        ({"eventLogRetentionDays": "0"}, "eventLogRetentionDays"),
    ],
)
def test_invalid_context_fails_synth_with_a_clear_message(context: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        settings(**context)


def test_synth_with_no_context_and_an_existing_user_pool(tmp_path: Path) -> None:
    """Two more shapes in one synthesis each: the default (as `cdk synth` with no -c) must work, and
    an existing pool replaces the stack's own pool and client."""
    default = synthesize(tmp_path / "default", {})
    assert len(default.resources("AWS::Cognito::UserPool")) == 1
    assert not default.resources("AWS::SNS::Subscription").keys() - {
        k
        for k, v in default.resources("AWS::SNS::Subscription").items()
        if v["Properties"]["Protocol"] == "sqs"
    }, "no alarm e-mail subscription without alarmEmail"

    pool_id = "eu-west-1_AbCdEf123"
    existing = synthesize(tmp_path / "existing", {"existingUserPoolId": pool_id})
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
