"""SES's mailbox simulator, locally.

Wraps the emulator's SES v2 client: a send goes to the emulator (which checks the sender
identity and returns a message id, as SES does), then the events SES would publish through the
configuration set are published, in SES's own format, to the same SNS topic the stack uses.
Addresses at simulator.amazonses.com behave like SES's mailbox simulator; any other address gets
only a Send event, because locally nothing is delivered. Beyond SES, two labels on ``success``
add the machine fetches a real inbox sees (docs/engagement.md): ``success+mpp@…`` is opened by
Apple Mail Privacy Protection a second after delivery, ``success+scanner@…`` has its link clicked
by a scanner five seconds after delivery; ``success+gmail@…`` is opened by its reader through
Gmail's image proxy twenty minutes later.

Like SES, it accepts at most ``max_send_rate`` messages per second (``SendRateLimiter``: a token
bucket that allows a burst of one second's worth) and answers a send above it with SES's
``TooManyRequestsException`` ("Maximum sending rate exceeded."); ``GetAccount`` answers that rate
as ``SendQuota.MaxSendRate``, so the sender paces itself to it locally as it does in AWS.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from typing import Any

from botocore.exceptions import ClientError

from tracker import constants

log = logging.getLogger("local.ses")

SIMULATOR_DOMAIN = "simulator.amazonses.com"
ACCOUNT_ID = "000000000000"
REGION = "us-east-1"
BATCH = 10  # events published together at most (SNS PublishBatch's limit)
# Local mode's SES sending rate (LOCAL_SES_MAX_SEND_RATE overrides it). The rate is a floor under a
# send's time (500 recipients at 50/s: 10 s, the local-mode goal with nothing left for the rest), so
# it is 250/s, a real account's order of magnitude: a 500-recipient send still paces (the sender's
# 32 calls in flight reach it, and the bucket throttles above it), in 2 s. Tests of throttling set it low.
DEFAULT_MAX_SEND_RATE = 250.0
MAX_24_HOUR_SEND = 50_000.0


class SendRateLimiter:
    """SES's sending rate as a token bucket: ``rate`` tokens a second, up to ``burst_seconds``
    worth saved while idle (SES lets short bursts above the rate through); ``take`` spends
    ``count`` (a bulk call spends one per destination) or answers False, spending nothing."""

    def __init__(
        self, rate: float, burst_seconds: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst_seconds <= 0:
            raise ValueError("rate and burst_seconds must be positive")
        self.rate = rate
        self._capacity = max(1.0, rate * burst_seconds)
        self._tokens = self._capacity
        self._clock = clock
        self._at = clock()
        self._lock = threading.Lock()

    def take(self, count: int = 1) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(self._capacity, self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens < count:
                return False
            self._tokens -= count
            return True


def throttled(operation: str = "SendEmail") -> ClientError:
    """What SES answers a send above the account's rate."""
    response: Any = {
        "Error": {"Code": "TooManyRequestsException", "Message": "Maximum sending rate exceeded."},
        "ResponseMetadata": {"HTTPStatusCode": 429},
    }
    return ClientError(response, operation)


def account(rate: float, sent_last_24_hours: int = 0) -> dict[str, Any]:
    """A GetAccount answer with ``rate`` as the maximum send rate."""
    return {
        "SendQuota": {
            "Max24HourSend": MAX_24_HOUR_SEND,
            "MaxSendRate": rate,
            "SentLast24Hours": float(sent_last_24_hours),
        },
        "SendingEnabled": True,
        "ProductionAccessEnabled": True,
        "EnforcementStatus": "HEALTHY",
        "DedicatedIpAutoWarmupEnabled": False,
    }


def ses_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def mail_object(
    ses_message_id: str, source: str, destination: str, subject: str, tags: dict[str, str], sent_at: datetime
) -> dict[str, Any]:
    all_tags = {
        "ses:configuration-set": [tags.get("ses:configuration-set", "delivery-tracker")],
        "ses:source-ip": ["127.0.0.1"],
        "ses:from-domain": [source.rsplit("@", 1)[-1]],
        "ses:caller-identity": ["local"],
    }
    all_tags.update({name: [value] for name, value in tags.items()})
    return {
        "timestamp": ses_time(sent_at),
        "source": source,
        "sourceArn": f"arn:aws:ses:{REGION}:{ACCOUNT_ID}:identity/{source}",
        "sendingAccountId": ACCOUNT_ID,
        "messageId": ses_message_id,
        "destination": [destination],
        "headersTruncated": False,
        "headers": [
            {"name": "From", "value": source},
            {"name": "To", "value": destination},
            {"name": "Subject", "value": subject},
        ],
        "commonHeaders": {
            "from": [source],
            "to": [destination],
            "messageId": ses_message_id,
            "subject": subject,
        },
        "tags": all_tags,
    }


