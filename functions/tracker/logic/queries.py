"""The read side: what the four views show, from what the store returns.

Pure orchestration (no AWS SDK): a ``ReadStore`` hands back plain records, one DynamoDB page at a
time, and :class:`ReadQueries` turns them into listings the API presents. Cursors are decoded before
the store is asked anything and bound to the tenant and to the list (route and fixed filters), so a
cursor is only ever replayed on the list it came from.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tracker.domain.errors import InvalidCursorError, InvalidRequestError, NotFoundError
from tracker.domain.status import Status
from tracker.domain.views import (
    InvoiceLogGroup,
    Listing,
    MessageRecord,
    Page,
    RecipientRecord,
    Timeline,
    group_invoice_log,
)
from tracker.logic.ports import CursorSigner, ReadStore


def _offset(start: dict[str, Any] | None) -> int:
    """Where a timeline page starts: a signed cursor's offset into the recipient's kept events."""
    if start is None:
        return 0
    offset = start.get("offset")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise InvalidCursorError()
    return offset


def utc(value: datetime | None, field_name: str) -> datetime | None:
    """ISO-8601 input without an offset is UTC."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (OverflowError, ValueError) as error:
        raise InvalidRequestError(f"{field_name}: out of range", field=field_name) from error


class ReadQueries:
    def __init__(self, store: ReadStore, cursors: CursorSigner) -> None:
        self._store = store
        self._cursors = cursors

    def _listing(self, tenant_id: str, scope: tuple[str | None, ...], page: Page[Any]) -> Listing[Any]:
        return Listing(page.items, self._cursors.encode(tenant_id, scope, page.next_key))

    def list_messages(
        self,
        tenant_id: str,
        *,
        kind: str | None,
        since: datetime | None,
        until: datetime | None,
        limit: int,
        cursor: str | None,
    ) -> Listing[MessageRecord]:
        since, until = utc(since, "since"), utc(until, "until")
        if since is not None and until is not None and since > until:
            raise InvalidRequestError("since: must not be after until", field="since")
        scope = ("messages", kind, since.isoformat() if since else None, until.isoformat() if until else None)
        start = self._cursors.decode(cursor, tenant_id, scope)
        page = self._store.messages(tenant_id, kind=kind, since=since, until=until, limit=limit, start=start)
        return self._listing(tenant_id, scope, page)

    def get_message(self, tenant_id: str, message_id: str) -> MessageRecord:
        """The message with its counts (the projector's: within one stream batch of every event)."""
        found = self._store.message(tenant_id, message_id)
        if found is None:
            raise NotFoundError("message not found")
        return found

    def list_recipients(
        self, tenant_id: str, message_id: str, *, status: Status | None, limit: int, cursor: str | None
    ) -> Listing[RecipientRecord]:
        scope = ("recipients", message_id, status.value if status else None)
        start = self._cursors.decode(cursor, tenant_id, scope)
        page = self._store.recipients(tenant_id, message_id, status=status, limit=limit, start=start)
        if start is None and page.evaluated == 0:
            raise NotFoundError("message not found")
        return self._listing(tenant_id, scope, page)

    def recipient_timeline(
        self, tenant_id: str, message_id: str, recipient_id: str, *, limit: int, cursor: str | None
    ) -> Timeline:
        """A page of the recipient's kept events with the recipient itself, whose facts decide the
        verdict of each open and click: one read, the item holds its timeline. An unknown
        recipient is a 404."""
        scope = ("events", message_id, recipient_id)
        start = self._cursors.decode(cursor, tenant_id, scope)
        offset = _offset(start)
        recipient = self._store.recipient(tenant_id, message_id, recipient_id)
        if recipient is None:
            raise NotFoundError("recipient not found")
        events = recipient.events
        page = events[offset : offset + limit]
        following = {"offset": offset + limit} if offset + limit < len(events) else None
        listing = Listing(page, self._cursors.encode(tenant_id, scope, following))
        return Timeline(listing, recipient, omitted=recipient.facts.omitted_events)

    def invoice_logs(
        self, tenant_id: str, invoice_id: str, *, limit: int, cursor: str | None
    ) -> Listing[InvoiceLogGroup]:
        scope = ("invoice-logs", invoice_id)
        start = self._cursors.decode(cursor, tenant_id, scope)
        page = self._store.invoice_log(tenant_id, invoice_id, limit=limit, start=start)
        if start is None and page.evaluated == 0:
            raise NotFoundError("invoice not found")
        return Listing(group_invoice_log(page.items), self._cursors.encode(tenant_id, scope, page.next_key))

    def customer_messages(
        self, tenant_id: str, customer_id: str, *, kind: str | None, limit: int, cursor: str | None
    ) -> Listing[RecipientRecord]:
        scope = ("customer-messages", customer_id, kind)
        start = self._cursors.decode(cursor, tenant_id, scope)
        page = self._store.customer_messages(tenant_id, customer_id, kind=kind, limit=limit, start=start)
        if start is None and page.evaluated == 0:
            raise NotFoundError("customer not found")
        return self._listing(tenant_id, scope, page)
