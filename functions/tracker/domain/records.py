"""The recipient record as the write paths (ingest and send) load, change and commit it."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tracker.domain.events import RecipientEvent
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
    # Ids of the events this change applies (for the markers of those ``seen`` cannot keep).
    new_event_ids: frozenset[str] = frozenset()

    @property
    def status_delta(self) -> Counter[str]:
        """The message counts' change: -1 for what the recipient was counted under, +1 for what it
        is counted under now (its status and engagement tallies)."""
        before, after = self.before.facts.tallies, self.after.tallies
        delta: Counter[str] = Counter()
        for tally in before - after:
            delta[tally] -= 1
        for tally in after - before:
            delta[tally] += 1
        return delta

    @property
    def markers(self) -> frozenset[str]:
        """Ids of applied events that ``after.seen`` does not keep and that have no marker yet:
        this change's new ones left out, and kept ones it pushed out. The store writes their
        markers atomically with the recipient."""
        return (self.before.facts.seen | self.new_event_ids) - self.after.seen


def count_deltas(changes: Iterable[RecipientChange]) -> dict[MessageKey, Counter[str]]:
    """Per-message count deltas (statuses and tallies); zero entries are dropped."""
    deltas: dict[MessageKey, Counter[str]] = defaultdict(Counter)
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
    counts: Mapping[str, int]


@dataclass(frozen=True)
class LogEntry:
    """One event of one committed recipient: what the event log and the event observers receive."""

    recipient: StoredRecipient
    event: RecipientEvent
