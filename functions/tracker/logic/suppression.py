"""Suppression (Dropped): per tenant and address, decided from the bounces and complaints SES reports.

An address's evidence is a set (one entry per SES event, so a redelivered or replayed event adds
nothing) kept on the address's own record, bounded to its latest ``EVIDENCE_KEPT`` entries. Whether
an address is suppressed is a pure function of that set (``tracker.domain.suppression.evaluate``):
the order in which events arrive, and how often, does not matter. Once suppressed, an address stays
suppressed until someone lifts it; lifting keeps the record (and an audit entry) and restarts the
counting, so only evidence from after the lift counts again.

Recording evidence costs one write per address and no read in the common case: the store's write
answers with what the address now holds, and the rules are evaluated on that answer. Only a changed
decision writes again (conditioned on nothing having changed since); a conflict reads the address
again and re-evaluates, a bounded number of times.

This module knows no AWS SDK: the store is injected. It is the projector's ``EvidenceSink`` and, for
now, the ingest path's observer of applied bounce and complaint events (``EventObserver``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from tracker.domain.erasure import is_pseudonym, pseudonym
from tracker.domain.errors import ConflictError, NotFoundError, TransientStoreError
from tracker.domain.ids import normalize_email
from tracker.domain.suppression import (
    Address,
    AddressState,
    Decision,
    Evidence,
    HistoryEntry,
    SuppressionRecord,
    SuppressionRules,
    SuppressionState,
    SuppressionWrite,
    evaluate,
    latest_evidence,
    same_decision,
)
from tracker.domain.unsubscribe import UNSUBSCRIBED_REASON, carries_unsubscribe
from tracker.logic.ports import SuppressionStore

EVALUATE_ATTEMPTS = 4
ERASED_REASON = "the recipient's personal data was erased"


class SuppressionService:
    """Checks, records, lists and lifts suppressions; records the bounces/complaints it is given."""

    def __init__(
        self,
        store: SuppressionStore,
        rules: SuppressionRules | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._rules = rules or SuppressionRules()
        self._clock = clock

    # --- the send path -----------------------------------------------------

    def active_reasons(
        self, tenant_id: str, emails: Collection[str], *, kind: str | None = None
    ) -> dict[str, str]:
        """Suppressed addresses among ``emails`` (normalized) with the reason they are suppressed;
        for an ``email`` (``kind``) also the unsubscribed ones (``UNSUBSCRIBED_REASON``), read from
        the same items. Invoices and receipts are never held back by an unsubscription."""
        wanted = {normalize_email(e) for e in emails}
        if not wanted:
            return {}
        # An erased address's suppression is kept under its pseudonym (tracker.domain.erasure):
        # both keys are read, in the same requests.
        hashed = {pseudonym(tenant_id, email): email for email in wanted if not is_pseudonym(email)}
        if carries_unsubscribe(kind):
            records, unsubscriptions = self._store.get_with_unsubscriptions(tenant_id, wanted | hashed.keys())
        else:
            records, unsubscriptions = self._store.get_many(tenant_id, wanted | hashed.keys()), {}
        active = {email: record.reason for email, record in records.items() if record.active}
        for email, unsubscription in unsubscriptions.items():
            if unsubscription.active:
                active.setdefault(email, UNSUBSCRIBED_REASON)
        reasons = {email: active[email] for email in wanted if email in active}
        for hashed_email, email in hashed.items():
            if email not in reasons and hashed_email in active:
                reasons[email] = active[hashed_email]
        # A recipient erased before it was sent has no address left to send to.
        reasons.update(
            {email: ERASED_REASON for email in wanted if is_pseudonym(email) and email not in reasons}
        )
        return reasons

    # --- evidence (the projector's EvidenceSink) --------------------------------

    def record_evidence(self, evidence: Mapping[Address, Sequence[Evidence]]) -> set[Address]:
        """Record bounce/complaint evidence per address and re-evaluate each address; returns the
        addresses (as given) that could not be settled, to be retried with the same evidence.

        Idempotent: the same evidence, however often and in whatever split across calls, leaves the
        same record, and a call that stopped after its evidence write (a crash, a failure) is
        repaired by calling again. Costs one write per address (all concurrently) when the decision
        does not change; a new or changed suppression adds its conditioned write.
        """
        given: dict[Address, list[Address]] = defaultdict(list)
        wanted: dict[Address, set[Evidence]] = defaultdict(set)
        for address, items in evidence.items():
            if not items:
                continue
            normalized = Address(address.tenant_id, normalize_email(address.email))
            given[normalized].append(address)
            wanted[normalized].update(items)
        if not wanted:
            return set()
        # What is not among the latest of these is not among the latest of any larger set either.
        states = self._store.add_evidence(
            {address: latest_evidence(items) for address, items in wanted.items()}
        )
        unsettled = (set(wanted) - states.keys()) | self._settle(states)
        return {original for address in unsettled for original in given[address]}

    def _settle(self, states: Mapping[Address, AddressState]) -> set[Address]:
        """Write every suppression the rules call for over these states; the addresses whose write
        did not go through (changed meanwhile, or failed) are read again and go round again.
        Returns the addresses still not in line with their evidence after the last attempt."""
        unsettled: set[Address] = set()
        current = dict(states)
        for _ in range(EVALUATE_ATTEMPTS):
            writes = [
                SuppressionWrite(state, decision)
                for _, state in sorted(current.items())
                if (decision := self._needed(state)) is not None
            ]
            if not writes:
                return unsettled
            retry = self._store.suppress_many(writes, self._clock())
            if not retry:
                return unsettled
            current = self._store.load(retry)
            unsettled |= retry - current.keys()
        return unsettled | {address for address, state in current.items() if self._needed(state) is not None}

    def _needed(self, state: AddressState) -> Decision | None:
        """The suppression to write for this state, or None when there is none.

        An active record is brought in line with ``evaluate`` over all its evidence as well, so its
        reason and evidence end up the same whatever order the events came in; an active record
        whose evidence no longer fires (it aged out of the kept entries) stays active."""
        record = state.record
        counts_from = record.counts_from if record is not None else None
        decision = evaluate(latest_evidence(state.evidence), self._rules, counts_from)
        if decision is None or (record is not None and record.active and same_decision(record, decision)):
            return None
        return decision

    # --- the API -------------------------------------------------------------

    def list_page(
        self, tenant_id: str, state: SuppressionState, limit: int, position: Mapping[str, Any] | None
    ) -> tuple[list[SuppressionRecord], dict[str, Any] | None]:
        return self._store.list_page(tenant_id, state, limit, position)

    def get(self, tenant_id: str, email: str) -> tuple[SuppressionRecord, list[HistoryEntry]]:
        record = self._find(tenant_id, normalize_email(email))
        if record is None:
            raise NotFoundError("this address has never been suppressed")
        return record, self._store.history(tenant_id, record.email)

    def _find(self, tenant_id: str, email: str) -> SuppressionRecord | None:
        """The address's record, or its pseudonym's once the address was erased."""
        record = self._store.get(tenant_id, email)
        if record is None and not is_pseudonym(email):
            return self._store.get(tenant_id, pseudonym(tenant_id, email))
        return record

    def lift(self, tenant_id: str, email: str, actor: str) -> SuppressionRecord:
        """Lift an active suppression (audited); the record and its history are kept."""
        address = normalize_email(email)
        for _ in range(EVALUATE_ATTEMPTS):
            record = self._find(tenant_id, address)
            if record is None or not record.active:
                raise NotFoundError("this address is not suppressed")
            try:
                return self._store.lift(record, actor, self._clock())
            except ConflictError:
                continue
        raise TransientStoreError("the suppression changed while it was being lifted; retry")
