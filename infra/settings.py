"""Deployment settings, read from CDK context values (`cdk deploy -c name=value` or cdk.json)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from constructs import Node

from tracker import constants as c

DEFAULT_SENDER_ADDRESS = "no-reply@example.com"
DEFAULT_FRONTEND_ORIGIN = "http://127.0.0.1:8000"  # the dashboard in local mode (`make run`)

_EMAIL = re.compile(r"^[^@\s]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,}$")
_DOMAIN = re.compile(r"^([A-Za-z0-9-]+\.)+[A-Za-z]{2,}$")
_ORIGIN = re.compile(r"^(https://[^/\s]+|http://(localhost|127\.0\.0\.1)(:\d+)?)$")
_USER_POOL_ID = re.compile(r"^[a-z]{2}-[a-z]+-\d_[0-9A-Za-z]+$")
_DOMAIN_PREFIX = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


@dataclass(frozen=True)
class Settings:
    sender_address: str
    ses_identity: str  # a verified SES domain or email address identity
    frontend_origin: str
    existing_user_pool_id: str | None
    alarm_email: str | None
    event_log_retention_days: int
    # The dashboard's hosting (infra/web.py): off unless `-c web=true`.
    web_enabled: bool = False
    web_auth_domain_prefix: str | None = None  # Cognito hosted UI prefix; default delivery-tracker-<account>

    def __post_init__(self) -> None:
        if not _EMAIL.match(self.sender_address):
            raise ValueError(f"senderAddress {self.sender_address!r} is not an email address")
        if _EMAIL.match(self.ses_identity):
            if self.ses_identity.lower() != self.sender_address.lower():
                raise ValueError("sesIdentity is an address identity, so it must equal senderAddress")
        elif _DOMAIN.match(self.ses_identity):
            if not self.sender_address.lower().endswith("@" + self.ses_identity.lower()):
                raise ValueError(
                    f"senderAddress must be an address of the sesIdentity domain {self.ses_identity}"
                )
        else:
            raise ValueError(f"sesIdentity {self.ses_identity!r} is neither a domain nor an email address")
        if not _ORIGIN.match(self.frontend_origin):
            raise ValueError(
                "frontendOrigin must be https://host[:port] (or http://localhost / http://127.0.0.1), "
                f"without a path: {self.frontend_origin!r}"
            )
        if self.existing_user_pool_id is not None and not _USER_POOL_ID.match(self.existing_user_pool_id):
            raise ValueError(f"existingUserPoolId {self.existing_user_pool_id!r} is not a user pool id")
        if self.alarm_email is not None and not _EMAIL.match(self.alarm_email):
            raise ValueError(f"alarmEmail {self.alarm_email!r} is not an email address")
        if not 1 <= self.event_log_retention_days <= 3650:
            raise ValueError("eventLogRetentionDays must be between 1 and 3650")
        if self.web_auth_domain_prefix is not None and (
            not _DOMAIN_PREFIX.match(self.web_auth_domain_prefix)
            or any(word in self.web_auth_domain_prefix for word in ("aws", "amazon", "cognito"))
        ):
            raise ValueError(
                f"webAuthDomainPrefix {self.web_auth_domain_prefix!r}: 1-63 lowercase letters, digits or "
                "'-' (not at either end), without 'aws', 'amazon' or 'cognito'"
            )


def _text(node: Node, key: str) -> str | None:
    value = node.try_get_context(key)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _flag(node: Node, key: str) -> bool:
    text = _text(node, key)
    if text is None or text.lower() in _FALSE:
        return False
    if text.lower() in _TRUE:
        return True
    raise ValueError(f"{key} must be true or false, not {text!r}")


def settings_from_context(node: Node) -> Settings:
    """Every value has a default, so `cdk synth` works offline with no context at all."""
    sender = _text(node, "senderAddress") or DEFAULT_SENDER_ADDRESS
    identity = _text(node, "sesIdentity") or sender.rpartition("@")[2]
    retention = _text(node, "eventLogRetentionDays")
    return Settings(
        sender_address=sender,
        ses_identity=identity,
        frontend_origin=(_text(node, "frontendOrigin") or DEFAULT_FRONTEND_ORIGIN).rstrip("/"),
        existing_user_pool_id=_text(node, "existingUserPoolId"),
        alarm_email=_text(node, "alarmEmail"),
        event_log_retention_days=int(retention) if retention else c.DEFAULT_EVENT_LOG_RETENTION_DAYS,
        web_enabled=_flag(node, "web"),
        web_auth_domain_prefix=_text(node, "webAuthDomainPrefix"),
    )
