"""Deployment settings, read from CDK context values (`cdk deploy -c name=value` or cdk.json)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from constructs import Node

from infra.projection import (
    PROJECTOR_BATCH_SIZE,
    PROJECTOR_BATCHING_WINDOW_SECONDS,
    PROJECTOR_PARALLELIZATION_FACTOR,
)
from infra.sender_tuning import SenderTuning
from tracker import constants as c
from tracker.domain.engagement import EngagementRules
from tracker.domain.tracking import parse_kinds

DEFAULT_FRONTEND_ORIGIN = "http://127.0.0.1:8000"  # the dashboard in local mode (`make run`)
REQUIRED_CONTEXT = ("senderAddress", "sesIdentity")
REQUIRED_EXAMPLE = "-c senderAddress=billing@acme.example -c sesIdentity=acme.example"

_EMAIL = re.compile(r"^[^@\s]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,}$")
_DOMAIN = re.compile(r"^([A-Za-z0-9-]+\.)+[A-Za-z]{2,}$")
_HTTPS_URL = re.compile(r"^https://[^/\s?#]+(/[^\s?#]*)?$")
MESSAGE_KINDS = frozenset({"email", "invoice", "receipt"})
_ORIGIN = re.compile(r"^(https://[^/\s]+|http://(localhost|127\.0\.0\.1)(:\d+)?)$")
_USER_POOL_ID = re.compile(r"^[a-z]{2}-[a-z]+-\d_[0-9A-Za-z]+$")
_DOMAIN_PREFIX = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# A stage prefixes names with their own rules (stack: letters, digits, '-'; configuration set:
# also '_'; Cognito domain prefix: lowercase, digits, '-'): the intersection, short enough for all.
_CLOUDFRONT_CERTIFICATE = re.compile(r"^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate/[0-9a-f-]+$")
_STAGE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
STAGE_MAX_LENGTH = 20
_RESERVED_WORDS = ("aws", "amazon", "cognito")  # refused in Cognito domain prefixes
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})

# Once a day at 04:17 UTC (off the hour, when schedules crowd): the alarms count days.
DEFAULT_APPLE_RANGES_SCHEDULE = "cron(17 4 * * ? *)"
_SCHEDULE = re.compile(r"^(?:rate\((\d+) (minute|minutes|hour|hours|day|days)\)|cron\((?:\S+ ){5}\S+\))$")
_RATE_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}

# DynamoDB's own warm throughput of a new on-demand table or index; lower values would change nothing.
NEW_TABLE_READ_UNITS = 12_000
NEW_TABLE_WRITE_UNITS = 4_000
# DynamoDB's default per-table (and per-index) throughput quota in an account.
TABLE_QUOTA_UNITS = 40_000


class SettingsError(ValueError):
    """A missing or invalid context value; the message names it and says what is expected."""


@dataclass(frozen=True)
class TableThroughput:
    """Warm throughput (what the table and each index serve at once, paid once when raised) and the
    on-demand caps (requests above them are throttled: a bound on the bill). Units per second; the
    same values apply to the table and to each global secondary index."""

    # Ingest writes about one unit per SES event and an index entry only when a list key changes
    # (README, "Benchmarks"): ~8,300-9,700 WRU/s at its default concurrency (c.INGEST_MAX_CONCURRENCY).
    # A new table serves 4,000.
    warm_write_units: int = 10_000
    warm_read_units: int = NEW_TABLE_READ_UNITS
    max_write_units: int = 20_000
    max_read_units: int = 20_000

    def __post_init__(self) -> None:
        for name, value, low in (
            ("tableWarmWriteUnits", self.warm_write_units, NEW_TABLE_WRITE_UNITS),
            ("tableWarmReadUnits", self.warm_read_units, NEW_TABLE_READ_UNITS),
            ("tableMaxWriteUnits", self.max_write_units, 1),
            ("tableMaxReadUnits", self.max_read_units, 1),
        ):
            if not low <= value <= TABLE_QUOTA_UNITS:
                raise SettingsError(f"{name} must be between {low} and {TABLE_QUOTA_UNITS}, not {value}")
        if self.warm_write_units > self.max_write_units or self.warm_read_units > self.max_read_units:
            raise SettingsError("warm throughput must not exceed the on-demand maximum (tableMax*Units)")


# Lambda's limits (memory in MB; an SQS event source's maximum concurrency).
LAMBDA_MEMORY_MB = (128, 10_240)
SQS_MAX_CONCURRENCY = (2, 1000)
# A DynamoDB stream event source's limits: records per batch, batching window, batches per shard.
STREAM_BATCH_SIZE = (1, 10_000)
STREAM_BATCHING_WINDOW_SECONDS = (0, 300)
STREAM_PARALLELIZATION_FACTOR = (1, 10)


def _within(name: str, value: int, bounds: tuple[int, int]) -> None:
    low, high = bounds
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, not {value}")


@dataclass(frozen=True)
class IngestTuning:
    """The ingest function's memory and concurrency (defaults: tracker/constants.py, where the bench
    reads them from)."""

    memory_mb: int = c.INGEST_MEMORY_MB
    max_concurrency: int = c.INGEST_MAX_CONCURRENCY
    # None: no reservation (the function draws on the account's unreserved concurrency).
    reserved_concurrency: int | None = None

    def __post_init__(self) -> None:
        _within(c.CONTEXT_INGEST_MEMORY_MB, self.memory_mb, LAMBDA_MEMORY_MB)
        _within(c.CONTEXT_INGEST_MAX_CONCURRENCY, self.max_concurrency, SQS_MAX_CONCURRENCY)
        if self.reserved_concurrency is not None and self.reserved_concurrency < self.max_concurrency:
            # Fewer reserved than the mapping's maximum: Lambda throttles the mapping's own batches.
            raise SettingsError(
                f"{c.CONTEXT_INGEST_RESERVED_CONCURRENCY} must be at least "
                f"{c.CONTEXT_INGEST_MAX_CONCURRENCY} ({self.max_concurrency}), not {self.reserved_concurrency}"
            )


@dataclass(frozen=True)
class ProjectorTuning:
    """How the projector reads the table's stream (defaults: infra/projection.py)."""

    batch_size: int = PROJECTOR_BATCH_SIZE
    batching_window_seconds: int = PROJECTOR_BATCHING_WINDOW_SECONDS
    parallelization_factor: int = PROJECTOR_PARALLELIZATION_FACTOR

    def __post_init__(self) -> None:
        _within(c.CONTEXT_PROJECTOR_BATCH_SIZE, self.batch_size, STREAM_BATCH_SIZE)
        _within(
            c.CONTEXT_PROJECTOR_BATCHING_WINDOW_SECONDS,
            self.batching_window_seconds,
            STREAM_BATCHING_WINDOW_SECONDS,
        )
        _within(
            c.CONTEXT_PROJECTOR_PARALLELIZATION_FACTOR,
            self.parallelization_factor,
            STREAM_PARALLELIZATION_FACTOR,
        )


