"""A message's Links and Providers tabs (docs/insights.md): read from the numbers the projector
keeps on the message item, never from its recipients (a 100,000-recipient message is one GetItem)."""

from __future__ import annotations

from typing import Protocol

from tracker.domain.errors import NotFoundError
from tracker.domain.insights import MessageInsights


class InsightStore(Protocol):
    def insights(self, tenant_id: str, message_id: str) -> MessageInsights | None:
        """The message's insights (None: no such message)."""
        ...


class InsightQueries:
    def __init__(self, store: InsightStore) -> None:
        self._store = store

    def insights(self, tenant_id: str, message_id: str) -> MessageInsights:
        found = self._store.insights(tenant_id, message_id)
        if found is None:
            raise NotFoundError("message not found")
        return found
