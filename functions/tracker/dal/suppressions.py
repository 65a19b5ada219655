"""Suppression records on the single table (logic.ports.SuppressionStore).

Per tenant and address, in the address's own partition ``T#{t}#SUP#{email}``:

* ``#SUPPRESSION``: the address's item, from its first bounce or complaint on. ``observed`` is its
  evidence, a string set with one compact entry per event (``encode_evidence``), so adding a
  redelivered event adds nothing; at most ``EVIDENCE_KEPT`` entries, the latest. Once the rules
  suppress the address it also holds the record (``state`` active or lifted, reason, the evidence
  that fired), and only then is it listed on gsi1, under ``T#{t}#SUPS#active`` while active and
  ``T#{t}#SUPS#lifted`` once lifted (newest first). An item with evidence alone is no suppression:
  the reads below answer None for it, and the lists never see it (it has no gsi1 key);
* ``H#{time}#{id}``: the audit history (suppressed by the rules, lifted by whom), never deleted.

Recording evidence is one UpdateItem per address (``ADD`` to the set, which creates the item or
the attribute when absent) with ``ReturnValues=ALL_NEW``: its answer is everything the rules need,
so nothing is read. Every write of the record is conditioned on the state it was decided from:
``version`` (bumped by every write but an evidence ADD) and the size of the set (which every ADD
that changes the set grows); the rare prune of the set's excess bumps ``version`` too.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.expressions.condition import And, Condition, size
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from tracker.dal import keys
from tracker.dal.models import SuppressionHistoryItem, SuppressionItem, shared_connection
from tracker.dal.support import failed_conditions, fetch_items, is_condition_failure, parallel, store_errors
from tracker.dal.unsubscriptions import unsubscription_of
from tracker.domain.errors import ConflictError, TransientStoreError
from tracker.domain.suppression import (
    SYSTEM_ACTOR,
    Address,
    AddressState,
    Decision,
    Evidence,
    EvidenceKind,
    HistoryEntry,
    SuppressionRecord,
    SuppressionState,
    SuppressionWrite,
    latest_evidence,
)
from tracker.domain.unsubscribe import Unsubscription

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
_R = TypeVar("_R")

BATCH_GET_LIMIT = 100

# --- the compact evidence entries ---------------------------------------------------------------

_SEPARATOR = "|"
_KIND_CODES = {
    EvidenceKind.PERMANENT_BOUNCE: "P",
    EvidenceKind.TRANSIENT_BOUNCE: "T",
    EvidenceKind.COMPLAINT: "C",
}
_KINDS = {code: kind for kind, code in _KIND_CODES.items()}


def encode_evidence(evidence: Evidence) -> str:
    """``{time}|{kind}|{event id}|{message id}|{recipient id}|{detail}``, one string per value
    (the same event replayed is the same string, which the set already holds). A missing field is
    empty; the detail (free text) comes last, so it may hold the separator."""
    ids = (evidence.event_id, evidence.message_id or "", evidence.recipient_id or "")
    if any(_SEPARATOR in value for value in ids):
        raise ValueError(f"an evidence id contains {_SEPARATOR!r}: {ids}")
    return _SEPARATOR.join((keys.iso(evidence.at), _KIND_CODES[evidence.kind], *ids, evidence.detail or ""))


def decode_evidence(entry: str) -> Evidence:
    at, kind, event_id, message_id, recipient_id, detail = entry.split(_SEPARATOR, 5)
    return Evidence(
        event_id=event_id,
        kind=_KINDS[kind],
        at=keys.parse_iso(at),
        message_id=message_id or None,
        recipient_id=recipient_id or None,
        detail=detail or None,
    )


def _excess(entries: Iterable[str]) -> tuple[tuple[Evidence, ...], set[str]]:
    """The kept evidence of a set (``latest_evidence``) and the entries beyond it."""
    decoded = {entry: decode_evidence(entry) for entry in entries}
    kept = latest_evidence(decoded.values())
    keep = set(kept)
    return kept, {entry for entry, evidence in decoded.items() if evidence not in keep}


# --- items and records ------------------------------------------------------------------------------


def _evidence_to_json(evidence: Sequence[Evidence]) -> list[dict[str, Any]]:
    return [
        {
            "event_id": e.event_id,
            "kind": e.kind.value,
            "at": keys.iso(e.at),
            "message_id": e.message_id,
            "recipient_id": e.recipient_id,
            "detail": e.detail,
        }
        for e in evidence
    ]


def _evidence_from_json(raw: Any) -> tuple[Evidence, ...]:
    return tuple(
        Evidence(
            event_id=e["event_id"],
            kind=EvidenceKind(e["kind"]),
            at=keys.parse_iso(e["at"]),
            message_id=e.get("message_id"),
            recipient_id=e.get("recipient_id"),
            detail=e.get("detail"),
        )
        for e in (raw or [])
    )


def _time(value: str | None) -> datetime | None:
    return keys.parse_iso(value) if value else None


def _record(item: SuppressionItem) -> SuppressionRecord | None:
    """The suppression an item holds; None for an address that only has evidence."""
    if item.state is None or item.reason is None or item.suppressed_at is None:
        return None
    return SuppressionRecord(
        tenant_id=item.tenant_id or "",
        email=item.email,
        state=SuppressionState(item.state),
        reason=item.reason,
        suppressed_at=keys.parse_iso(item.suppressed_at),
        evidence=_evidence_from_json(item.evidence),
        counts_from=_time(item.counts_from),
        lifted_at=_time(item.lifted_at),
        lifted_by=item.lifted_by,
        version=_version(item),
    )


def _version(item: SuppressionItem) -> int | None:
    return int(item.version) if item.version is not None else None


def _state(address: Address, item: SuppressionItem | None) -> AddressState:
    if item is None:
        return AddressState(address, None, ())
    entries = item.observed or set()
    kept, _ = _excess(entries)
    return AddressState(address, _record(item), kept, (_version(item), len(entries)))


def _unchanged(state: AddressState) -> Condition:
    """True while the item is as ``state`` saw it: an ADD that changes the set grows it, and every
    other write bumps the version."""
    version, entries = state.revision
    same_version = (
        SuppressionItem.version == version
        if version is not None
        else SuppressionItem.version.does_not_exist()
    )
    same_set = (
        size(SuppressionItem.observed) == entries if entries else SuppressionItem.observed.does_not_exist()
    )
    return And(same_version, same_set)


def _key(address: Address) -> SuppressionItem:
    return SuppressionItem(keys.suppression_pk(address.tenant_id, address.email), keys.SUPPRESSION_SK)


def _identity(address: Address) -> list[Action]:
    """What every write of the item sets, so that the first one (whichever it is) creates it whole."""
    return [
        SuppressionItem.item_type.set(SuppressionItem),
        SuppressionItem.tenant_id.set(address.tenant_id),
        SuppressionItem.email.set(address.email),
    ]


def _history(
    address: Address, action: str, at: datetime, actor: str, decision: Decision
) -> SuppressionHistoryItem:
    return SuppressionHistoryItem(
        keys.suppression_pk(address.tenant_id, address.email),
        keys.history_sk(at, uuid.uuid4().hex),
        tenant_id=address.tenant_id,
        email=address.email,
        action=action,
        at=keys.iso(at),
        actor=actor,
        reason=decision.reason,
        evidence=_evidence_to_json(decision.evidence),
    )


def _position(item: SuppressionItem) -> dict[str, Any]:
    """DynamoDB's LastEvaluatedKey for gsi1 after ``item``."""
    return {
        "pk": {"S": item.pk},
        "sk": {"S": item.sk},
        "gsi1pk": {"S": item.gsi1pk or ""},
        "gsi1sk": {"S": item.gsi1sk or ""},
    }