# SES gives up on a delayed delivery after at most 14 days; stuck longer than that means lost.
MAX_ATTENTION_STUCK_HOURS = 14 * 24


@dataclass(frozen=True)
class Settings:
    sender_address: str
    ses_identity: str  # a verified SES domain or email address identity
    frontend_origin: str = DEFAULT_FRONTEND_ORIGIN
    existing_user_pool_id: str | None = None
    alarm_email: str | None = None
    # How long the table keeps messages, recipients (with their events) and content, in days after
    # a message's creation (the TTL attribute; docs/data-model.md "Retention").
    message_retention_days: int = c.DEFAULT_MESSAGE_RETENTION_DAYS
    recipient_retention_days: int = c.DEFAULT_RECIPIENT_RETENTION_DAYS
    content_retention_days: int = c.DEFAULT_CONTENT_RETENTION_DAYS
    # Hours after its first send a document still waiting for a Delivery is listed as stuck in
    # GET /attention (the projector keeps the queue, the read API asks it).
    attention_stuck_hours: int = c.DEFAULT_ATTENTION_STUCK_HOURS
    # The dashboard's hosting (infra/web.py): off unless `-c web=true`.
    web_enabled: bool = False
    web_auth_domain_prefix: str | None = None  # Cognito hosted UI prefix; default from the stage
    # The dashboard's own domain and its ACM certificate (us-east-1): TLSv1.2_2021 for viewers.
    web_domain_name: str | None = None
    web_certificate_arn: str | None = None
    # Prefixes every name that must be unique in an account and region, so stages deploy side by side.
    stage: str | None = None
    table: TableThroughput = field(default_factory=TableThroughput)
    ingest: IngestTuning = field(default_factory=IngestTuning)
    projector: ProjectorTuning = field(default_factory=ProjectorTuning)
    sender: SenderTuning = field(default_factory=SenderTuning)
    # The refresh of Apple's ranges (infra/reference_data.py): when it runs (an EventBridge
    # schedule expression, at least daily) and the fewest prefixes a download may have to be stored.
    apple_ranges_schedule: str = DEFAULT_APPLE_RANGES_SCHEDULE
    apple_ranges_min_prefixes: int = c.DEFAULT_APPLE_RANGES_MIN_PREFIXES
    # The engagement rules' thresholds the operator set (ENGAGEMENT_* variables of the functions).
    engagement: dict[str, str] = field(default_factory=dict)
    # Kinds sent without open and click tracking (the second configuration set), comma-separated.
    untracked_kinds: str = "invoice"
    # Where emails' one-click unsubscribe links point; default the API's own URL.
    unsubscribe_base_url: str | None = None
    # X-Ray SDK subsegments in every function (tracker.handlers.tracing); active tracing either way.
    sdk_tracing: bool = False

    def __post_init__(self) -> None:
        self._check_sender()
        self._check_unsubscribe()
        self._check_apple_ranges()
        if not _ORIGIN.match(self.frontend_origin):
            raise SettingsError(
                "frontendOrigin must be https://host[:port] (or http://localhost / http://127.0.0.1), "
                f"without a path: {self.frontend_origin!r}"
            )
        if self.existing_user_pool_id is not None and not _USER_POOL_ID.match(self.existing_user_pool_id):
            raise SettingsError(f"existingUserPoolId {self.existing_user_pool_id!r} is not a user pool id")
        if self.alarm_email is not None and not _EMAIL.match(self.alarm_email):
            raise SettingsError(f"alarmEmail {self.alarm_email!r} is not an email address")
        self._check_retention()
        if not 1 <= self.attention_stuck_hours <= MAX_ATTENTION_STUCK_HOURS:
            raise SettingsError(f"attentionStuckHours must be between 1 and {MAX_ATTENTION_STUCK_HOURS}")
        if self.web_auth_domain_prefix is not None and not _valid_domain_prefix(self.web_auth_domain_prefix):
            raise SettingsError(
                f"webAuthDomainPrefix {self.web_auth_domain_prefix!r}: 1-63 lowercase letters, digits or "
                "'-' (not at either end), without 'aws', 'amazon' or 'cognito'"
            )
        if (self.web_domain_name is None) != (self.web_certificate_arn is None):
            raise SettingsError("webDomainName and webCertificateArn go together: give both or neither")
        if self.web_domain_name is not None and not _DOMAIN.match(self.web_domain_name):
            raise SettingsError(f"webDomainName {self.web_domain_name!r} is not a domain name")
        if self.web_certificate_arn is not None and not _CLOUDFRONT_CERTIFICATE.match(
            self.web_certificate_arn
        ):
            raise SettingsError(
                f"webCertificateArn {self.web_certificate_arn!r}: an ACM certificate ARN in us-east-1 "
                "(CloudFront uses certificates from that region only)"
            )
        if self.stage is not None and (
            len(self.stage) > STAGE_MAX_LENGTH
            or not _STAGE.match(self.stage)
            or any(word in self.stage for word in _RESERVED_WORDS)
        ):
            raise SettingsError(
                f"stage {self.stage!r}: 1-{STAGE_MAX_LENGTH} lowercase letters, digits and single '-', "
                "starting with a letter, without 'aws', 'amazon' or 'cognito'"
            )

    def _check_unsubscribe(self) -> None:
        unknown = parse_kinds(self.untracked_kinds) - MESSAGE_KINDS
        if unknown:
            raise SettingsError(
                f"untrackedKinds: {', '.join(sorted(unknown))} is not a kind (email, invoice, receipt)"
            )
        if self.unsubscribe_base_url is not None and not _HTTPS_URL.match(self.unsubscribe_base_url):
            raise SettingsError(
                f"unsubscribeBaseUrl {self.unsubscribe_base_url!r}: an https:// URL (RFC 8058 requires HTTPS)"
            )

    def _check_apple_ranges(self) -> None:
        match = _SCHEDULE.match(self.apple_ranges_schedule)
        if match is None:
            raise SettingsError(
                f"appleRangesSchedule {self.apple_ranges_schedule!r}: an EventBridge schedule expression, "
                "rate(<n> minutes|hours|days) or cron(<6 fields>)"
            )
        amount, unit = match.group(1), match.group(2)
        if amount is not None and int(amount) * _RATE_SECONDS[unit.rstrip("s")] > 86400:
            raise SettingsError(
                "appleRangesSchedule must run at least once a day: its alarms count days without a refresh"
            )
        if self.apple_ranges_min_prefixes < 1:
            raise SettingsError("appleRangesMinPrefixes must be at least 1")

    def _check_retention(self) -> None:
        days = {
            "messageRetentionDays": self.message_retention_days,
            "recipientRetentionDays": self.recipient_retention_days,
            "contentRetentionDays": self.content_retention_days,
        }
        for key, value in days.items():
            if not 1 <= value <= c.MAX_RETENTION_DAYS:
                raise SettingsError(f"{key} must be between 1 and {c.MAX_RETENTION_DAYS}")
        for key in ("recipientRetentionDays", "contentRetentionDays"):
            if days[key] > self.message_retention_days:
                raise SettingsError(f"{key} cannot exceed messageRetentionDays: a message outlives its parts")

    @property
    def data_environment(self) -> dict[str, str]:
        return {
            c.ENV_MESSAGE_RETENTION_DAYS: str(self.message_retention_days),
            c.ENV_RECIPIENT_RETENTION_DAYS: str(self.recipient_retention_days),
            c.ENV_CONTENT_RETENTION_DAYS: str(self.content_retention_days),
            c.ENV_ATTENTION_STUCK_HOURS: str(self.attention_stuck_hours),
        }

    def _check_sender(self) -> None:
        if not _EMAIL.match(self.sender_address):
            raise SettingsError(f"senderAddress {self.sender_address!r} is not an email address")
        if _EMAIL.match(self.ses_identity):
            if self.ses_identity.lower() != self.sender_address.lower():
                raise SettingsError("sesIdentity is an address identity, so it must equal senderAddress")
        elif _DOMAIN.match(self.ses_identity):
            if not self.sender_address.lower().endswith("@" + self.ses_identity.lower()):
                raise SettingsError(
                    f"senderAddress must be an address of the sesIdentity domain {self.ses_identity}"
                )
        else:
            raise SettingsError(f"sesIdentity {self.ses_identity!r} is neither a domain nor an email address")

    # --- names that must be unique per account and region -----------------------------------------

    def prefixed(self, name: str) -> str:
        return f"{self.stage}-{name}" if self.stage else name

    @property
    def stack_name(self) -> str:
        return self.prefixed(c.STACK_NAME)

    @property
    def configuration_set_name(self) -> str:
        """The deployed configuration set; local mode keeps c.CONFIGURATION_SET_NAME unprefixed."""
        return self.prefixed(c.CONFIGURATION_SET_NAME)

    @property
    def untracked_configuration_set_name(self) -> str:
        """The set without OPEN and CLICK events, for the untracked kinds."""
        return self.prefixed(c.UNTRACKED_CONFIGURATION_SET_NAME)

    @property
    def tracing_environment(self) -> dict[str, str]:
        return {c.ENV_SDK_TRACING: "true" if self.sdk_tracing else "false"}

    @property
    def tracking_environment(self) -> dict[str, str]:
        return {
            c.ENV_UNTRACKED_CONFIGURATION_SET: self.untracked_configuration_set_name,
            c.ENV_UNTRACKED_KINDS: ",".join(sorted(parse_kinds(self.untracked_kinds))),
        }


