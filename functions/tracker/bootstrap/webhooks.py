"""The webhook routes' collaborators (the send function) and the webhook DLQ consumer's."""

from __future__ import annotations

import functools
from typing import Any

from tracker.dal.status_events import EventBridgeBus
from tracker.dal.webhooks import DynamoWebhookStore, EventBridgeWebhooks, resolve_host
from tracker.logic.webhooks import WebhookService
from tracker.settings import EventSettings, Settings


class LazyClient:
    """A boto3 client made on its first call: the send function's other routes never pay for it."""

    def __init__(self, service: str, region: str | None) -> None:
        self._make = functools.cache(lambda: __import__("boto3").client(service, region_name=region))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._make(), name)


def build_webhook_service(config: Settings, events: EventSettings, client: Any = None) -> WebhookService:
    client = client if client is not None else LazyClient("events", config.region)
    return WebhookService(
        DynamoWebhookStore(),
        EventBridgeWebhooks(
            client,
            events.bus_name,
            events.resource_prefix,
            role_arn=events.delivery_role_arn,
            dead_letter_arn=events.dead_letter_arn,
        ),
        EventBridgeBus(client, events.bus_name),
        resolve_host,
        allow_local_targets=events.allow_local_targets,
    )


def default_failure_recorder() -> WebhookService:
    """The webhook DLQ consumer's: only the store is used (no EventBridge call)."""
    from tracker.bootstrap.common import bind_table

    config = Settings.from_env()
    bind_table(config)
    return build_webhook_service(config, EventSettings.from_env())
