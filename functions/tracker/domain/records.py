"""The recipient record as the write paths (ingest and send) load, change and commit it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tracker.domain.facts import RecipientFacts


@dataclass(frozen=True, order=True)
class MessageKey:
    tenant_id: str
    message_id: str


@dataclass(frozen=True, order=True)
class RecipientKey:
    tenant_id: str
    message_id: str
    recipient_id: str

    @property
    def message(self) -> MessageKey:
        return MessageKey(self.tenant_id, self.message_id)


@dataclass(frozen=True)
class StoredRecipient:
    """A recipient as loaded, with the opaque ``version`` its write is conditioned on."""

    key: RecipientKey
    email: str
    facts: RecipientFacts
    version: int | None
    ses_message_id: str | None = None
    store_ref: Any = None  # whatever the store needs to write the item back


@dataclass(frozen=True)
class RecipientChange:
    before: StoredRecipient
    after: RecipientFacts
    # Short ids of the events this change applies (for the markers of those ``seen`` cannot keep).
    new_event_ids: frozenset[str] = frozenset()

    @property
    def markers(self) -> frozenset[str]:
        """Ids of applied events that ``after.seen`` does not keep and that have no marker yet:
        this change's new ones left out, and kept ones it pushed out. The store writes their
        markers atomically with the recipient."""
        return (self.before.facts.seen | self.new_event_ids) - self.after.seen
