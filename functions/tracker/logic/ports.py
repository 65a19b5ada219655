"""The logic layer's ports: what each use case needs of a store, a queue or SES, as Protocols.

The adapters that implement them live in ``tracker.dal`` (DynamoDB, SQS, SES) and in the tests (in
memory); the composition root (``tracker.bootstrap``) picks them. Nothing here knows an AWS SDK.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

# Annotations only (the Protocols' signatures): the domain modules they name are loaded by the code
# that uses them, so a function imports only the parts of the domain it needs.
if TYPE_CHECKING:
    from tracker.domain.attention import AttentionRecord, ResendSource
    from tracker.domain.erasure import CustomerRecipient, ErasureRecord
    from tracker.domain.facts import RecipientFacts
    from tracker.domain.links import Dismissal, ResendLink
    from tracker.domain.messages import MessageContent, OutgoingMail, PlannedMessage, SendJob, SendTarget
    from tracker.domain.quarantine import QuarantinedRecord
    from tracker.domain.records import (
        RecipientChange,
        RecipientKey,
        StoredRecipient,
    )
    from tracker.domain.status import Status
    from tracker.domain.suppression import (
        Address,
        AddressState,
        Evidence,
        HistoryEntry,
        SuppressionRecord,
        SuppressionState,
        SuppressionWrite,
    )
    from tracker.domain.unsubscribe import Unsubscription
    from tracker.domain.views import (
        LogRecord,
        MessageRecord,
        Page,
        RecipientRecord,
    )


# --- the ingest path ---------------------------------------------------------------------------


class IngestStore(Protocol):
    def load_recipients(
        self, keys: Collection[RecipientKey], consistent: bool = False
    ) -> dict[RecipientKey, StoredRecipient]: ...

    def find_by_ses_message_ids(
        self, ses_message_ids: Collection[str]
    ) -> dict[str, list[StoredRecipient]]: ...

    def markers_present(self, wanted: Mapping[RecipientKey, Collection[str]]) -> dict[RecipientKey, set[str]]:
        """Of these event ids, those each recipient has a marker for (applied beyond ``seen``)."""
        ...

    def commit(self, change: RecipientChange) -> None:
        """Write the recipient's new facts, conditioned on the version it was loaded at, with its
        markers (``RecipientChange.markers``, each only if absent) in the same transaction.

        Raises ConflictError when the recipient changed since it was loaded (or a marker exists
        already), TransientStoreError when a retry may succeed (the caller cannot be sure nothing
        was written: a response can be lost after the write), UnwritableError when the store
        refuses the write for good.
        """
        ...

    def quarantine(self, source_id: str, body: str, reason: str, detail: str) -> None: ...


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
    def active_reasons(
        self, tenant_id: str, emails: Collection[str], *, kind: str | None = None
    ) -> dict[str, str]:
        """Addresses not to send to, with why: suppressed ones, and for an ``email`` (``kind``)
        also the addresses unsubscribed from the tenant's emails."""
        ...


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


# --- SES, behind a small protocol -------------------------------------------------------


class Mailer(Protocol):
    def send(self, mail: OutgoingMail) -> str:
        """Hand one message to SES; returns SES's message id or raises a SendError."""
        ...


class SendRateSource(Protocol):
    def max_send_rate(self) -> float:
        """Messages per second the whole stack may hand to SES (the account's maximum send rate,
        or the operator's override); cheap to call per job (the adapter caches)."""
        ...


# --- suppression -------------------------------------------------------------------------------


class SuppressionStore(Protocol):
    """An address's record and its evidence set, one item per address. Each batch method is one
    round of requests (one per address, concurrently), however many addresses it is given."""

    def add_evidence(self, evidence: Mapping[Address, Sequence[Evidence]]) -> dict[Address, AddressState]:
        """Add each address's evidence to its set, one write per address (creating the address when
        it has none), and answer what each address holds now: the write's own answer, no read.
        Idempotent (adding an entry the set holds changes nothing); keeps ``latest_evidence`` of
        the set. An address whose write failed is missing from the answer."""
        ...

    def load(self, addresses: Collection[Address]) -> dict[Address, AddressState]:
        """Strongly consistent reads of these addresses; one that failed is missing from the answer."""
        ...

    def suppress_many(self, writes: Sequence[SuppressionWrite], at: datetime) -> set[Address]:
        """Write each decision (a new suppression with its audit entry, or an active record brought
        in line) only if the address is unchanged since its ``state`` was read; returns the
        addresses not written (changed meanwhile, or the write failed)."""
        ...

    def get(self, tenant_id: str, email: str) -> SuppressionRecord | None:
        """Strongly consistent; None for an address that was never suppressed (evidence or not)."""
        ...

    def get_with_unsubscriptions(
        self, tenant_id: str, emails: Collection[str]
    ) -> tuple[dict[str, SuppressionRecord], dict[str, Unsubscription]]:
        """``get_many`` and the addresses' unsubscriptions, from the same reads."""
        ...

    def get_many(self, tenant_id: str, emails: Collection[str]) -> dict[str, SuppressionRecord]:
        """The records of those of ``emails`` that were ever suppressed."""
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
    """Every list method is one Query for one page of at most ``limit`` items, and for a list read
    from an index one BatchGetItem of its items (tracker.dal.queries)."""

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

    def message(self, tenant_id: str, message_id: str) -> MessageRecord | None:
        """The message's header with its counts (a GetItem)."""
        ...

    def recipients(
        self,
        tenant_id: str,
        message_id: str,
        *,
        status: Status | None,
        limit: int,
        start: dict[str, Any] | None,
    ) -> Page[RecipientRecord]: ...

    def recipient(self, tenant_id: str, message_id: str, recipient_id: str) -> RecipientRecord | None:
        """One recipient by its key (a GetItem)."""
        ...

    def invoice_log(
        self, tenant_id: str, invoice_id: str, *, limit: int, start: dict[str, Any] | None
    ) -> Page[LogRecord]: ...

    def customer_messages(
        self, tenant_id: str, customer_id: str, *, kind: str | None, limit: int, start: dict[str, Any] | None
    ) -> Page[RecipientRecord]: ...


