"""A tenant's webhook: set, read, removed, tested; and the deliveries EventBridge gave up on.

Delivery itself is EventBridge's (docs/events.md): a rule per tenant on the event bus, matching its
tenant id and the statuses it asked for, targets an API destination (its URL) through a connection
that holds the secret sent as a header with every delivery; retries for 24 hours, then the
webhook dead-letter queue, whose consumer records each failure here. This module knows no AWS SDK:
the stores, the routing and the name resolver are injected.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from tracker.domain.errors import NotFoundError, TransientStoreError
from tracker.domain.status import ALL_STATUSES, Status
from tracker.domain.status_events import StatusChange
from tracker.domain.webhooks import DeliveryFailure, Webhook, check_addresses, parse_target
from tracker.logic.publishing import EventBus

SECRET_BYTES = 32
FAILURES_KEPT = timedelta(days=30)
FAILURES_LISTED = 100


class WebhookStore(Protocol):
    def get(self, tenant_id: str) -> Webhook | None: ...
    def put(self, webhook: Webhook) -> None: ...
    def delete(self, tenant_id: str) -> None: ...
    def failures(self, tenant_id: str, limit: int) -> list[DeliveryFailure]: ...
    def record_failures(self, failures: Sequence[DeliveryFailure], keep_until: datetime) -> None: ...


class WebhookRouting(Protocol):
    def install(self, tenant_id: str, url: str, statuses: Sequence[str], secret: str | None) -> None:
        """Create or update the tenant's connection (with ``secret``; None: keep its secret), API
        destination and rule with its target."""
        ...

    def remove(self, tenant_id: str) -> None: ...


# host, port -> the addresses it resolves to (empty: it does not resolve)
Resolver = Callable[[str, int], list[str]]


@dataclass(frozen=True)
class WebhookSet:
    webhook: Webhook
    secret: str | None  # only when created or rotated: the tenant's one chance to read it


class WebhookService:
    def __init__(
        self,
        store: WebhookStore,
        routing: WebhookRouting,
        bus: EventBus,
        resolve: Resolver,
        allow_local_targets: bool = False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._routing = routing
        self._bus = bus
        self._resolve = resolve
        self._allow_local = allow_local_targets
        self._clock = clock

    def check_target(self, url: str) -> None:
        target = parse_target(url, self._allow_local)
        if not target.local:
            check_addresses(target.host, self._resolve(target.host, target.port))

    def put(
        self, tenant_id: str, url: str, statuses: Sequence[str] | None, rotate_secret: bool = False
    ) -> WebhookSet:
        self.check_target(url)
        chosen = tuple(s for s in ALL_STATUSES if statuses is None or s.value in set(statuses))
        existing = self._store.get(tenant_id)
        now = self._clock()
        secret = secrets.token_urlsafe(SECRET_BYTES) if existing is None or rotate_secret else None
        self._routing.install(tenant_id, url, [s.value for s in chosen], secret)
        webhook = Webhook(
            tenant_id=tenant_id,
            url=url,
            statuses=tuple(s.value for s in chosen),
            created_at=existing.created_at if existing is not None else now,
            updated_at=now,
        )
        self._store.put(webhook)
        return WebhookSet(webhook, secret)

    def get(self, tenant_id: str) -> Webhook:
        webhook = self._store.get(tenant_id)
        if webhook is None:
            raise NotFoundError("no webhook is set")
        return webhook

    def delete(self, tenant_id: str) -> Webhook:
        webhook = self.get(tenant_id)
        self._routing.remove(tenant_id)
        self._store.delete(tenant_id)
        return webhook

    def send_test(self, tenant_id: str) -> str:
        """Put a test event on the bus that the tenant's rule matches; returns its id."""
        webhook = self.get(tenant_id)
        status = Status.DELIVERED.value if Status.DELIVERED.value in webhook.statuses else webhook.statuses[0]
        now = self._clock()
        change = StatusChange(
            tenant_id=tenant_id,
            message_id="test",
            recipient_id="test",
            customer_id=None,
            kind=None,
            invoice_id=None,
            payment_id=None,
            previous_status=Status.SENT.value,
            status=status,
            previous_engagement=None,
            engagement=None,
            reason=None,
            ses_message_id=None,
            occurred_at=now,
            recorded_at=now,
            version=f"test-{uuid.uuid4().hex}",
            test=True,
        )
        if self._bus.put([change]):
            raise TransientStoreError("the event bus refused the test event; retry")
        return change.event_id

    def deliveries(self, tenant_id: str, limit: int = FAILURES_LISTED) -> list[DeliveryFailure]:
        return self._store.failures(tenant_id, limit)

    def record_failures(self, failures: Sequence[DeliveryFailure]) -> None:
        self._store.record_failures(failures, self._clock() + FAILURES_KEPT)