class DynamoSuppressionStore:
    def __init__(self, workers: int = 8) -> None:
        self._workers = workers

    def _parallel(self, func: Callable[[_T], _R], items: Sequence[_T]) -> list[_R]:
        return parallel(func, items, self._workers)

    # --- evidence --------------------------------------------------------------

    def add_evidence(self, evidence: Mapping[Address, Sequence[Evidence]]) -> dict[Address, AddressState]:
        """One UpdateItem per address, all concurrently; an address whose write failed is left out."""
        addresses = sorted(address for address, items in evidence.items() if items)
        states = self._parallel(lambda address: self._add_one(address, evidence[address]), addresses)
        return {state.address: state for state in states if state is not None}

    def _add_one(self, address: Address, evidence: Sequence[Evidence]) -> AddressState | None:
        item = _key(address)
        actions = [*_identity(address), SuppressionItem.observed.add({encode_evidence(e) for e in evidence})]
        try:
            with store_errors("record suppression evidence"):
                item.update(actions)  # ReturnValues=ALL_NEW: the item as this write left it
                _, excess = _excess(item.observed or set())
                if excess:
                    self._prune(item, excess)
        except TransientStoreError:
            logger.warning("could not record the suppression evidence of an address", exc_info=True)
            return None
        return _state(address, item)

    @staticmethod
    def _prune(item: SuppressionItem, excess: set[str]) -> None:
        """Drop entries beyond the latest ``EVIDENCE_KEPT``. Never wrong, even concurrently: an
        entry that is not among the latest of a set is not among the latest of any larger set.
        The version bump makes a write decided before the prune conflict: the set's size alone
        can no longer tell whether it changed."""
        item.update([SuppressionItem.observed.delete(excess), SuppressionItem.version.add(1)])

    def load(self, addresses: Collection[Address]) -> dict[Address, AddressState]:
        try:
            items = self._batch_get(addresses, consistent=True)
        except TransientStoreError:
            logger.warning("could not read suppression records again", exc_info=True)
            return {}
        return {address: _state(address, items.get(address)) for address in addresses}

    # --- records ---------------------------------------------------------------

    def get(self, tenant_id: str, email: str) -> SuppressionRecord | None:
        with store_errors("read suppression"):
            try:
                item = SuppressionItem.get(
                    keys.suppression_pk(tenant_id, email), keys.SUPPRESSION_SK, consistent_read=True
                )
            except SuppressionItem.DoesNotExist:
                return None
        return _record(item)

    def get_many(self, tenant_id: str, emails: Collection[str]) -> dict[str, SuppressionRecord]:
        items = self._batch_get({Address(tenant_id, email) for email in emails}, consistent=False)
        return {
            address.email: record for address, item in items.items() if (record := _record(item)) is not None
        }

    def get_with_unsubscriptions(
        self, tenant_id: str, emails: Collection[str]
    ) -> tuple[dict[str, SuppressionRecord], dict[str, Unsubscription]]:
        """``get_many`` and the addresses' unsubscriptions, from the same reads (the same items)."""
        items = self._batch_get({Address(tenant_id, email) for email in emails}, consistent=False)
        records = {a.email: record for a, item in items.items() if (record := _record(item)) is not None}
        unsubscribed = {a.email: u for a, item in items.items() if (u := unsubscription_of(item)) is not None}
        return records, unsubscribed

    @staticmethod
    def _batch_get(addresses: Collection[Address], consistent: bool) -> dict[Address, SuppressionItem]:
        wanted = {keys.suppression_pk(address.tenant_id, address.email): address for address in addresses}
        pks = sorted(wanted)
        found: dict[Address, SuppressionItem] = {}
        with store_errors("read suppressions"):
            for start in range(0, len(pks), BATCH_GET_LIMIT):
                group = [(pk, keys.SUPPRESSION_SK) for pk in pks[start : start + BATCH_GET_LIMIT]]
                for item in SuppressionItem.batch_get(group, consistent_read=consistent or None):
                    found[wanted[item.pk]] = item
        return found

    def suppress_many(self, writes: Sequence[SuppressionWrite], at: datetime) -> set[Address]:
        """Every write concurrently; the addresses not written come back."""

        def write(pending: SuppressionWrite) -> Address | None:
            try:
                self.suppress(pending, at)
            except ConflictError:
                return pending.address
            except TransientStoreError:
                logger.warning("could not write a suppression", exc_info=True)
                return pending.address
            return None

        return {address for address in self._parallel(write, list(writes)) if address is not None}

    def suppress(self, write: SuppressionWrite, at: datetime) -> None:
        """Raises ConflictError when the address changed since ``write.state`` was read."""
        state, decision = write.state, write.decision
        address = state.address
        item = _key(address)
        actions: list[Action] = [
            SuppressionItem.reason.set(decision.reason),
            SuppressionItem.evidence.set(_evidence_to_json(decision.evidence)),
            SuppressionItem.version.add(1),
        ]
        if state.record is not None and state.record.active:
            # Already suppressed: only its reason/evidence is brought in line with all evidence.
            try:
                item.update(actions, _unchanged(state))
            except PynamoDBException as error:
                if is_condition_failure(error):
                    raise ConflictError([address.email]) from error
                raise TransientStoreError(f"update suppression: {error}") from error
            return
        actions += [
            *_identity(address),
            SuppressionItem.state.set(SuppressionState.ACTIVE.value),
            SuppressionItem.suppressed_at.set(keys.iso(at)),
            SuppressionItem.lifted_at.remove(),
            SuppressionItem.lifted_by.remove(),
            SuppressionItem.gsi1pk.set(
                keys.suppressions_pk(address.tenant_id, SuppressionState.ACTIVE.value)
            ),
            SuppressionItem.gsi1sk.set(keys.suppressions_sk(at, address.email)),
        ]
        history = _history(address, "suppressed", at, SYSTEM_ACTOR, decision)
        self._commit(item, actions, _unchanged(state), history, "suppress address")

    def lift(self, record: SuppressionRecord, actor: str, at: datetime) -> SuppressionRecord:
        address = Address(record.tenant_id, record.email)
        condition = (
            SuppressionItem.version == record.version
            if record.version is not None
            else SuppressionItem.version.does_not_exist()
        )
        actions: list[Action] = [
            SuppressionItem.state.set(SuppressionState.LIFTED.value),
            SuppressionItem.lifted_at.set(keys.iso(at)),
            SuppressionItem.lifted_by.set(actor),
            SuppressionItem.counts_from.set(keys.iso(at)),  # earlier bounces/complaints no longer count
            SuppressionItem.gsi1pk.set(keys.suppressions_pk(record.tenant_id, SuppressionState.LIFTED.value)),
            SuppressionItem.gsi1sk.set(keys.suppressions_sk(at, record.email)),
            SuppressionItem.version.add(1),
        ]
        decision = Decision(record.reason, record.evidence)
        self._commit(
            _key(address), actions, condition, _history(address, "lifted", at, actor, decision), "lift"
        )
        stored_at = keys.parse_iso(keys.iso(at))
        return replace(
            record,
            state=SuppressionState.LIFTED,
            lifted_at=stored_at,
            lifted_by=actor,
            counts_from=stored_at,
            version=(record.version or 0) + 1,
        )

    @staticmethod
    def _commit(
        item: SuppressionItem,
        actions: list[Action],
        condition: Condition,
        history: SuppressionHistoryItem,
        action: str,
    ) -> None:
        """The record's update (if it is unchanged) and its audit entry, atomically. An update, not
        a put, so that evidence added meanwhile is never overwritten."""
        try:
            with TransactWrite(connection=shared_connection()) as transaction:
                transaction.update(item, actions, condition=condition)
                transaction.save(history, condition=SuppressionHistoryItem.sk.does_not_exist())
        except TransactWriteError as error:
            if failed_conditions(error):
                raise ConflictError([item.email]) from error
            raise TransientStoreError(f"{action}: {error}") from error
        except PynamoDBException as error:
            raise TransientStoreError(f"{action}: {error}") from error

    # --- lists -----------------------------------------------------------------

    def list_page(
        self, tenant_id: str, state: SuppressionState, limit: int, position: Mapping[str, Any] | None
    ) -> tuple[list[SuppressionRecord], dict[str, Any] | None]:
        with store_errors("list suppressions"):
            listed = [
                (entry.pk, entry.sk)
                for entry in SuppressionItem.lists_index.query(
                    keys.suppressions_pk(tenant_id, state.value),
                    scan_index_forward=False,
                    limit=limit + 1,
                    last_evaluated_key=dict(position) if position else None,
                )
                if isinstance(entry, SuppressionItem)
            ]
        # The index holds keys: the records come with one BatchGetItem (one lifted meanwhile has
        # left this list).
        found = fetch_items(SuppressionItem, listed, "read suppressions")
        list_key = keys.suppressions_pk(tenant_id, state.value)
        items = [item for key in listed if (item := found.get(key)) is not None and item.gsi1pk == list_key]
        page = items[:limit]
        # One item more than asked tells whether there is a next page (no empty last page).
        next_position = _position(page[-1]) if len(items) > limit and page else None
        return [record for item in page if (record := _record(item)) is not None], next_position

    def history(self, tenant_id: str, email: str) -> list[HistoryEntry]:
        with store_errors("read suppression history"):
            items = SuppressionHistoryItem.query(
                keys.suppression_pk(tenant_id, email),
                SuppressionHistoryItem.sk.startswith(keys.HISTORY_SK_PREFIX),
            )
            return [
                HistoryEntry(
                    action=item.action,
                    at=keys.parse_iso(item.at),
                    actor=item.actor,
                    reason=item.reason,
                    evidence=_evidence_from_json(item.evidence),
                )
                for item in items
            ]
