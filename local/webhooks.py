"""Local mode's EventBridge delivery to the tenants' webhooks, which moto does not do.

moto keeps the bus, the tenants' rules, connections and API destinations as the webhook routes
create them (tracker.dal.webhooks), and delivers to SQS targets, but sends nothing to an API
destination. So local mode adds one rule of its own on the bus, matching every status event, with
an SQS queue as its target (the feed); this driver reads the feed and does what EventBridge does
for each event: every webhook rule whose pattern matches it (moto's own pattern matcher), each of
its API-destination targets: the target's input path applied, POSTed to the destination's
endpoint with the connection's API key header; retried on 429, 5xx and connection errors
(a few times, quickly, not for 24 hours), never on another 4xx; then to the target's dead-letter
queue with EventBridge's message attributes, where the webhook DLQ consumer reads it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import boto3
from moto.events.models import EventPattern

from local.emulator import REGION
from local.pollers import POLL_WAIT_SECONDS
from tracker import constants

log = logging.getLogger("local.webhooks")

FEED_RULE = "local-webhook-feed"
FEED_QUEUE_NAME = "delivery-tracker-local-webhook-feed"
FEED_TARGET_ID = "local-feed"
RETRY_DELAYS = (0.2, 0.5)  # local: seconds before the 2nd and 3rd attempt (EventBridge: 24 hours)
HTTP_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class LocalEventResources:
    bus_name: str
    feed_queue_url: str
    dead_letter_url: str
    dead_letter_arn: str


def _queue(sqs: Any, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return str(url), str(arn)


def create_event_resources(bus_name: str = constants.EVENT_BUS_NAME) -> LocalEventResources:
    """The bus and its archive, the webhook DLQ, and local mode's feed (a rule and its queue)."""
    events = boto3.client("events", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    bus_arn = events.create_event_bus(Name=bus_name)["EventBusArn"]
    events.create_archive(ArchiveName=f"{bus_name}-archive"[:48], EventSourceArn=bus_arn, RetentionDays=30)
    dlq_url, dlq_arn = _queue(sqs, constants.WEBHOOK_DLQ_NAME)
    feed_url, feed_arn = _queue(sqs, FEED_QUEUE_NAME)
    events.put_rule(
        Name=FEED_RULE,
        EventBusName=bus_name,
        EventPattern=json.dumps({"source": [constants.EVENT_SOURCE]}),
        State="ENABLED",
    )
    events.put_targets(
        Rule=FEED_RULE, EventBusName=bus_name, Targets=[{"Id": FEED_TARGET_ID, "Arn": feed_arn}]
    )
    return LocalEventResources(bus_name, feed_url, dlq_url, dlq_arn)


@dataclass
class Attempt:
    url: str
    status: int | None  # None: no answer (connection refused, timeout)
    error: str | None = None


@dataclass
class WebhookDriver:
    resources: LocalEventResources
    prefix: str = constants.WEBHOOK_RESOURCE_PREFIX
    retry_delays: Sequence[float] = RETRY_DELAYS
    sleep: Callable[[float], None] = time.sleep
    attempts: list[Attempt] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._events = boto3.client("events", region_name=REGION)
        self._sqs = boto3.client("sqs", region_name=REGION)
        self._secrets = boto3.client("secretsmanager", region_name=REGION)

    # --- the feed --------------------------------------------------------------------------------

    def drain(self, wait_seconds: int = 0) -> int:
        """Deliver every event in the feed; returns how many were read. Its first receive waits up
        to ``wait_seconds`` for an event (a long poll; the poller's idle wait). The rules are read once per
        batch received (EventBridge matches an event against the rules there are when it is put:
        one read per batch of ten instead of one per event) and the batch is deleted in one call."""
        read = 0
        while True:
            messages = self._sqs.receive_message(
                QueueUrl=self.resources.feed_queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=0 if read else wait_seconds,
            ).get("Messages", [])
            if not messages:
                return read
            read += len(messages)
            rules = self._rules()
            for message in messages:
                try:
                    self.deliver(json.loads(message["Body"]), rules)
                except Exception:  # one broken event must not stop the others
                    log.exception("webhook delivery failed")
            self._sqs.delete_message_batch(
                QueueUrl=self.resources.feed_queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )

    # --- one event, as EventBridge delivers it -------------------------------------------------

    def _rules(self) -> list[dict[str, Any]]:
        rules: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"EventBusName": self.resources.bus_name, "NamePrefix": self.prefix}
        while True:
            page = self._events.list_rules(**kwargs)
            rules += page.get("Rules", [])
            if not page.get("NextToken"):
                return rules
            kwargs["NextToken"] = page["NextToken"]

    def deliver(self, event: dict[str, Any], rules: list[dict[str, Any]] | None = None) -> None:
        """``event`` to every webhook rule it matches (``rules``: the rules as read for its batch)."""
        for rule in self._rules() if rules is None else rules:
            pattern = rule.get("EventPattern")
            if rule.get("State") != "ENABLED" or not pattern:
                continue
            if not EventPattern.load(pattern).matches_event(cast(Any, event)):
                continue
            targets = self._events.list_targets_by_rule(
                Rule=rule["Name"], EventBusName=self.resources.bus_name
            )["Targets"]
            for target in targets:
                if ":api-destination/" in target["Arn"]:
                    self._to_destination(rule, target, event)

    def _to_destination(self, rule: dict[str, Any], target: dict[str, Any], event: dict[str, Any]) -> None:
        name = target["Arn"].split(":api-destination/", 1)[1].split("/", 1)[0]
        destination = self._events.describe_api_destination(Name=name)
        connection_name = destination["ConnectionArn"].split(":connection/", 1)[1].split("/", 1)[0]
        header, secret = self._api_key(connection_name)
        body = event.get("detail") if target.get("InputPath") == "$.detail" else event
        data = json.dumps(body).encode()
        url = destination["InvocationEndpoint"]
        last: Attempt | None = None
        for attempt in range(len(self.retry_delays) + 1):
            if attempt:
                self.sleep(self.retry_delays[attempt - 1])
            last = self._post(url, destination.get("HttpMethod", "POST"), data, {header: secret})
            self.attempts.append(last)
            if last.status is not None and 200 <= last.status < 300:
                return
            if last.status is not None and last.status < 500 and last.status != 429:
                break  # EventBridge does not retry a client error
        self._dead_letter(rule, target, event, last, attempt + 1)

    def _api_key(self, connection_name: str) -> tuple[str, str]:
        connection = self._events.describe_connection(Name=connection_name)
        params = (connection.get("AuthParameters") or {}).get("ApiKeyAuthParameters") or {}
        header = str(params.get("ApiKeyName") or constants.WEBHOOK_SECRET_HEADER)
        # moto answers the key's value (AWS never does) and, unlike AWS, does not update the
        # connection's secret when the key is rotated: the answer is the current key.
        value = params.get("ApiKeyValue")
        if value is None:
            stored = json.loads(
                self._secrets.get_secret_value(SecretId=connection["SecretArn"])["SecretString"]
            )
            value = stored.get("api_key_value") or stored.get("ApiKeyValue")
        return header, str(value)

    @staticmethod
    def _post(url: str, method: str, data: bytes, headers: dict[str, str]) -> Attempt:
        request = urllib.request.Request(  # noqa: S310 - the URL passed the webhook routes' check
            url, data=data, method=method, headers={"Content-Type": "application/json", **headers}
        )
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as answer:  # noqa: S310
                return Attempt(url, int(answer.status))
        except urllib.error.HTTPError as error:
            return Attempt(url, int(error.code), str(error.reason))
        except (urllib.error.URLError, OSError) as error:
            return Attempt(url, None, str(error))

    def _dead_letter(
        self,
        rule: dict[str, Any],
        target: dict[str, Any],
        event: dict[str, Any],
        last: Attempt | None,
        tries: int,
    ) -> None:
        arn = (target.get("DeadLetterConfig") or {}).get("Arn")
        if not arn:
            log.warning("webhook delivery of %s failed and its target has no DLQ", rule["Name"])
            return
        queue_url = self._sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[1])["QueueUrl"]
        status = last.status if last is not None else None
        attributes = {
            "RULE_ARN": rule["Arn"],
            "TARGET_ARN": target["Arn"],
            "ERROR_CODE": "SDK_CLIENT_ERROR" if status is None else str(status),
            "ERROR_MESSAGE": (last.error if last is not None and last.error else f"HTTP {status}")[:256],
            "EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttempts",
            "RETRY_ATTEMPTS": str(max(0, tries - 1)),
        }
        self._sqs.send_message(
            QueueUrl=queue_url,
            MessageBody=json.dumps(event),
            MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
        )


@dataclass
class WebhookPoller:
    """The driver in a thread: drains the feed, then waits a moment when nothing was new."""

    driver: WebhookDriver
    idle_sleep_seconds: float = 0.25
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="poller-webhooks", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self, timeout: float = 3.0) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            asked = time.monotonic()
            try:
                if not self.driver.drain(wait_seconds=POLL_WAIT_SECONDS):
                    # The long poll waited (an emulator without long polls answers at once).
                    self._stop.wait(max(0.0, self.idle_sleep_seconds - (time.monotonic() - asked)))
            except Exception:
                log.exception("webhook poller failed; retrying")
                self._stop.wait(1.0)
