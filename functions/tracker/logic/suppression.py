"""Suppression (Dropped): per tenant and address, decided from the bounces and complaints SES reports.

Evidence is one record per SES event id, so a redelivered or republished bounce rewrites the same
record and never counts twice. Whether an address is suppressed is a pure function of its set of
evidence (``tracker.domain.suppression.evaluate``): the order in which events arrive, and how often,
does not matter. Once suppressed, an address stays suppressed until someone lifts it; lifting keeps
the record (and an audit entry) and restarts the counting, so only evidence from after the lift
counts again.

This module knows no AWS SDK: the store is injected. It is also the ingest path's observer of
applied bounce and complaint events (``tracker.logic.ports.EventObserver``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from tracker.domain.errors import ConflictError, NotFoundError, TransientStoreError
from tracker.domain.events import EventKind, RecipientEvent
from tracker.domain.ids import normalize_email
from tracker.domain.records import LogEntry
from tracker.domain.suppression import (
    Address,
    Decision,
    Evidence,
    HistoryEntry,
    SuppressionRecord,
    SuppressionRules,
    SuppressionState,
    SuppressionWrite,
    evaluate,
    evidence_from_event,
    same_decision,
)
from tracker.logic.ports import SuppressionBatches, SuppressionStore

EVALUATE_ATTEMPTS = 4


class _OneAddressAtATime:
    """SuppressionBatches over a store that only has the single-address methods (a test double):
    the same results, one address after another."""

    def __init__(self, store: SuppressionStore) -> None:
        self._store = store

    def add_evidence_many(self, evidence: Mapping[Address, Sequence[Evidence]]) -> None:
        for address, items in sorted(evidence.items()):
            self._store.add_evidence(address.tenant_id, address.email, items)

    def load_records(self, addresses: Collection[Address]) -> dict[Address, SuppressionRecord]:
        records = {address: self._store.get(*address) for address in sorted(addresses)}
        return {address: record for address, record in records.items() if record is not None}

    def load_evidence_many(self, since: Mapping[Address, datetime | None]) -> dict[Address, list[Evidence]]:
        return {
            address: self._store.load_evidence(address.tenant_id, address.email, counts_from)
            for address, counts_from in sorted(since.items())
        }

    def suppress_many(self, writes: Sequence[SuppressionWrite], at: datetime) -> set[Address]:
        conflicted: set[Address] = set()
        for write in writes:
            address = write.address
            try:
                self._store.suppress(address.tenant_id, address.email, write.decision, at, write.previous)
            except ConflictError:
                conflicted.add(address)
        return conflicted


class SuppressionService:
    """Checks, records, lists and lifts suppressions; observes the ingest path's bounces/complaints."""

    def __init__(
        self,
        store: SuppressionStore,
        rules: SuppressionRules | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        # A store with only the single-address methods (an in-memory test double) is adapted.
        self._batches: SuppressionBatches = (
            store if isinstance(store, SuppressionBatches) else _OneAddressAtATime(store)
        )
        self._rules = rules or SuppressionRules()
        self._clock = clock

    # --- the send path -----------------------------------------------------

    def active_reasons(self, tenant_id: str, emails: Collection[str]) -> dict[str, str]:
        """Suppressed addresses among ``emails`` (normalized) with the reason they are suppressed."""
        wanted = {normalize_email(e) for e in emails}
        if not wanted:
            return {}
        records = self._store.get_many(tenant_id, wanted)
        return {email: record.reason for email, record in records.items() if record.active}

    # --- the ingest path (logic.ingest.EventObserver) ------------------------

    @staticmethod
    def interested(event: RecipientEvent) -> bool:
        return event.kind in (EventKind.BOUNCE, EventKind.COMPLAINT)

    def observe(self, entries: Sequence[LogEntry]) -> None:
        """Record bounce/complaint evidence and re-evaluate each address, a whole batch at once.

        Called for every matching event of a committed batch, duplicates included: a crash after
        the ingest commit but before this point is repaired by the redelivery, and rewriting the
        same evidence is harmless. The batch costs a constant number of round trips however many
        addresses it carries: one round of evidence writes, then per attempt one batch read of the
        records, one round of evidence Queries and one round of suppress writes (see ``_settle``).
        Raises TransientStoreError so the ingest path retries the records.
        """
        grouped: dict[Address, dict[str, Evidence]] = defaultdict(dict)
        for entry in entries:
            if not self.interested(entry.event):
                continue
            key = entry.recipient.key
            evidence = evidence_from_event(entry.event, key.message_id, key.recipient_id)
            grouped[Address(key.tenant_id, normalize_email(entry.event.email))][evidence.event_id] = evidence
        if not grouped:
            return
        self._batches.add_evidence_many({address: list(items.values()) for address, items in grouped.items()})
        self._settle(grouped.keys())

    def _settle(self, addresses: Collection[Address]) -> None:
        """``reevaluate`` for many addresses at once, without reading the records back: read all
        records, load all evidence, write every suppression the rules call for; the addresses
        whose record changed meanwhile (lifted or suppressed concurrently) go round again."""
        pending = set(addresses)
        for _ in range(EVALUATE_ATTEMPTS):
            records = self._batches.load_records(pending)
            since = {
                address: record.counts_from if (record := records.get(address)) is not None else None
                for address in pending
            }
            evidence = self._batches.load_evidence_many(since)
            writes = [
                SuppressionWrite(address, decision, records.get(address))
                for address in sorted(pending)
                if (decision := self._needed(records.get(address), evidence.get(address, []))) is not None
            ]
            if not writes:
                return
            pending = self._batches.suppress_many(writes, self._clock())
            if not pending:
                return
        tenants = ", ".join(sorted({address.tenant_id for address in pending}))
        raise TransientStoreError(
            f"could not settle the suppression of {len(pending)} address(es) of {tenants}"
        )

    def _needed(self, record: SuppressionRecord | None, evidence: Iterable[Evidence]) -> Decision | None:
        """The suppression to write for this evidence over ``record``, or None when there is none.

        An active record is brought in line with ``evaluate`` over all its evidence as well, so its
        reason and evidence end up the same whatever order the events came in; an active record
        whose evidence expired stays active."""
        counts_from = record.counts_from if record is not None else None
        decision = evaluate(evidence, self._rules, counts_from)
        if decision is None or (record is not None and record.active and same_decision(record, decision)):
            return None
        return decision

    def reevaluate(self, tenant_id: str, email: str) -> SuppressionRecord | None:
        """Suppress one address if its evidence now says so; returns the current record."""
        for _ in range(EVALUATE_ATTEMPTS):
            record = self._store.get(tenant_id, email)
            counts_from = record.counts_from if record is not None else None
            decision = self._needed(record, self._store.load_evidence(tenant_id, email, counts_from))
            if decision is None:
                return record
            try:
                self._store.suppress(tenant_id, email, decision, self._clock(), record)
            except ConflictError:
                continue  # lifted or suppressed concurrently: read again
            return self._store.get(tenant_id, email)
        raise TransientStoreError(f"could not settle the suppression of an address of {tenant_id}")

    # --- the API -------------------------------------------------------------

    def list_page(
        self, tenant_id: str, state: SuppressionState, limit: int, position: Mapping[str, Any] | None
    ) -> tuple[list[SuppressionRecord], dict[str, Any] | None]:
        return self._store.list_page(tenant_id, state, limit, position)

    def get(self, tenant_id: str, email: str) -> tuple[SuppressionRecord, list[HistoryEntry]]:
        record = self._store.get(tenant_id, normalize_email(email))
        if record is None:
            raise NotFoundError("this address has never been suppressed")
        return record, self._store.history(tenant_id, record.email)

    def lift(self, tenant_id: str, email: str, actor: str) -> SuppressionRecord:
        """Lift an active suppression (audited); the record and its history are kept."""
        address = normalize_email(email)
        for _ in range(EVALUATE_ATTEMPTS):
            record = self._store.get(tenant_id, address)
            if record is None or not record.active:
                raise NotFoundError("this address is not suppressed")
            try:
                return self._store.lift(record, actor, self._clock())
            except ConflictError:
                continue
        raise TransientStoreError("the suppression changed while it was being lifted; retry")