def _valid_domain_prefix(prefix: str) -> bool:
    return bool(_DOMAIN_PREFIX.match(prefix)) and not any(word in prefix for word in _RESERVED_WORDS)


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
    raise SettingsError(f"{key} must be true or false, not {text!r}")


def _retention_days(node: Node, key: str, default: int, old_name: str | None = None) -> int:
    if old_name is not None and _text(node, key) is None and _text(node, old_name) is not None:
        return _integer(node, old_name, default)  # the name it had before recipients held the events
    return _integer(node, key, default)


def _integer(node: Node, key: str, default: int) -> int:
    text = _text(node, key)
    if text is None:
        return default
    try:
        return int(text.replace("_", ""))
    except ValueError:
        raise SettingsError(f"{key} must be a whole number, not {text!r}") from None


def engagement_context_key(variable: str) -> str:
    """ENGAGEMENT_CLICK_AFTER_DELIVERY_SECONDS -> engagementClickAfterDeliverySeconds."""
    words = variable.removeprefix("ENGAGEMENT_").lower().split("_")
    return "engagement" + "".join(word.capitalize() for word in words)


def _engagement(node: Node) -> dict[str, str]:
    """The engagement thresholds (docs/engagement.md, "Timing rules") as context values, checked at
    synth as the functions would check them at cold start."""
    variables = {
        variable: value
        for variable in EngagementRules.variables()
        if (value := _text(node, engagement_context_key(variable))) is not None
    }
    try:
        EngagementRules.from_mapping(variables)
    except ValueError as error:
        names = ", ".join(engagement_context_key(v) for v in variables)
        raise SettingsError(f"{error} (context values {names})") from error
    return variables


