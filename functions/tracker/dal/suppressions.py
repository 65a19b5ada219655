"""Suppression records on the single table (logic.ports.SuppressionStore).

Per tenant and address, in the address's own partition ``T#{t}#SUP#{email}``:

* ``#SUPPRESSION``: the record (active or lifted), versioned; while active it is listed on gsi1
  under ``T#{t}#SUPS#active``, once lifted under ``T#{t}#SUPS#lifted`` (newest first);
* ``EV#{event time}#{event id}``: one evidence item per bounce/complaint, keyed by the SES event
  id, so a redelivered event rewrites the same item and never counts twice;
* ``H#{time}#{id}``: the audit history (suppressed by the rules, lifted by whom), never deleted.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.transactions import TransactWrite

from tracker.dal import keys
from tracker.dal.models import (
    SuppressionEvidenceItem,
    SuppressionHistoryItem,
    SuppressionItem,
    shared_connection,
)
from tracker.dal.support import failed_conditions, parallel, store_errors
from tracker.domain.errors import ConflictError, TransientStoreError
from tracker.domain.suppression import (
    SYSTEM_ACTOR,
    Address,
    Decision,
    Evidence,
    EvidenceKind,
    HistoryEntry,
    SuppressionRecord,
    SuppressionState,
    SuppressionWrite,
)

_T = TypeVar("_T")
_R = TypeVar("_R")

BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25


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


def _record(item: SuppressionItem) -> SuppressionRecord:
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
        version=item.version,
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
    def __init__(self, evidence_retention: timedelta = timedelta(days=400), workers: int = 8) -> None:
        self._evidence_retention = evidence_retention
        self._workers = workers

    def _parallel(self, func: Callable[[_T], _R], items: Sequence[_T]) -> list[_R]:
        return parallel(func, items, self._workers)

    # --- evidence --------------------------------------------------------------

    def _evidence_item(self, tenant_id: str, email: str, e: Evidence) -> SuppressionEvidenceItem:
        return SuppressionEvidenceItem(
            keys.suppression_pk(tenant_id, email),
            keys.evidence_sk(e.at, e.event_id),
            tenant_id=tenant_id,
            email=email,
            event_id=e.event_id,
            kind=e.kind.value,
            at=keys.iso(e.at),
            message_id=e.message_id,
            recipient_id=e.recipient_id,
            detail=e.detail,
            expires_at=e.at + self._evidence_retention,
        )

    @staticmethod
    def _write_evidence(items: Sequence[SuppressionEvidenceItem]) -> None:
        # PynamoDB's batch writer sends 25 items a request and retries UnprocessedItems.
        with store_errors("record suppression evidence"), SuppressionEvidenceItem.batch_write() as batch:
            for item in items:
                batch.save(item)  # same event, same key, same content: a rewrite is harmless

    def add_evidence(self, tenant_id: str, email: str, evidence: Sequence[Evidence]) -> None:
        self._write_evidence([self._evidence_item(tenant_id, email, e) for e in evidence])

    def add_evidence_many(self, evidence: Mapping[Address, Sequence[Evidence]]) -> None:
        """Every address's evidence in one round: BatchWriteItem requests of 25, concurrently."""
        unique = {
            (item.pk, item.sk): item
            for address, items in sorted(evidence.items())
            for item in (self._evidence_item(address.tenant_id, address.email, e) for e in items)
        }  # a request must not name one key twice
        items = list(unique.values())
        groups = [items[i : i + BATCH_WRITE_LIMIT] for i in range(0, len(items), BATCH_WRITE_LIMIT)]
        self._parallel(self._write_evidence, groups)

    def load_evidence(self, tenant_id: str, email: str, since: datetime | None) -> list[Evidence]:
        pk = keys.suppression_pk(tenant_id, email)
        condition = (
            SuppressionEvidenceItem.sk.startswith(keys.EVIDENCE_SK_PREFIX)
            if since is None
            else SuppressionEvidenceItem.sk.between(
                f"{keys.EVIDENCE_SK_PREFIX}{keys.iso(since)}", f"{keys.EVIDENCE_SK_PREFIX}\uffff"
            )
        )
        with store_errors("load suppression evidence"):
            items = list(SuppressionEvidenceItem.query(pk, condition, consistent_read=True))
        return [
            Evidence(
                event_id=i.event_id,
                kind=EvidenceKind(i.kind),
                at=keys.parse_iso(i.at),
                message_id=i.message_id,
                recipient_id=i.recipient_id,
                detail=i.detail,
            )
            for i in items
        ]

    def load_evidence_many(self, since: Mapping[Address, datetime | None]) -> dict[Address, list[Evidence]]:
        """One consistent Query per address, all of them concurrently."""
        addresses = sorted(since)
        loaded = self._parallel(
            lambda address: self.load_evidence(address.tenant_id, address.email, since[address]), addresses
        )
        return dict(zip(addresses, loaded, strict=True))

    # --- records ---------------------------------------------------------------

    def _get_item(self, tenant_id: str, email: str) -> SuppressionItem | None:
        with store_errors("read suppression"):
            try:
                return SuppressionItem.get(
                    keys.suppression_pk(tenant_id, email), keys.SUPPRESSION_SK, consistent_read=True
                )
            except SuppressionItem.DoesNotExist:
                return None

    def get(self, tenant_id: str, email: str) -> SuppressionRecord | None:
        item = self._get_item(tenant_id, email)
        return _record(item) if item is not None else None

    def get_many(self, tenant_id: str, emails: Collection[str]) -> dict[str, SuppressionRecord]:
        records = self._batch_get({Address(tenant_id, email) for email in emails}, consistent=False)
        return {address.email: record for address, record in records.items()}

    def load_records(self, addresses: Collection[Address]) -> dict[Address, SuppressionRecord]:
        return self._batch_get(addresses, consistent=True)

    @staticmethod
    def _batch_get(addresses: Collection[Address], consistent: bool) -> dict[Address, SuppressionRecord]:
        wanted = {keys.suppression_pk(address.tenant_id, address.email): address for address in addresses}
        pks = sorted(wanted)
        found: dict[Address, SuppressionRecord] = {}
        with store_errors("read suppressions"):
            for start in range(0, len(pks), BATCH_GET_LIMIT):
                group = [(pk, keys.SUPPRESSION_SK) for pk in pks[start : start + BATCH_GET_LIMIT]]
                for item in SuppressionItem.batch_get(group, consistent_read=consistent or None):
                    found[wanted[item.pk]] = _record(item)
        return found

    def suppress(
        self, tenant_id: str, email: str, decision: Decision, at: datetime, previous: SuppressionRecord | None
    ) -> None:
        pk = keys.suppression_pk(tenant_id, email)
        if previous is None:
            item = SuppressionItem(pk, keys.SUPPRESSION_SK, tenant_id=tenant_id, email=email)
        else:
            current = self._get_item(tenant_id, email)
            if current is None or current.version != previous.version:
                raise ConflictError([email])
            item = current
        item.reason = decision.reason
        item.evidence = _evidence_to_json(decision.evidence)
        if previous is not None and previous.active:
            # Already suppressed: only its reason/evidence is brought in line with all evidence.
            self._commit(item, None, "update suppression")
            return
        item.state = SuppressionState.ACTIVE.value
        item.suppressed_at = keys.iso(at)
        item.lifted_at = None
        item.lifted_by = None
        item.gsi1pk = keys.suppressions_pk(tenant_id, SuppressionState.ACTIVE.value)
        item.gsi1sk = keys.suppressions_sk(at, email)
        history = SuppressionHistoryItem(
            pk,
            keys.history_sk(at, uuid.uuid4().hex),
            tenant_id=tenant_id,
            email=email,
            action="suppressed",
            at=keys.iso(at),
            actor=SYSTEM_ACTOR,
            reason=decision.reason,
            evidence=_evidence_to_json(decision.evidence),
        )
        self._commit(item, history, "suppress address")

    def suppress_many(self, writes: Sequence[SuppressionWrite], at: datetime) -> set[Address]:
        """Every write concurrently; the addresses that conflicted come back."""

        def write(pending: SuppressionWrite) -> Address | None:
            address = pending.address
            try:
                self.suppress(address.tenant_id, address.email, pending.decision, at, pending.previous)
            except ConflictError:
                return address
            return None

        return {address for address in self._parallel(write, list(writes)) if address is not None}

    def lift(self, record: SuppressionRecord, actor: str, at: datetime) -> SuppressionRecord:
        item = self._get_item(record.tenant_id, record.email)
        if item is None or item.version != record.version:
            raise ConflictError([record.email])
        item.state = SuppressionState.LIFTED.value
        item.lifted_at = keys.iso(at)
        item.lifted_by = actor
        item.counts_from = keys.iso(at)  # earlier bounces/complaints no longer count
        item.gsi1pk = keys.suppressions_pk(record.tenant_id, SuppressionState.LIFTED.value)
        item.gsi1sk = keys.suppressions_sk(at, record.email)
        history = SuppressionHistoryItem(
            item.pk,
            keys.history_sk(at, uuid.uuid4().hex),
            tenant_id=record.tenant_id,
            email=record.email,
            action="lifted",
            at=keys.iso(at),
            actor=actor,
            reason=record.reason,
            evidence=_evidence_to_json(record.evidence),
        )
        self._commit(item, history, "lift suppression")
        return _record(item)

    def _commit(self, item: SuppressionItem, history: SuppressionHistoryItem | None, action: str) -> None:
        """The record (conditioned on its version) and its audit entry, atomically."""
        try:
            with TransactWrite(connection=shared_connection()) as transaction:
                transaction.save(item)
                if history is not None:
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
            items = [
                item
                for item in SuppressionItem.lists_index.query(
                    keys.suppressions_pk(tenant_id, state.value),
                    scan_index_forward=False,
                    limit=limit + 1,
                    last_evaluated_key=dict(position) if position else None,
                )
                if isinstance(item, SuppressionItem)
            ]
        page = items[:limit]
        # One item more than asked tells whether there is a next page (no empty last page).
        next_position = _position(page[-1]) if len(items) > limit and page else None
        return [_record(item) for item in page], next_position

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
