"""The logic layer's ports: what each use case needs of a store, a queue or SES, as Protocols.

The adapters that implement them live in ``tracker.dal`` (DynamoDB, SQS, SES) and in the tests (in
memory); the composition root (``tracker.bootstrap``) picks them. Nothing here knows an AWS SDK.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol, runtime_checkable

from tracker.domain.events import RecipientEvent
from tracker.domain.facts import RecipientFacts
from tracker.domain.messages import MessageContent, OutgoingMail, PlannedMessage, SendJob, SendTarget
from tracker.domain.quarantine import QuarantinedRecord
from tracker.domain.records import (
    LogEntry,
    MessageKey,
    RecipientChange,
    RecipientKey,
    StoredRecipient,
    WrittenDelta,
)
from tracker.domain.status import Status
from tracker.domain.suppression import (
    Address,
    Decision,
    Evidence,
    HistoryEntry,
    SuppressionRecord,
    SuppressionState,
    SuppressionWrite,
)
from tracker.domain.views import (
    EventRecord,
    LogRecord,
    MessageRecord,
    MessageWithPending,
    Page,
    RecipientRecord,
)

# --- the ingest path ---------------------------------------------------------------------------


class IngestStore(Protocol):
    def load_recipients(self, keys: Collection[RecipientKey]) -> dict[RecipientKey, StoredRecipient]: ...

    def find_by_ses_message_ids(
        self, ses_message_ids: Collection[str]
    ) -> dict[str, list[StoredRecipient]]: ...

    def markers_present(self, wanted: Mapping[RecipientKey, Collection[str]]) -> dict[RecipientKey, set[str]]:
        """Of these event ids, those each recipient has a marker for (applied beyond ``seen``)."""
        ...

    def commit(self, changes: Sequence[RecipientChange]) -> Sequence[WrittenDelta]:
        """Atomically write the recipients, their markers (``RecipientChange.markers``, each only
        if absent) and the count deltas their status changes imply; returns the delta items
        written (one per message whose counts change).

        Raises ConflictError (args: the conflicting keys) when a recipient changed since it was
        loaded or a marker exists already, TransientStoreError when a retry may succeed (after
        either, the caller cannot be sure that nothing was written: a response can be lost after
        the write), UnwritableError when the store refuses the write for good.
        """
        ...

    def append_log(self, entries: Sequence[LogEntry]) -> None: ...

    def fold_deltas(
        self, written: Mapping[MessageKey, Sequence[WrittenDelta]], query: Collection[MessageKey]
    ) -> None:
        """Fold count deltas into their message items, at most one message-item write per
        message (per 99 deltas).

        A message in ``query``: every pending delta of it, found with a consistent read (also
        those in ``written``). Any other message: exactly its ``written`` deltas, without
        reading; when that is refused because one of them is gone (another fold took it) or its
        outcome is unknown, the store folds what is pending for that message instead. Raises
        TransientStoreError when a message could not be folded (its deltas stay pending).
        """
        ...

    def quarantine(self, source_id: str, body: str, reason: str, detail: str) -> None: ...


class EventObserver(Protocol):
    """Told about the events of every committed recipient, duplicates included (so it must be
    idempotent): a crash after the commit is repaired by the redelivery, whose events are then
    duplicates. Raises TransientStoreError to have the records retried."""

    def interested(self, event: RecipientEvent) -> bool: ...

    def observe(self, entries: Sequence[LogEntry]) -> None: ...


# --- the send path -----------------------------------------------------------------------------


class MessageStore(Protocol):
    def create(self, message: PlannedMessage) -> None:
        """Content and recipients first, the message with its initial counts last; re-running it
        for the same message rewrites the same items."""
        ...


class JobQueue(Protocol):
    def enqueue(self, jobs: Sequence[SendJob]) -> list[SendJob]:
        """Queue the jobs; returns those that could not be queued."""
        ...


class SuppressionCheck(Protocol):
    def active_reasons(self, tenant_id: str, emails: Collection[str]) -> dict[str, str]: ...


class IdempotencyGuard(Protocol):
    def run(
        self,
        tenant_id: str,
        key: str,
        request: Mapping[str, Any],
        compute: Callable[[], dict[str, Any]],
    ) -> dict[str, Any]:
        """The stored result of the first request with this key (for this tenant), computing it once.

        Raises RequestMismatchError when the key was used with a different ``request`` and
        ConflictError while the first request is still running."""
        ...


class SendStore(Protocol):
    def load_targets(
        self, tenant_id: str, message_id: str, recipient_ids: Collection[str]
    ) -> dict[str, SendTarget]: ...

    def reload(self, target: SendTarget) -> SendTarget: ...

    def load_content(self, tenant_id: str, message_id: str) -> MessageContent | None: ...

    def claim(self, target: SendTarget, claim: str, at: datetime) -> SendTarget:
        """Conditional on the target's version; raises ConflictError when it changed."""
        ...

    def release(self, target: SendTarget) -> None:
        """Clear the claim (the send certainly did not happen); ConflictError when it changed."""
        ...

    def record(self, target: SendTarget, facts: RecipientFacts, ses_message_id: str | None) -> None:
        """Atomically write the recipient's new facts (clearing the claim, storing the SES message id
        when given) and the count delta its status change implies. ConflictError when it changed."""
        ...

    def fold(self, message: MessageKey) -> None: ...


# --- SES, behind a small protocol -------------------------------------------------------


class Mailer(Protocol):
    def send(self, mail: OutgoingMail) -> str:
        """Hand one message to SES; returns SES's message id or raises a SendError."""
        ...


# --- suppression -------------------------------------------------------------------------------