# Who fetches an email besides the customer: Apple Mail Privacy Protection (the bare agent, from
# Apple's 17.0.0.0/8), a link scanner (Microsoft Defender Safe Links, from Exchange Online
# Protection), and Gmail's image proxy, which fetches when the person opens.
APPLE_MPP = {"user_agent": "Mozilla/5.0", "ip": "17.58.101.183"}
SAFE_LINKS = {
    "user_agent": "Mozilla/5.0 (Windows NT 6.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/57.0.2987.133 Safari/537.36",
    "ip": "40.107.218.12",
}
GMAIL_PROXY = {
    "user_agent": "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
    "ip": "66.249.93.84",
}
SIMULATED_LINK = "https://example.com/schedule"
# The demo's schedule anchor carries ses:tags="campaign:december;placement:body"; SES reports
# an anchor's tags on each click of it (linkTags).
SIMULATED_LINK_TAGS = {"campaign": ["december"], "placement": ["body"]}


def fetch_body(at: datetime, fetcher: dict[str, str], link: str | None = None) -> dict[str, Any]:
    """An Open's body (or a Click's, with ``link``) as SES publishes it."""
    body: dict[str, Any] = {
        "ipAddress": fetcher["ip"],
        "timestamp": ses_time(at),
        "userAgent": fetcher["user_agent"],
    }
    if link is not None:
        body.update({"link": link, "linkTags": SIMULATED_LINK_TAGS if link == SIMULATED_LINK else {}})
    return body


# label of a success@ address -> (event type, seconds after delivery, fetcher, clicked link)
FETCH_LABELS: dict[str, tuple[str, int, dict[str, str], str | None]] = {
    "mpp": ("Open", 1, APPLE_MPP, None),
    "scanner": ("Click", 5, SAFE_LINKS, SIMULATED_LINK),
    "gmail": ("Open", 20 * 60, GMAIL_PROXY, None),
}


def _bounce(
    address: str, at: datetime, bounce_type: str, subtype: str, status: str, diagnostic: str
) -> dict[str, Any]:
    return {
        "bounceType": bounce_type,
        "bounceSubType": subtype,
        "bouncedRecipients": [
            {"emailAddress": address, "action": "failed", "status": status, "diagnosticCode": diagnostic}
        ],
        "timestamp": ses_time(at),
        "feedbackId": f"local-bounce-{int(at.timestamp() * 1000)}",
        "reportingMTA": "dsn; a1-2.smtp-out.amazonses.com",
    }


def _delivery(address: str, at: datetime, sent_at: datetime) -> dict[str, Any]:
    return {
        "timestamp": ses_time(at),
        "processingTimeMillis": int((at - sent_at).total_seconds() * 1000),
        "recipients": [address],
        "smtpResponse": "250 2.6.0 Message received",
        "reportingMTA": "a1-2.smtp-out.amazonses.com",
    }


def simulated_events(
    address: str, sent_at: datetime, tracked: bool = True
) -> list[tuple[str, str, dict[str, Any]]]:
    """(eventType, body key, body) in the order SES would publish them for ``address``; without
    ``tracked`` (the untracked configuration set) no Open or Click, as SES adds no pixel then."""
    local_part, _, domain = address.lower().partition("@")
    events: list[tuple[str, str, dict[str, Any]]] = [("Send", "send", {})]
    if domain != SIMULATOR_DOMAIN:
        return events
    local_part, _, label = local_part.partition("+")  # SES allows labels: success+label@simulator...
    later = sent_at + timedelta(seconds=1)
    much_later = sent_at + timedelta(seconds=2)
    if local_part == "success":
        events.append(("Delivery", "delivery", _delivery(address, later, sent_at)))
        if label in FETCH_LABELS and tracked:
            kind, after, fetcher, link = FETCH_LABELS[label]
            events.append((kind, kind.lower(), fetch_body(later + timedelta(seconds=after), fetcher, link)))
    elif local_part == "bounce":
        events.append(
            (
                "Bounce",
                "bounce",
                _bounce(address, later, "Permanent", "General", "5.1.1", "smtp; 550 5.1.1 user unknown"),
            )
        )
    elif local_part == "ooto":
        events.append(("Delivery", "delivery", _delivery(address, later, sent_at)))
        events.append(
            (
                "Bounce",
                "bounce",
                _bounce(
                    address, much_later, "Transient", "General", "4.0.0", "smtp; 450 4.0.0 out of the office"
                ),
            )
        )
    elif local_part == "complaint":
        events.append(("Delivery", "delivery", _delivery(address, later, sent_at)))
        events.append(
            (
                "Complaint",
                "complaint",
                {
                    "complainedRecipients": [{"emailAddress": address}],
                    "timestamp": ses_time(much_later),
                    "feedbackId": f"local-complaint-{int(much_later.timestamp() * 1000)}",
                    "complaintFeedbackType": "abuse",
                    "userAgent": "Amazon SES Mailbox Simulator",
                    "arrivalDate": ses_time(much_later),
                },
            )
        )
    elif local_part == "suppressionlist":
        events.append(
            (
                "Bounce",
                "bounce",
                _bounce(
                    address,
                    later,
                    "Permanent",
                    "Suppressed",
                    "5.1.1",
                    "Amazon SES has suppressed sending to this address because it has a recent history of "
                    "bouncing as an invalid address.",
                ),
            )
        )
    return events


