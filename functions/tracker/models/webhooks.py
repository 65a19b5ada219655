"""Bodies of the webhook routes (docs/events.md)."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from tracker import constants
from tracker.domain.status import Status
from tracker.domain.webhooks import MAX_URL_LENGTH, DeliveryFailure, Webhook
from tracker.models.api import ApiModel


class WebhookRequest(ApiModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    url: str = Field(
        min_length=1,
        max_length=MAX_URL_LENGTH,
        # The shape only; the host's resolution and scheme are checked by tracker.domain.webhooks.
        pattern=r"^https?://[^\s/?#@]+(/[^\s#]*)?$",
        description="An https:// URL of a public host (private, loopback and link-local targets are refused).",
    )
    statuses: list[Status] | None = Field(
        default=None,
        min_length=1,
        description="The new statuses to send events for; all of them when left out.",
    )
    rotate_secret: bool = Field(
        default=False, description="Issue a new secret (answered once, like the first one)."
    )


class WebhookOut(ApiModel):
    url: str
    statuses: list[Status]
    created_at: datetime
    updated_at: datetime
    secret_header: str = Field(description="The header every delivery carries the secret in.")

    @classmethod
    def of(cls, webhook: Webhook) -> WebhookOut:
        return cls(
            url=webhook.url,
            statuses=[Status(s) for s in webhook.statuses],
            created_at=webhook.created_at,
            updated_at=webhook.updated_at,
            secret_header=constants.WEBHOOK_SECRET_HEADER,
        )


class WebhookSetResponse(WebhookOut):
    secret: str | None = Field(
        description="The secret deliveries carry in `secret_header`: only in the answer that created "
        "or rotated it (null otherwise); it cannot be read again."
    )


class WebhookTestResponse(ApiModel):
    event_id: str = Field(description="The test event's id (`detail.event_id`, `test` true).")


class DeliveryFailureOut(ApiModel):
    event_id: str
    failed_at: datetime
    status: str | None
    message_id: str | None
    recipient_id: str | None
    error_code: str | None = Field(description="EventBridge's, e.g. `SDK_CLIENT_ERROR` or an HTTP status.")
    error_message: str | None
    attempts: int | None

    @classmethod
    def of(cls, failure: DeliveryFailure) -> DeliveryFailureOut:
        return cls(
            event_id=failure.event_id,
            failed_at=failure.failed_at,
            status=failure.status,
            message_id=failure.message_id,
            recipient_id=failure.recipient_id,
            error_code=failure.error_code,
            error_message=failure.error_message,
            attempts=failure.attempts,
        )


class DeliveryFailurePage(ApiModel):
    items: list[DeliveryFailureOut]
