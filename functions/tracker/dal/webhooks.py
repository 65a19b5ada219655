"""Webhook adapters: the tenant's configuration and delivery failures (table items), its EventBridge
resources (connection, API destination, rule and target), the name resolver of the SSRF check,
and the failures EventBridge puts on the webhook dead-letter queue.

Every EventBridge resource of a tenant is named ``<prefix><hash of the tenant id>`` (tenant ids
may be longer than EventBridge names allow), and the webhook routes' role may touch only names
with that prefix (infra/events.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
import socket
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import PynamoDBException

from tracker import constants
from tracker.dal import keys
from tracker.dal.models import TrackerItem
from tracker.domain.errors import TransientStoreError
from tracker.domain.webhooks import DeliveryFailure, Webhook

logger = logging.getLogger(__name__)

TARGET_ID = "webhook"
MAX_EVENT_AGE_SECONDS = 24 * 3600  # EventBridge retries for 24 hours (its maximum) ...
MAX_RETRY_ATTEMPTS = 185  # ... and at most this often (its maximum)
INVOCATION_RATE_PER_SECOND = 10  # per tenant: a burst of bounces does not flood its endpoint


class WebhookItem(TrackerItem, discriminator="webhook"):
    url = UnicodeAttribute()
    statuses = UnicodeAttribute()  # comma-separated, in the statuses' order
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class WebhookFailureItem(TrackerItem, discriminator="webhook_failure"):
    event_id = UnicodeAttribute()
    failed_at = UnicodeAttribute()
    status = UnicodeAttribute(null=True)
    message_id = UnicodeAttribute(null=True)
    recipient_id = UnicodeAttribute(null=True)
    error_code = UnicodeAttribute(null=True)
    error_message = UnicodeAttribute(null=True)
    attempts = NumberAttribute(null=True)
    expires_at = TTLAttribute(null=True, attr_name=constants.TTL_ATTRIBUTE)


class DynamoWebhookStore:
    """logic.webhooks.WebhookStore on the table."""

    def get(self, tenant_id: str) -> Webhook | None:
        try:
            item = WebhookItem.get(keys.webhook_pk(tenant_id), keys.WEBHOOK_SK)
        except WebhookItem.DoesNotExist:
            return None
        except PynamoDBException as error:
            raise TransientStoreError(f"webhook of {tenant_id}: {error}") from error
        return Webhook(
            tenant_id=tenant_id,
            url=item.url,
            statuses=tuple(s for s in item.statuses.split(",") if s),
            created_at=keys.parse_iso(item.created_at),
            updated_at=keys.parse_iso(item.updated_at),
        )

    def put(self, webhook: Webhook) -> None:
        WebhookItem(
            keys.webhook_pk(webhook.tenant_id),
            keys.WEBHOOK_SK,
            tenant_id=webhook.tenant_id,
            url=webhook.url,
            statuses=",".join(webhook.statuses),
            created_at=keys.iso(webhook.created_at),
            updated_at=keys.iso(webhook.updated_at),
        ).save()

    def delete(self, tenant_id: str) -> None:
        WebhookItem(keys.webhook_pk(tenant_id), keys.WEBHOOK_SK).delete()

    def failures(self, tenant_id: str, limit: int) -> list[DeliveryFailure]:
        items = WebhookFailureItem.query(
            keys.webhook_pk(tenant_id),
            WebhookFailureItem.sk.startswith(keys.WEBHOOK_FAILURE_SK_PREFIX),
            scan_index_forward=False,
            limit=limit,
        )
        return [
            DeliveryFailure(
                tenant_id=tenant_id,
                event_id=item.event_id,
                failed_at=keys.parse_iso(item.failed_at),
                status=item.status,
                message_id=item.message_id,
                recipient_id=item.recipient_id,
                error_code=item.error_code,
                error_message=item.error_message,
                attempts=int(item.attempts) if item.attempts is not None else None,
            )
            for item in items
        ]

    def record_failures(self, failures: Sequence[DeliveryFailure], keep_until: datetime) -> None:
        if not failures:
            return
        try:
            self._write_failures(failures, keep_until)
        except PynamoDBException as error:
            raise TransientStoreError(f"delivery failures: {error}") from error

    def _write_failures(self, failures: Sequence[DeliveryFailure], keep_until: datetime) -> None:
        with WebhookFailureItem.batch_write() as batch:
            for failure in failures:
                batch.save(
                    WebhookFailureItem(
                        keys.webhook_pk(failure.tenant_id),
                        keys.webhook_failure_sk(failure.failed_at, failure.event_id),
                        tenant_id=failure.tenant_id,
                        event_id=failure.event_id,
                        failed_at=keys.iso(failure.failed_at),
                        status=failure.status,
                        message_id=failure.message_id,
                        recipient_id=failure.recipient_id,
                        error_code=failure.error_code,
                        error_message=(failure.error_message or "")[:500] or None,
                        attempts=failure.attempts,
                        expires_at=keep_until,
                    )
                )


def resource_name(prefix: str, tenant_id: str) -> str:
    return f"{prefix}{hashlib.sha256(tenant_id.encode()).hexdigest()[:24]}"


def rule_pattern(tenant_id: str, statuses: Sequence[str]) -> dict[str, Any]:
    return {
        "source": [constants.EVENT_SOURCE],
        "detail-type": [constants.EVENT_DETAIL_TYPE],
        "detail": {"tenant_id": [tenant_id], "status": list(statuses)},
    }


def _missing(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ResourceNotFoundException"


class EventBridgeWebhooks:
    """logic.webhooks.WebhookRouting on EventBridge."""

    def __init__(
        self,
        client: Any,
        bus_name: str,
        prefix: str,
        role_arn: str | None,
        dead_letter_arn: str | None,
    ) -> None:
        self._client = client
        self._bus = bus_name
        self._prefix = prefix
        self._role_arn = role_arn
        self._dead_letter_arn = dead_letter_arn

    def name(self, tenant_id: str) -> str:
        return resource_name(self._prefix, tenant_id)

    def install(self, tenant_id: str, url: str, statuses: Sequence[str], secret: str | None) -> None:
        name = self.name(tenant_id)
        try:
            connection_arn = self._connection(name, tenant_id, secret)
            destination_arn = self._destination(name, tenant_id, connection_arn, url)
            self._client.put_rule(
                Name=name,
                EventBusName=self._bus,
                EventPattern=json.dumps(rule_pattern(tenant_id, statuses)),
                State="ENABLED",
                Description=f"Webhook of tenant {tenant_id}"[:512],
            )
            target: dict[str, Any] = {
                "Id": TARGET_ID,
                "Arn": destination_arn,
                # The body is the event's detail (docs/events.md), not EventBridge's envelope.
                "InputPath": "$.detail",
                "RetryPolicy": {
                    "MaximumEventAgeInSeconds": MAX_EVENT_AGE_SECONDS,
                    "MaximumRetryAttempts": MAX_RETRY_ATTEMPTS,
                },
            }
            if self._role_arn:
                target["RoleArn"] = self._role_arn
            if self._dead_letter_arn:
                target["DeadLetterConfig"] = {"Arn": self._dead_letter_arn}
            answer = self._client.put_targets(Rule=name, EventBusName=self._bus, Targets=[target])
        except (ClientError, BotoCoreError) as error:
            raise TransientStoreError(f"webhook routing of {tenant_id}: {error}") from error
        if answer.get("FailedEntryCount"):
            raise TransientStoreError(f"webhook target of {tenant_id} refused: {answer.get('FailedEntries')}")

    def _connection(self, name: str, tenant_id: str, secret: str | None) -> str:
        try:
            found = self._client.describe_connection(Name=name)
        except ClientError as error:
            if not _missing(error):
                raise
            found = None
        auth = {
            "ApiKeyAuthParameters": {"ApiKeyName": constants.WEBHOOK_SECRET_HEADER, "ApiKeyValue": secret}
        }
        if found is None:
            if secret is None:
                raise TransientStoreError(f"the connection of {tenant_id} is gone: rotate the secret")
            created = self._client.create_connection(
                Name=name,
                Description=f"Webhook of tenant {tenant_id}"[:512],
                AuthorizationType="API_KEY",
                AuthParameters=auth,
            )
            return str(created["ConnectionArn"])
        if secret is not None:
            self._client.update_connection(Name=name, AuthorizationType="API_KEY", AuthParameters=auth)
        return str(found["ConnectionArn"])

    def _destination(self, name: str, tenant_id: str, connection_arn: str, url: str) -> str:
        settings = {
            "Name": name,
            "ConnectionArn": connection_arn,
            "InvocationEndpoint": url,
            "HttpMethod": "POST",
            "InvocationRateLimitPerSecond": INVOCATION_RATE_PER_SECOND,
        }
        try:
            self._client.describe_api_destination(Name=name)
        except ClientError as error:
            if not _missing(error):
                raise
            created = self._client.create_api_destination(
                **settings, Description=f"Webhook of tenant {tenant_id}"[:512]
            )
            return str(created["ApiDestinationArn"])
        return str(self._client.update_api_destination(**settings)["ApiDestinationArn"])

    def remove(self, tenant_id: str) -> None:
        name = self.name(tenant_id)
        steps = (
            lambda: self._client.remove_targets(Rule=name, EventBusName=self._bus, Ids=[TARGET_ID]),
            lambda: self._client.delete_rule(Name=name, EventBusName=self._bus),
            lambda: self._client.delete_api_destination(Name=name),
            lambda: self._client.delete_connection(Name=name),
        )
        for step in steps:
            try:
                step()
            except ClientError as error:
                if not _missing(error):
                    raise TransientStoreError(f"webhook removal of {tenant_id}: {error}") from error
            except BotoCoreError as error:
                raise TransientStoreError(f"webhook removal of {tenant_id}: {error}") from error


def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6); none when it does not resolve."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        return []
    return sorted({str(answer[4][0]) for answer in answers})


# --- the webhook dead-letter queue ---------------------------------------------------------------


def _attribute(record: Mapping[str, Any], name: str) -> str | None:
    value = (record.get("messageAttributes") or {}).get(name) or {}
    text = value.get("stringValue") if isinstance(value, Mapping) else None
    return str(text) if text is not None else None


def failure_of(record: Mapping[str, Any], received: datetime | None = None) -> DeliveryFailure | None:
    """The delivery failure an SQS record of the webhook DLQ describes (EventBridge puts the event
    there with ERROR_CODE, ERROR_MESSAGE and RETRY_ATTEMPTS attributes); None if it is not ours."""
    try:
        body = json.loads(record.get("body") or "")
    except ValueError:
        return None
    if not isinstance(body, Mapping):
        return None
    inner = body.get("detail")
    detail: Mapping[str, Any] = inner if isinstance(inner, Mapping) else body
    tenant_id, event_id = detail.get("tenant_id"), detail.get("event_id")
    if not isinstance(tenant_id, str) or not isinstance(event_id, str):
        return None
    attempts = _attribute(record, "RETRY_ATTEMPTS")
    sent = (record.get("attributes") or {}).get("SentTimestamp")
    failed_at = (
        datetime.fromtimestamp(int(sent) / 1000, tz=UTC)
        if isinstance(sent, str) and sent.isdigit()
        else received or datetime.now(UTC)
    )
    return DeliveryFailure(
        tenant_id=tenant_id,
        event_id=event_id,
        failed_at=failed_at,
        status=detail.get("status") if isinstance(detail.get("status"), str) else None,
        message_id=detail.get("message_id") if isinstance(detail.get("message_id"), str) else None,
        recipient_id=detail.get("recipient_id") if isinstance(detail.get("recipient_id"), str) else None,
        error_code=_attribute(record, "ERROR_CODE"),
        error_message=_attribute(record, "ERROR_MESSAGE"),
        attempts=int(attempts) if attempts and attempts.isdigit() else None,
    )
