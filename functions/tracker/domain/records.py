"""The recipient record as the write paths (ingest and send) load, change and commit it."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tracker.domain.events import RecipientEvent
from tracker.domain.facts import RecipientFacts
from tracker.domain.status import Status


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
    # Ids of the events this change applies (for the markers of those ``seen`` cannot keep).
    new_event_ids: frozenset[str] = frozenset()

    @property
    def status_delta(self) -> Counter[Status]:
        delta: Counter[Status] = Counter()
        if self.before.facts.status != self.after.status:
            delta[self.before.facts.status] -= 1
            delta[self.after.status] += 1
        return delta

    @property
    def markers(self) -> frozenset[str]:
        """Ids of applied events that ``after.seen`` does not keep and that have no marker yet:
        this change's new ones left out, and kept ones it pushed out. The store writes their
        markers atomically with the recipient."""
        return (self.before.facts.seen | self.new_event_ids) - self.after.seen


def count_deltas(changes: Iterable[RecipientChange]) -> dict[MessageKey, Counter[Status]]:
    """Per-message status deltas; zero entries are dropped."""
    deltas: dict[MessageKey, Counter[Status]] = defaultdict(Counter)
    for change in changes:
        deltas[change.before.key.message].update(change.status_delta)
    return {
        message: Counter({status: n for status, n in delta.items() if n})
        for message, delta in deltas.items()
        if any(delta.values())
    }


@dataclass(frozen=True)
class WrittenDelta:
    """A count-delta item a commit wrote: its message, the store's id for it, and its counts."""

    message: MessageKey
    delta_id: str
    counts: Mapping[Status, int]


@dataclass(frozen=True)
class LogEntry:
    """One event of one committed recipient: what the event log and the event observers receive."""

    recipient: StoredRecipient
    event: RecipientEvent
