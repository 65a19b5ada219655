"""The send path's two AWS services besides DynamoDB: the SQS send queue and SES v2.

Adapters only: they translate between the logic's protocols (``logic.ports.JobQueue``, ``Mailer``
and ``SendRateSource``) and the boto3 clients they are given, and classify SES's errors. Nothing here builds a
client or reads the environment.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from email.utils import formataddr
from typing import TYPE_CHECKING, Any

from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from tracker import constants
from tracker.dal.jobs import SendJobBody
from tracker.domain.errors import (
    RecipientRejectedError,
    SendingBlockedError,
    SendOutcomeUnknownError,
    SendThrottledError,
    SendUnavailableError,
)
from tracker.domain.messages import OutgoingMail, SendJob
from tracker.logic.ports import Mailer

if TYPE_CHECKING:
    from mypy_boto3_sesv2.client import SESV2Client
    from mypy_boto3_sesv2.type_defs import BodyTypeDef, MessageTypeDef
    from mypy_boto3_sqs.client import SQSClient

logger = logging.getLogger(__name__)

SQS_BATCH_LIMIT = 10

# No automatic retries of SendEmail: it has no idempotency token, so a retry after a lost answer
# could send a second copy. The sender retries throttling itself, with backoff, and only errors
# where SES certainly did not accept the message.
SES_CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 1},
    connect_timeout=3,
    read_timeout=8,
    max_pool_connections=constants.CLIENT_POOL_CONNECTIONS,
)
ENQUEUE_ATTEMPTS = 3


def send_bodies(client: SQSClient, queue_url: str, bodies: Sequence[str]) -> list[int]:
    """SendMessageBatch, 10 bodies a request, each batch retried for what failed; returns the
    positions of the bodies that could not be queued."""
    failed: list[int] = []
    for start in range(0, len(bodies), SQS_BATCH_LIMIT):
        remaining = {str(i): bodies[i] for i in range(start, min(start + SQS_BATCH_LIMIT, len(bodies)))}
        for _ in range(ENQUEUE_ATTEMPTS):
            entries: Any = [{"Id": entry_id, "MessageBody": body} for entry_id, body in remaining.items()]
            try:
                response = client.send_message_batch(QueueUrl=queue_url, Entries=entries)
            except (ClientError, BotoCoreError):
                logger.warning("SQS batch failed", exc_info=True)
                continue
            remaining = {
                f["Id"]: remaining[f["Id"]] for f in response.get("Failed", []) if f["Id"] in remaining
            }
            if not remaining:
                break
        failed.extend(int(entry_id) for entry_id in remaining)
    return sorted(failed)


class SqsJobQueue:
    """logic.ports.JobQueue on the send queue."""

    def __init__(self, client: SQSClient, queue_url: str | None) -> None:
        self._client = client
        self._queue_url = queue_url

    def enqueue(self, jobs: Sequence[SendJob]) -> list[SendJob]:
        if not self._queue_url:
            logger.error("the send queue URL is not configured (SEND_QUEUE_URL): nothing can be queued")
            return list(jobs)
        bodies = [SendJobBody.from_job(job).to_json() for job in jobs]
        return [jobs[i] for i in send_bodies(self._client, self._queue_url, bodies)]


class SqsEventRedelivery:
    """logic.ports.EventRedelivery on the SES events queue (the ingest function's source)."""

    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def redeliver(self, bodies: Sequence[str]) -> list[int]:
        return send_bodies(self._client, self._queue_url, bodies)


# --- SES v2 -----------------------------------------------------------------------------------

# SendEmail errors (SES API v2). Throttling: the sending rate or quota; SES did not accept the
# message, so it is retried. Per recipient: this message to this address is refused for good.
# Whole job: nothing can be sent from this account/configuration until an operator acts.
THROTTLING_CODES = frozenset(
    {"TooManyRequestsException", "LimitExceededException", "Throttling", "ThrottlingException"}
)
RECIPIENT_CODES = frozenset({"MessageRejected", "BadRequestException", "InvalidParameterValue"})
BLOCKING_CODES = frozenset(
    {
        "AccountSuspendedException",
        "SendingPausedException",
        "MailFromDomainNotVerifiedException",
        "NotFoundException",
    }
)
CHARSET = "UTF-8"


def classify_client_error(error: ClientError) -> Exception:
    """The logic's SendError for an SES ClientError."""
    details = error.response.get("Error", {})
    code = str(details.get("Code", ""))
    message = str(details.get("Message", "")) or code
    reason = f"{code}: {message}" if code else message
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if code in THROTTLING_CODES or "maximum sending rate exceeded" in message.lower():
        return SendThrottledError(reason)
    if code in BLOCKING_CODES:
        return SendingBlockedError(reason)
    if code in RECIPIENT_CODES:
        return RecipientRejectedError(reason)
    if status >= 500:
        return SendUnavailableError(reason)
    # An unknown 4xx is about this request (our input), not about SES's state.
    return RecipientRejectedError(reason)


class SesMailer(Mailer):
    """logic.ports.Mailer on SES v2 SendEmail: one message per recipient, with the configuration
    set (event publishing) and the tags that let the ingest path find the recipient.

    Give it a client whose botocore retries are off (``total_max_attempts=1``): SendEmail has no
    idempotency token, so a retry after a lost answer could send a second copy; the sender retries
    only errors where SES certainly did not accept the message.
    """

    def __init__(
        self,
        client: SESV2Client,
        sender_address: str | None,
        configuration_set: str,
        untracked_configuration_set: str | None = None,
    ) -> None:
        """``untracked_configuration_set``: the set without OPEN and CLICK events (SES then adds no
        pixel and rewrites no link) for mail that is not tracked; None: the one set for all."""
        self._client = client
        self._sender = sender_address
        self._configuration_set = configuration_set
        self._untracked_configuration_set = untracked_configuration_set or configuration_set

    def send(self, mail: OutgoingMail) -> str:
        if not self._sender:
            raise SendingBlockedError("no sender address is configured (SENDER_ADDRESS)")
        body: BodyTypeDef = {}
        if mail.content.text:
            body["Text"] = {"Data": mail.content.text, "Charset": CHARSET}
        if mail.content.html:
            body["Html"] = {"Data": mail.content.html, "Charset": CHARSET}
        to = formataddr((mail.name, mail.to), charset=CHARSET) if mail.name else mail.to
        simple: MessageTypeDef = {
            "Subject": {"Data": mail.content.subject, "Charset": CHARSET},
            "Body": body,
        }
        if mail.headers:
            simple["Headers"] = [{"Name": name, "Value": value} for name, value in mail.headers]
        try:
            response = self._client.send_email(
                FromEmailAddress=self._sender,
                Destination={"ToAddresses": [to]},
                Content={"Simple": simple},
                EmailTags=[{"Name": name, "Value": value} for name, value in sorted(mail.tags.items())],
                ConfigurationSetName=(
                    self._configuration_set if mail.tracked else self._untracked_configuration_set
                ),
            )
        except ClientError as error:
            raise classify_client_error(error) from error
        except (EndpointConnectionError, ConnectTimeoutError) as error:  # never reached SES
            raise SendUnavailableError(f"SES unreachable: {error}") from error
        except (ReadTimeoutError, ConnectionClosedError) as error:  # may have reached SES
            raise SendOutcomeUnknownError(f"no answer from SES: {error}") from error
        return response["MessageId"]


class SesSendRate:
    """logic.ports.SendRateSource: the account's ``SendQuota.MaxSendRate`` (SES v2 ``GetAccount``),
    asked again after ``refresh_seconds`` (SES raises quotas without notice), or the operator's
    ``override`` (then SES is never asked).

    When SES cannot be asked (no permission, throttled, unreachable) the rate is ``fallback``
    (SES's sandbox rate, 1/s: slow but never above any account's rate), logged, and asked again
    after ``retry_seconds``."""

    def __init__(
        self,
        client: SESV2Client,
        override: float | None = None,
        *,
        refresh_seconds: float = 600.0,
        retry_seconds: float = 60.0,
        fallback: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._override = override
        self._refresh = refresh_seconds
        self._retry = retry_seconds
        self._fallback = fallback
        self._clock = clock
        self._rate: float | None = None
        self._until = 0.0

    def max_send_rate(self) -> float:
        if self._override is not None:
            return self._override
        now = self._clock()
        if self._rate is None or now >= self._until:
            self._rate, self._until = self._ask(now)
        return self._rate

    def _ask(self, now: float) -> tuple[float, float]:
        try:
            quota = self._client.get_account().get("SendQuota", {})
            rate = float(quota.get("MaxSendRate") or 0)
        except (ClientError, BotoCoreError):
            logger.warning(
                "SES GetAccount failed: sending at %s/s until it answers", self._fallback, exc_info=True
            )
            return self._fallback, now + self._retry
        if rate <= 0:
            logger.warning("SES GetAccount gave no MaxSendRate: sending at %s/s", self._fallback)
            return self._fallback, now + self._retry
        return rate, now + self._refresh
