"""Runtime settings, read from the environment the stack gives each function.

In Lambda every variable a function needs must be set: ``require_environment`` runs at cold start
(when the handler module is imported) and names each missing one, so a broken deployment fails at
once and visibly instead of on every request. Outside Lambda (local mode, tests) the variables that
are not set fall back to local mode's names.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from tracker import constants
from tracker.domain.draft_limits import (
    DEFAULT_BATCH_ROWS,
    DEFAULT_MAX_RECIPIENTS,
    DEFAULT_OPEN_DRAFTS,
    DraftLimits,
)
from tracker.domain.engagement import DEFAULT_RULES, EngagementRules
from tracker.domain.retention import Retention
from tracker.domain.tracking import DEFAULT_UNTRACKED_KINDS, parse_kinds

# Interpreter-level settings every function gets (infra.functions; the cold-start bench imitates a
# function's environment with them too). The layer ships no pydantic plugin, so pydantic need not
# scan every installed distribution's entry points for plugins when it builds its first model.
FUNCTION_RUNTIME_ENVIRONMENT = {"PYDANTIC_DISABLE_PLUGINS": "__all__"}

# Lambda sets this in every function's environment; nothing else here does.
LAMBDA_MARKER = "AWS_LAMBDA_FUNCTION_NAME"

# What each function cannot run without (a tuple of names: any one of them will do).
REQUIRED: Mapping[str, tuple[tuple[str, ...], ...]] = {
    "ingest": ((constants.ENV_TABLE_NAME,),),
    "projector": ((constants.ENV_TABLE_NAME,),),
    "sender": (
        (constants.ENV_TABLE_NAME,),
        (constants.ENV_CONFIGURATION_SET,),
        (constants.ENV_UNTRACKED_CONFIGURATION_SET,),
        (constants.ENV_SENDER_ADDRESS,),
        # Every email carries its one-click unsubscribe link.
        (constants.ENV_UNSUBSCRIBE_BASE_URL,),
        (constants.ENV_UNSUBSCRIBE_SECRET_ARN, constants.ENV_UNSUBSCRIBE_SECRET),
    ),
    # The whole API in one function (local mode), and the two functions it is deployed as.
    "api": (
        (constants.ENV_TABLE_NAME,),
        (constants.ENV_SEND_QUEUE_URL,),
        (constants.ENV_CURSOR_SECRET_ARN, constants.ENV_CURSOR_SECRET),
    ),
    "read_api": (
        (constants.ENV_TABLE_NAME,),
        (constants.ENV_CURSOR_SECRET_ARN, constants.ENV_CURSOR_SECRET),
    ),
    "send_api": (
        (constants.ENV_TABLE_NAME,),
        (constants.ENV_SEND_QUEUE_URL,),
        (constants.ENV_CURSOR_SECRET_ARN, constants.ENV_CURSOR_SECRET),
        (constants.ENV_UNSUBSCRIBE_SECRET_ARN, constants.ENV_UNSUBSCRIBE_SECRET),
    ),
    # The refresher of Apple's ranges; the ingest function reads the same two, and without them
    # classifies with the shipped snapshot (local mode, tests).
    "apple_ranges": ((constants.ENV_APPLE_RANGES_BUCKET,), (constants.ENV_APPLE_RANGES_KEY,)),
    # The table's stream -> the event bus; the webhook DLQ -> the tenants' delivery failures.
    "events": ((constants.ENV_TABLE_NAME,), (constants.ENV_EVENT_BUS_NAME,)),
    "webhook_failures": ((constants.ENV_TABLE_NAME,),),
    # The export worker (docs/exports.md): it reads the table, writes the bucket, queues the rest.
    "exporter": (
        (constants.ENV_TABLE_NAME,),
        (constants.ENV_EXPORT_BUCKET,),
        (constants.ENV_EXPORT_QUEUE_URL,),
    ),
}


class SettingError(RuntimeError):
    """A variable the function needs is missing or invalid (a deployment error)."""


def running_in_lambda() -> bool:
    return bool(os.environ.get(LAMBDA_MARKER))


def require_environment(function: str) -> None:
    """In Lambda, fail now (cold start) if a variable ``function`` needs is missing or empty."""
    if not running_in_lambda():
        return
    missing = [
        " or ".join(names) for names in REQUIRED[function] if not any(os.environ.get(n) for n in names)
    ]
    if missing:
        raise SettingError(
            f"the {function} function cannot start: set {', '.join(missing)} in its environment"
        )


def _text(name: str, local_default: str | None) -> str | None:
    value = os.environ.get(name) or None
    if value is None and running_in_lambda() and local_default is not None:
        raise SettingError(f"{name} is not set")
    return value if value is not None else local_default


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise SettingError(f"{name} must be a whole number, not {raw!r}") from error


@dataclass(frozen=True)
class Settings:
    table_name: str
    region: str | None
    dynamodb_endpoint: str | None
    retention: Retention
    # The timing rules' thresholds (ENGAGEMENT_*, docs/engagement.md).
    engagement_rules: EngagementRules = DEFAULT_RULES
    # A recipient without Delivery this long after its message's first send makes it stuck.
    attention_stuck_after: timedelta = timedelta(hours=constants.DEFAULT_ATTENTION_STUCK_HOURS)

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            table_name=_text(constants.ENV_TABLE_NAME, constants.TABLE_NAME) or constants.TABLE_NAME,
            region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
            # Local mode points the handlers at the embedded emulator; unset in AWS.
            dynamodb_endpoint=os.environ.get("DYNAMODB_ENDPOINT_URL") or None,
            retention=_retention(),
            engagement_rules=_engagement_rules(),
            attention_stuck_after=timedelta(
                hours=_int(constants.ENV_ATTENTION_STUCK_HOURS, constants.DEFAULT_ATTENTION_STUCK_HOURS)
            ),
        )


def _retention() -> Retention:
    try:
        return Retention(
            messages=timedelta(
                days=_int(constants.ENV_MESSAGE_RETENTION_DAYS, constants.DEFAULT_MESSAGE_RETENTION_DAYS)
            ),
            recipients=timedelta(
                days=_int(constants.ENV_RECIPIENT_RETENTION_DAYS, constants.DEFAULT_RECIPIENT_RETENTION_DAYS)
            ),
            content=timedelta(
                days=_int(constants.ENV_CONTENT_RETENTION_DAYS, constants.DEFAULT_CONTENT_RETENTION_DAYS)
            ),
        )
    except ValueError as error:
        raise SettingError(f"retention ({constants.ENV_MESSAGE_RETENTION_DAYS} ...): {error}") from error


def _engagement_rules() -> EngagementRules:
    try:
        return EngagementRules.from_mapping(os.environ)
    except ValueError as error:
        raise SettingError(str(error)) from error


@dataclass(frozen=True)
class SendSettings:
    """What the API (POST /messages), the sender and the ingest path's suppression hook need."""

    send_queue_url: str | None
    configuration_set: str
    sender_address: str | None
    # Recipients per send job (one SQS message, one sender invocation): at the sender's share of
    # the send rate a job must fit its 30-second timeout (the sender also stops early when time
    # runs short), and bigger jobs spread the job's reads over more recipients.
    chunk_size: int = constants.DEFAULT_SEND_JOB_SIZE
    permanent_bounces_to_suppress: int = 2
    complaints_to_suppress: int = 1
    transient_bounces_to_suppress: int = 5
    transient_bounce_window: timedelta = timedelta(days=30)
    # The sender's pacing (tracker.logic.pacing): None reads the account's rate from SES.
    send_rate: float | None = None
    sender_concurrency: int = constants.DEFAULT_SENDER_CONCURRENCY
    parallel_calls: int = constants.DEFAULT_SEND_PARALLEL_CALLS
    untracked_configuration_set: str = constants.UNTRACKED_CONFIGURATION_SET_NAME
    untracked_kinds: frozenset[str] = DEFAULT_UNTRACKED_KINDS
    # None: emails go out without the unsubscribe headers (tests that do not look at them).
    unsubscribe_base_url: str | None = None
    # Large messages in steps (docs/sending.md): recipients per message, rows per batch, open drafts.
    draft_limits: DraftLimits = field(default_factory=DraftLimits)

    @classmethod
    def from_env(cls) -> SendSettings:
        """Only what a function needs is required of it (``require_environment``): the ingest
        function reads the suppression rules from here and has no send queue, for instance."""
        return cls(
            send_queue_url=os.environ.get(constants.ENV_SEND_QUEUE_URL) or None,
            configuration_set=os.environ.get(constants.ENV_CONFIGURATION_SET)
            or constants.CONFIGURATION_SET_NAME,
            sender_address=os.environ.get(constants.ENV_SENDER_ADDRESS) or None,
            chunk_size=_int(constants.ENV_SEND_CHUNK_SIZE, constants.DEFAULT_SEND_JOB_SIZE),
            permanent_bounces_to_suppress=_int(constants.ENV_SUPPRESS_PERMANENT_BOUNCES, 2),
            complaints_to_suppress=_int(constants.ENV_SUPPRESS_COMPLAINTS, 1),
            transient_bounces_to_suppress=_int(constants.ENV_SUPPRESS_TRANSIENT_BOUNCES, 5),
            transient_bounce_window=timedelta(days=_int(constants.ENV_SUPPRESS_TRANSIENT_WINDOW_DAYS, 30)),
            send_rate=_rate(constants.ENV_SEND_RATE),
            sender_concurrency=_positive(
                constants.ENV_SENDER_CONCURRENCY, constants.DEFAULT_SENDER_CONCURRENCY
            ),
            parallel_calls=_positive(
                constants.ENV_SEND_PARALLEL_CALLS, constants.DEFAULT_SEND_PARALLEL_CALLS
            ),
            untracked_configuration_set=os.environ.get(constants.ENV_UNTRACKED_CONFIGURATION_SET)
            or constants.UNTRACKED_CONFIGURATION_SET_NAME,
            untracked_kinds=parse_kinds(os.environ.get(constants.ENV_UNTRACKED_KINDS)),
            unsubscribe_base_url=os.environ.get(constants.ENV_UNSUBSCRIBE_BASE_URL) or None,
            draft_limits=DraftLimits(
                max_recipients=_positive("DRAFT_MAX_RECIPIENTS", DEFAULT_MAX_RECIPIENTS),
                batch_rows=min(_positive("DRAFT_BATCH_ROWS", DEFAULT_BATCH_ROWS), DEFAULT_BATCH_ROWS),
                open_drafts=_positive("DRAFT_OPEN_PER_TENANT", DEFAULT_OPEN_DRAFTS),
            ),
        )