class SimulatedSes:
    """Quacks like a boto3 ``sesv2`` client; only ``send_email`` is simulated, the rest delegates."""

    def __init__(
        self,
        client: Any,
        publish: Callable[[list[str]], object],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        delay_seconds: float = 0.5,
        max_send_rate: float = DEFAULT_MAX_SEND_RATE,
    ) -> None:
        self._client = client
        self._publish = publish
        self._clock = clock
        self._delay = delay_seconds
        self.limiter = SendRateLimiter(max_send_rate)
        self.throttled = 0  # sends refused for the rate
        self._outbox: queue.Queue[tuple[float, str]] = queue.Queue()
        self._worker = threading.Thread(target=self._drain, name="ses-simulator", daemon=True)
        self._worker.start()
        self.sent: list[dict[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def get_account(self, **_kwargs: Any) -> dict[str, Any]:
        return account(self.limiter.rate, len(self.sent))

    def send_email(self, **kwargs: Any) -> dict[str, Any]:
        if not self.limiter.take():
            self.throttled += 1
            raise throttled()
        response: dict[str, Any] = self._client.send_email(**kwargs)
        sent_at = self._clock()
        source = kwargs.get("FromEmailAddress", "")
        simple = kwargs.get("Content", {}).get("Simple", {})
        subject = simple.get("Subject", {}).get("Data", "")
        tags = {tag["Name"]: tag["Value"] for tag in kwargs.get("EmailTags", [])}
        if kwargs.get("ConfigurationSetName"):
            tags["ses:configuration-set"] = kwargs["ConfigurationSetName"]
        destination = kwargs.get("Destination", {})
        addresses = [
            *destination.get("ToAddresses", []),
            *destination.get("CcAddresses", []),
            *destination.get("BccAddresses", []),
        ]
        tracked = kwargs.get("ConfigurationSetName") != constants.UNTRACKED_CONFIGURATION_SET_NAME
        headers = {h["Name"]: h["Value"] for h in simple.get("Headers", [])}
        self.sent.append({"message_id": response["MessageId"], "to": addresses, "headers": headers})
        for destination_entry in addresses:
            # SES keeps "Name <address>" in mail.destination and the bare address in event bodies.
            address = parseaddr(destination_entry)[1] or destination_entry
            mail = mail_object(response["MessageId"], source, destination_entry, subject, tags, sent_at)
            events = simulated_events(address, sent_at, tracked)
            for step, (event_type, key, body) in enumerate(events):
                record = {"eventType": event_type, "mail": mail, key: body}
                self._outbox.put((time.monotonic() + self._delay * step, json.dumps(record)))
        return response

    def _drain(self) -> None:
        """Publish the events in the order they were queued, each at its time; those already due
        together go out in one batch (the publisher splits it within PublishBatch's limits)."""
        held: tuple[float, str] | None = None
        while True:
            due, message = held or self._outbox.get()
            held = None
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            batch = [message]
            while len(batch) < BATCH and held is None:
                try:
                    following = self._outbox.get_nowait()
                except queue.Empty:
                    break
                if following[0] <= time.monotonic():
                    batch.append(following[1])
                else:
                    held = following  # not due yet: it starts the next batch, keeping the order
            try:
                self._publish(batch)
            except Exception:
                log.exception("could not publish %d simulated SES events", len(batch))