@runtime_checkable
class SuppressionBatches(Protocol):
    """The batch operations of the ingest observer: each is a constant number of round trips,
    however many addresses (and tenants) it is given."""

    def add_evidence_many(self, evidence: Mapping[Address, Sequence[Evidence]]) -> None:
        """``add_evidence`` for every address at once. Idempotent: evidence is keyed by its event id."""
        ...

    def load_records(self, addresses: Collection[Address]) -> dict[Address, SuppressionRecord]:
        """The records of these addresses that exist, strongly consistent (like ``get``)."""
        ...

    def load_evidence_many(self, since: Mapping[Address, datetime | None]) -> dict[Address, list[Evidence]]:
        """``load_evidence`` of every address (strongly consistent), each from its own instant."""
        ...

    def suppress_many(self, writes: Sequence[SuppressionWrite], at: datetime) -> set[Address]:
        """``suppress`` each write; returns the addresses whose record changed since ``previous``
        was read (the ConflictErrors). Any other failure raises TransientStoreError."""
        ...


class SuppressionStore(SuppressionBatches, Protocol):
    def add_evidence(self, tenant_id: str, email: str, evidence: Sequence[Evidence]) -> None:
        """Idempotent: evidence is keyed by its event id."""
        ...

    def load_evidence(self, tenant_id: str, email: str, since: datetime | None) -> list[Evidence]:
        """Strongly consistent, so a writer always sees its own evidence and every earlier one."""
        ...

    def get(self, tenant_id: str, email: str) -> SuppressionRecord | None: ...

    def get_many(self, tenant_id: str, emails: Collection[str]) -> dict[str, SuppressionRecord]: ...

    def suppress(
        self, tenant_id: str, email: str, decision: Decision, at: datetime, previous: SuppressionRecord | None
    ) -> None:
        """Raises ConflictError when the record changed since ``previous`` was read."""
        ...

    def lift(self, record: SuppressionRecord, actor: str, at: datetime) -> SuppressionRecord:
        """Raises ConflictError when the record changed since it was read."""
        ...

    def list_page(
        self, tenant_id: str, state: SuppressionState, limit: int, position: Mapping[str, Any] | None
    ) -> tuple[list[SuppressionRecord], dict[str, Any] | None]: ...

    def history(self, tenant_id: str, email: str) -> list[HistoryEntry]: ...


# --- the read side -----------------------------------------------------------------------------


class ReadStore(Protocol):
    """Every list method is exactly one Query for one page of at most ``limit`` items."""

    def messages(
        self,
        tenant_id: str,
        *,
        kind: str | None,
        since: datetime | None,
        until: datetime | None,
        limit: int,
        start: dict[str, Any] | None,
    ) -> Page[MessageRecord]: ...

    def message(self, tenant_id: str, message_id: str) -> MessageWithPending | None: ...

    def recipients(
        self,
        tenant_id: str,
        message_id: str,
        *,
        status: Status | None,
        limit: int,
        start: dict[str, Any] | None,
    ) -> Page[RecipientRecord]: ...

    def recipient_events(
        self, tenant_id: str, message_id: str, recipient_id: str, *, limit: int, start: dict[str, Any] | None
    ) -> Page[EventRecord]: ...

    def recipient(self, tenant_id: str, message_id: str, recipient_id: str) -> RecipientRecord | None:
        """One recipient by its key (a GetItem)."""
        ...

    def invoice_log(
        self, tenant_id: str, invoice_id: str, *, limit: int, start: dict[str, Any] | None
    ) -> Page[LogRecord]: ...

    def customer_messages(
        self, tenant_id: str, customer_id: str, *, kind: str | None, limit: int, start: dict[str, Any] | None
    ) -> Page[RecipientRecord]: ...


class CursorSigner(Protocol):
    """Opaque, tamper-evident cursors (``tracker.api.cursors.CursorCodec``). ``scope`` names the list
    a cursor belongs to (route and fixed filters); a cursor decodes only for its tenant and scope."""

    def encode(
        self, tenant_id: str, scope: Sequence[str | None], position: dict[str, Any] | None
    ) -> str | None: ...

    def decode(
        self, cursor: str | None, tenant_id: str, scope: Sequence[str | None]
    ) -> dict[str, Any] | None: ...


# --- the quarantine ------------------------------------------------------------------------------


class QuarantineStore(Protocol):
    def list_day(self, day: date) -> list[QuarantinedRecord]:
        """Every record quarantined on ``day`` (UTC), oldest first."""
        ...

    def mark_redriven(self, records: Sequence[QuarantinedRecord], at: datetime) -> None: ...


class EventRedelivery(Protocol):
    def redeliver(self, bodies: Sequence[str]) -> list[int]:
        """Put these SQS bodies on the events queue again; returns the positions not queued."""
        ...


# --- Apple's address ranges ------------------------------------------------------------------------


class AppleRangesFeed(Protocol):
    def download(self) -> str:
        """Apple's published egress list, whole, as text. Raises ReferenceDataError when it cannot
        be fetched (network, TLS, HTTP status, a body over the size bound, not text)."""
        ...


class AppleRangesReader(Protocol):
    def read(self) -> bytes | None:
        """The stored compact form (``AppleRanges.to_compact``); None when nothing is stored.
        Raises ReferenceDataError when it exists but cannot be read."""
        ...


class AppleRangesStore(AppleRangesReader, Protocol):
    def write(self, blob: bytes, *, refreshed_at: datetime, prefixes: int) -> None:
        """Replace the stored compact form in one step, recording when and how many prefixes.
        Raises ReferenceDataError when it is not stored (the previous one then stays)."""
        ...