def _rate(name: str) -> float | None:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return None
    try:
        value = float(raw)
    except ValueError as error:
        raise SettingError(f"{name} must be a number of sends per second, not {raw!r}") from error
    if not value > 0:
        raise SettingError(f"{name} must be above 0, not {raw!r}")
    return value


# Apple's egress list has hundreds of thousands of ~40-byte lines (250,000 lines: ~10 MB); a
# download beyond this is refused as not the list, which also bounds the refresher's memory.
DEFAULT_APPLE_RANGES_MAX_BYTES = 48 * 1024 * 1024


@dataclass(frozen=True)
class AppleRangesSettings:
    """Where the refreshed Apple ranges live (docs/engagement.md, "Keeping Apple's ranges fresh").

    ``bucket`` None: nothing is stored (local mode, tests), and the classifier uses the snapshot.
    """

    bucket: str | None
    key: str = constants.APPLE_RANGES_KEY
    url: str = constants.APPLE_RANGES_URL
    min_prefixes: int = constants.DEFAULT_APPLE_RANGES_MIN_PREFIXES
    max_download_bytes: int = DEFAULT_APPLE_RANGES_MAX_BYTES
    download_timeout_seconds: int = 30
    # A warm ingest function reads the stored list again after this long, so a container that
    # lives for days still picks up the daily refresh.
    reload_after: timedelta = timedelta(hours=6)

    @classmethod
    def from_env(cls) -> AppleRangesSettings:
        url = os.environ.get(constants.ENV_APPLE_RANGES_URL) or constants.APPLE_RANGES_URL
        if not url.startswith("https://"):
            raise SettingError(f"{constants.ENV_APPLE_RANGES_URL} must be an https:// URL, not {url!r}")
        return cls(
            bucket=os.environ.get(constants.ENV_APPLE_RANGES_BUCKET) or None,
            key=os.environ.get(constants.ENV_APPLE_RANGES_KEY) or constants.APPLE_RANGES_KEY,
            url=url,
            min_prefixes=_positive(constants.ENV_APPLE_RANGES_MIN_PREFIXES, cls.min_prefixes),
            max_download_bytes=_positive(constants.ENV_APPLE_RANGES_MAX_BYTES, cls.max_download_bytes),
            reload_after=timedelta(hours=_positive(constants.ENV_APPLE_RANGES_RELOAD_HOURS, 6)),
        )