def _ingest_tuning(node: Node) -> IngestTuning:
    reserved = _text(node, c.CONTEXT_INGEST_RESERVED_CONCURRENCY)
    return IngestTuning(
        memory_mb=_integer(node, c.CONTEXT_INGEST_MEMORY_MB, c.INGEST_MEMORY_MB),
        max_concurrency=_integer(node, c.CONTEXT_INGEST_MAX_CONCURRENCY, c.INGEST_MAX_CONCURRENCY),
        reserved_concurrency=None
        if reserved is None
        else _integer(node, c.CONTEXT_INGEST_RESERVED_CONCURRENCY, 0),
    )


def _projector_tuning(node: Node) -> ProjectorTuning:
    return ProjectorTuning(
        batch_size=_integer(node, c.CONTEXT_PROJECTOR_BATCH_SIZE, PROJECTOR_BATCH_SIZE),
        batching_window_seconds=_integer(
            node, c.CONTEXT_PROJECTOR_BATCHING_WINDOW_SECONDS, PROJECTOR_BATCHING_WINDOW_SECONDS
        ),
        parallelization_factor=_integer(
            node, c.CONTEXT_PROJECTOR_PARALLELIZATION_FACTOR, PROJECTOR_PARALLELIZATION_FACTOR
        ),
    )


