"""The attention queue's reads: documents whose delivery failed or is stuck, newest first.

A message is in the queue from its ``attention_at`` on (the projector sets it: the first failure,
or the first send plus the stuck setting while a recipient is pending), so "stuck" needs no timer:
the read asks for ``attention_at <= now``. ``now`` is the injected clock's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from tracker.domain.attention import AttentionRecord
from tracker.domain.views import Listing
from tracker.logic.ports import AttentionStore, CursorSigner


class AttentionQueries:
    def __init__(
        self,
        store: AttentionStore,
        cursors: CursorSigner,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._cursors = cursors
        self._clock = clock

    def page(
        self, tenant_id: str, *, kind: str | None, limit: int, cursor: str | None
    ) -> Listing[AttentionRecord]:
        scope = ("attention", kind)
        start = self._cursors.decode(cursor, tenant_id, scope)
        page = self._store.attention(tenant_id, kind=kind, now=self._clock(), limit=limit, start=start)
        return Listing(page.items, self._cursors.encode(tenant_id, scope, page.next_key))

    def count(self, tenant_id: str, *, kind: str | None) -> int:
        return self._store.attention_count(tenant_id, kind=kind, now=self._clock())
