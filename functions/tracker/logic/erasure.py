"""Erasing a customer's personal data across the tenant's messages (``DELETE /customers/{id}``).

Order, so that a call stopped part-way is finished by the next one: first the suppression records
of the customer's addresses move to their pseudonyms and the messages' texts are redacted (both
need the addresses, which only the recipients not yet erased still hold), then the recipients are
erased, then the audit entry is written. A call that finds nothing left to erase writes nothing and
answers the latest audit entry: erasure is idempotent. The counts of the messages never change:
an erased recipient keeps its status and tallies, so the projector sees no change to count.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from tracker.domain.erasure import ErasureRecord
from tracker.domain.errors import NotFoundError
from tracker.domain.ids import normalize_email
from tracker.logic.ports import ErasureStore


class ErasureService:
    def __init__(
        self, store: ErasureStore, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._store = store
        self._clock = clock

    def erase(self, tenant_id: str, customer_id: str, actor: str) -> ErasureRecord:
        """Erase what is left of the customer's personal data; raises NotFoundError for a customer
        this tenant never sent to (and never erased)."""
        recipients = self._store.customer_recipients(tenant_id, customer_id)
        pending = [r for r in recipients if not r.erased]
        if not pending:
            latest = self._store.latest_erasure(tenant_id, customer_id)
            if latest is not None:
                return latest
            if not recipients:
                raise NotFoundError("this customer has no messages")
        addresses = sorted({normalize_email(r.email) for r in pending})
        moved = sum(1 for address in addresses if self._store.move_suppression(tenant_id, address))
        personal = sorted({value for r in pending for value in r.personal})
        messages = sorted({r.key.message_id for r in pending})
        for message_id in messages:
            self._store.redact_message(tenant_id, message_id, personal)
        self._store.redact_idempotency(tenant_id, personal)
        at = self._clock()
        erased = sum(1 for r in pending if self._store.erase_recipient(r, at))
        record = ErasureRecord(
            tenant_id=tenant_id,
            customer_id=customer_id,
            erased_at=at,
            erased_by=actor,
            recipients=erased,
            messages=len(messages),
            suppressions=moved,
        )
        self._store.record_erasure(record)
        return record