def _positive(name: str, default: int) -> int:
    value = _int(name, default)
    if value < 1:
        raise SettingError(f"{name} must be at least 1, not {value}")
    return value


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


def unsubscribe_secret() -> bytes:
    """The key that signs one-click unsubscribe links: ``UNSUBSCRIBE_SECRET`` (local mode, tests)
    or the Secrets Manager secret named by ``UNSUBSCRIBE_SECRET_ARN`` (AWS), cached like the
    cursor key. Rotating it invalidates the links of emails already sent (docs/unsubscribe.md)."""
    value = os.environ.get(constants.ENV_UNSUBSCRIBE_SECRET)
    if value:
        return value.encode()
    arn = os.environ.get(constants.ENV_UNSUBSCRIBE_SECRET_ARN)
    if not arn:
        raise RuntimeError(
            f"set {constants.ENV_UNSUBSCRIBE_SECRET} or {constants.ENV_UNSUBSCRIBE_SECRET_ARN} "
            "to sign unsubscribe links"
        )
    from aws_lambda_powertools.utilities import parameters

    secret = parameters.get_secret(arn, max_age=CURSOR_SECRET_MAX_AGE_SECONDS)
    if isinstance(secret, bytes):
        return secret
    if isinstance(secret, str):
        return secret.encode()
    raise RuntimeError("the unsubscribe secret must be a plain string")


