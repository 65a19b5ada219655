"""Runtime settings, read from the environment when a handler first needs them (never at import)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

from tracker import constants

# Interpreter-level settings every function gets (infra.functions; the cold-start bench imitates a
# function's environment with them too). The layer ships no pydantic plugin, so pydantic need not
# scan every installed distribution's entry points for plugins when it builds its first model.
FUNCTION_RUNTIME_ENVIRONMENT = {"PYDANTIC_DISABLE_PLUGINS": "__all__"}


@dataclass(frozen=True)
class Settings:
    table_name: str
    region: str | None
    dynamodb_endpoint: str | None
    event_log_retention: timedelta

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            table_name=os.environ.get(constants.ENV_TABLE_NAME, constants.TABLE_NAME),
            region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
            # Local mode points the handlers at the embedded emulator; unset in AWS.
            dynamodb_endpoint=os.environ.get("DYNAMODB_ENDPOINT_URL") or None,
            event_log_retention=timedelta(
                days=int(
                    os.environ.get(
                        constants.ENV_EVENT_LOG_RETENTION_DAYS, constants.DEFAULT_EVENT_LOG_RETENTION_DAYS
                    )
                )
            ),
        )


# --- Added by the send path (issue 3) --------------------------------------------


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


@dataclass(frozen=True)
class SendSettings:
    """What the API (POST /messages), the sender and the ingest path's suppression hook need."""

    send_queue_url: str | None
    configuration_set: str
    sender_address: str | None
    # Recipients per send job (one SQS message). The sender takes up to 10 jobs per invocation and
    # spends ~3 DynamoDB writes + 1 SES call (~50-100 ms) per recipient: 10 x 10 stays far inside its
    # 30-second timeout, and the sender also stops early when time runs short.
    chunk_size: int = 10
    permanent_bounces_to_suppress: int = 2
    complaints_to_suppress: int = 1
    transient_bounces_to_suppress: int = 5
    transient_bounce_window: timedelta = timedelta(days=30)

    @classmethod
    def from_env(cls) -> SendSettings:
        return cls(
            send_queue_url=os.environ.get(constants.ENV_SEND_QUEUE_URL) or None,
            configuration_set=os.environ.get(constants.ENV_CONFIGURATION_SET)
            or constants.CONFIGURATION_SET_NAME,
            sender_address=os.environ.get(constants.ENV_SENDER_ADDRESS) or None,
            chunk_size=_int_env(constants.ENV_SEND_CHUNK_SIZE, 10),
            permanent_bounces_to_suppress=_int_env(constants.ENV_SUPPRESS_PERMANENT_BOUNCES, 2),
            complaints_to_suppress=_int_env(constants.ENV_SUPPRESS_COMPLAINTS, 1),
            transient_bounces_to_suppress=_int_env(constants.ENV_SUPPRESS_TRANSIENT_BOUNCES, 5),
            transient_bounce_window=timedelta(
                days=_int_env(constants.ENV_SUPPRESS_TRANSIENT_WINDOW_DAYS, 30)
            ),
        )


CURSOR_SECRET_MAX_AGE_SECONDS = 900


def cursor_secret() -> bytes:
    """The key that signs pagination cursors: ``CURSOR_SECRET`` (local mode, tests) or the Secrets
    Manager secret named by ``CURSOR_SECRET_ARN`` (AWS), fetched through Powertools parameters
    (cached for a while, so a warm function does not call Secrets Manager per request)."""
    value = os.environ.get(constants.ENV_CURSOR_SECRET)
    if value:
        return value.encode()
    arn = os.environ.get(constants.ENV_CURSOR_SECRET_ARN)
    if not arn:
        raise RuntimeError(
            f"set {constants.ENV_CURSOR_SECRET} or {constants.ENV_CURSOR_SECRET_ARN} to sign pagination cursors"
        )
    from aws_lambda_powertools.utilities import parameters

    secret = parameters.get_secret(arn, max_age=CURSOR_SECRET_MAX_AGE_SECONDS)
    if isinstance(secret, bytes):
        return secret
    if isinstance(secret, str):
        return secret.encode()
    raise RuntimeError("the cursor secret must be a plain string")