def _sender_tuning(node: Node) -> SenderTuning:
    rate = _text(node, c.CONTEXT_SEND_RATE)
    try:
        send_rate = None if rate is None else float(rate.replace("_", ""))
    except ValueError:
        raise SettingsError(
            f"{c.CONTEXT_SEND_RATE} must be a number of sends per second, not {rate!r}"
        ) from None
    return SenderTuning(
        max_concurrency=_integer(node, c.CONTEXT_SENDER_MAX_CONCURRENCY, c.DEFAULT_SENDER_CONCURRENCY),
        job_size=_integer(node, c.CONTEXT_SEND_JOB_SIZE, c.DEFAULT_SEND_JOB_SIZE),
        parallel_calls=_integer(node, c.CONTEXT_SEND_PARALLEL_CALLS, c.DEFAULT_SEND_PARALLEL_CALLS),
        send_rate=send_rate,
    )


def settings_from_context(node: Node) -> Settings:
    """The deploy settings. senderAddress and sesIdentity are required: an example default would
    deploy a stack whose every send fails at SES."""
    missing = [key for key in REQUIRED_CONTEXT if _text(node, key) is None]
    if missing:
        raise SettingsError(
            f"missing context value(s) {', '.join(missing)}: the verified SES identity and the From "
            f"address of every message. Pass them, e.g. {REQUIRED_EXAMPLE} (docs/deploy.md, "
            '"Context values")'
        )
    throughput = TableThroughput()
    return Settings(
        sender_address=_text(node, "senderAddress") or "",
        ses_identity=_text(node, "sesIdentity") or "",
        frontend_origin=(_text(node, "frontendOrigin") or DEFAULT_FRONTEND_ORIGIN).rstrip("/"),
        existing_user_pool_id=_text(node, "existingUserPoolId"),
        alarm_email=_text(node, "alarmEmail"),
        message_retention_days=_retention_days(
            node, "messageRetentionDays", c.DEFAULT_MESSAGE_RETENTION_DAYS
        ),
        recipient_retention_days=_retention_days(
            node,
            "recipientRetentionDays",
            c.DEFAULT_RECIPIENT_RETENTION_DAYS,
            old_name="eventLogRetentionDays",
        ),
        content_retention_days=_retention_days(
            node, "contentRetentionDays", c.DEFAULT_CONTENT_RETENTION_DAYS
        ),
        attention_stuck_hours=_integer(node, "attentionStuckHours", c.DEFAULT_ATTENTION_STUCK_HOURS),
        web_enabled=_flag(node, "web"),
        sdk_tracing=_flag(node, c.CONTEXT_SDK_TRACING),
        web_auth_domain_prefix=_text(node, "webAuthDomainPrefix"),
        web_domain_name=_text(node, "webDomainName"),
        web_certificate_arn=_text(node, "webCertificateArn"),
        stage=_text(node, "stage"),
        table=TableThroughput(
            warm_write_units=_integer(node, "tableWarmWriteUnits", throughput.warm_write_units),
            warm_read_units=_integer(node, "tableWarmReadUnits", throughput.warm_read_units),
            max_write_units=_integer(node, "tableMaxWriteUnits", throughput.max_write_units),
            max_read_units=_integer(node, "tableMaxReadUnits", throughput.max_read_units),
        ),
        ingest=_ingest_tuning(node),
        projector=_projector_tuning(node),
        sender=_sender_tuning(node),
        apple_ranges_schedule=_text(node, "appleRangesSchedule") or DEFAULT_APPLE_RANGES_SCHEDULE,
        apple_ranges_min_prefixes=_integer(
            node, "appleRangesMinPrefixes", c.DEFAULT_APPLE_RANGES_MIN_PREFIXES
        ),
        engagement=_engagement(node),
        untracked_kinds=_text(node, c.CONTEXT_UNTRACKED_KINDS) or "invoice",
        unsubscribe_base_url=_text(node, c.CONTEXT_UNSUBSCRIBE_BASE_URL),
    )