@dataclass(frozen=True)
class EventSettings:
    """The event bus and the tenants' webhooks (docs/events.md)."""

    bus_name: str = constants.EVENT_BUS_NAME
    resource_prefix: str = constants.WEBHOOK_RESOURCE_PREFIX
    delivery_role_arn: str | None = None  # EventBridge's role for the API destinations
    dead_letter_arn: str | None = None
    # Local mode only: http://127.0.0.1:<port> and http://localhost:<port> targets allowed.
    allow_local_targets: bool = False

    @classmethod
    def from_env(cls) -> EventSettings:
        return cls(
            bus_name=os.environ.get(constants.ENV_EVENT_BUS_NAME) or constants.EVENT_BUS_NAME,
            resource_prefix=os.environ.get(constants.ENV_WEBHOOK_PREFIX) or constants.WEBHOOK_RESOURCE_PREFIX,
            delivery_role_arn=os.environ.get(constants.ENV_WEBHOOK_ROLE_ARN) or None,
            dead_letter_arn=os.environ.get(constants.ENV_WEBHOOK_DLQ_ARN) or None,
            allow_local_targets=os.environ.get(constants.ENV_WEBHOOK_ALLOW_LOCAL, "").lower()
            in {"1", "true"},
        )


@dataclass(frozen=True)
class ExportSettings:
    """The exports' queue and bucket (docs/exports.md); local mode's names outside Lambda. ``None``
    queue: this function does not start exports."""

    bucket: str
    queue_url: str | None
    url_ttl: timedelta = timedelta(minutes=constants.EXPORT_URL_TTL_MINUTES)

    @classmethod
    def from_env(cls) -> ExportSettings:
        return cls(
            bucket=os.environ.get(constants.ENV_EXPORT_BUCKET) or constants.EXPORT_BUCKET_NAME,
            queue_url=os.environ.get(constants.ENV_EXPORT_QUEUE_URL) or None,
        )