class AttentionStore(Protocol):
    """The attention queue (tracker.dal.attention_queue): one Query of its index and one
    BatchGetItem of the message items per page."""

    def attention(
        self, tenant_id: str, *, kind: str | None, now: datetime, limit: int, start: dict[str, Any] | None
    ) -> Page[AttentionRecord]: ...

    def attention_count(self, tenant_id: str, *, kind: str | None, now: datetime) -> int: ...


class RecipientActions(Protocol):
    """The owner's actions on a recipient (tracker.dal.actions): each a version-bumping update of
    the recipient item, so a concurrent SES event's version-conditioned put re-reads it."""

    def resend_source(self, tenant_id: str, message_id: str, recipient_id: str) -> ResendSource | None:
        """The recipient, its message's header and content (None: no such recipient here)."""
        ...

    def claim_resend(self, key: RecipientKey, link: ResendLink) -> ResendLink | None:
        """Record ``link`` unless the recipient was resent already; returns the earlier link then
        (nothing written)."""
        ...

    def release_resend(self, key: RecipientKey, link: ResendLink) -> None:
        """Undo ``claim_resend`` of this link (its message could not be created)."""
        ...

    def dismiss(self, key: RecipientKey, dismissal: Dismissal) -> Dismissal | None:
        """Record the dismissal unless there is one; returns the first (None: no such recipient)."""
        ...


class CursorSigner(Protocol):
    """Opaque, tamper-evident cursors (``tracker.api.cursors.CursorCodec``). ``scope`` names the list
    a cursor belongs to (route and fixed filters); a cursor decodes only for its tenant and scope."""

    def encode(
        self, tenant_id: str, scope: Sequence[str | None], position: dict[str, Any] | None
    ) -> str | None: ...

    def decode(
        self, cursor: str | None, tenant_id: str, scope: Sequence[str | None]
    ) -> dict[str, Any] | None: ...


# --- erasure (DELETE /customers/{id}) --------------------------------------------------------------


class ErasureStore(Protocol):
    def customer_recipients(self, tenant_id: str, customer_id: str) -> list[CustomerRecipient]:
        """Every recipient item of the customer (the customer index), erased ones included."""
        ...

    def move_suppression(self, tenant_id: str, email: str) -> bool:
        """Move the address's suppression item and history to its pseudonym's key (their free-text
        details dropped); False when the address has none."""
        ...

    def redact_message(self, tenant_id: str, message_id: str, personal: Collection[str]) -> None:
        """Replace these values wherever the message's subject and content hold them."""
        ...

    def redact_idempotency(self, tenant_id: str, personal: Collection[str]) -> int:
        """Redact these values in the stored answers of the tenant's Idempotency-Key records
        (they live a day); returns how many were redacted."""
        ...

    def erase_recipient(self, recipient: CustomerRecipient, at: datetime) -> bool:
        """Erase the recipient's personal data, keeping status and tallies (a version-conditioned
        write, retried over concurrent ones); False when it was erased already."""
        ...

    def latest_erasure(self, tenant_id: str, customer_id: str) -> ErasureRecord | None: ...

    def record_erasure(self, record: ErasureRecord) -> None: ...


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


# --- unsubscriptions (one-click unsubscribe of emails; docs/unsubscribe.md) -----------------------


class UnsubscriptionStore(Protocol):
    def unsubscribe(
        self, address: Address, at: datetime, source: str, message_id: str | None, recipient_id: str | None
    ) -> bool:
        """Record an unsubscription at ``at`` unless a later one is recorded (False then)."""
        ...

    def resubscribe(self, address: Address, at: datetime, actor: str) -> Unsubscription | None:
        """Lift an active unsubscription; None when the address is not unsubscribed."""
        ...

    def get(self, address: Address) -> Unsubscription | None: ...


class RecipientAddresses(Protocol):
    def address_of(self, key: RecipientKey) -> str | None:
        """The stored address of a recipient (None: no such recipient, e.g. expired)."""
        ...
