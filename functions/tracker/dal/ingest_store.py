"""DynamoDB implementation of the ingest path's store (logic.ports.IngestStore)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.constants import KEYS, RESPONSES, UNPROCESSED_KEYS
from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.transactions import TransactWrite

from tracker.dal import keys, recipient_codec
from tracker.dal.models import RecipientItem, SeenEventItem, shared_connection
from tracker.dal.quarantine import DynamoQuarantineStore
from tracker.dal.recipients import facts_from_item, write_facts
from tracker.dal.support import (
    failed_conditions,
    is_condition_failure,
    is_permanent,
    parallel,
    store_errors,
)
from tracker.domain.errors import ConflictError, TransientStoreError, UnwritableError
from tracker.domain.facts import RecipientFacts
from tracker.domain.records import RecipientChange, RecipientKey, StoredRecipient

BATCH_GET_LIMIT = 100


def recipient_key(pk: str, sk: str) -> RecipientKey:
    tenant_id, message_id = keys.parse_message_pk(pk)
    return RecipientKey(tenant_id, message_id, keys.parse_recipient_sk(sk))


def to_stored(item: RecipientItem) -> StoredRecipient:
    return StoredRecipient(
        key=RecipientKey(*item.key),
        email=item.email,
        facts=facts_from_item(item),
        version=item.version,
        ses_message_id=item.ses_message_id,
        store_ref=item,
    )


def _batch_get_raw(wanted: list[dict[str, str]], consistent: bool) -> list[recipient_codec.RawItem]:
    """The items of these keys as DynamoDB returns them, one BatchGetItem per 100 keys, asking
    again for the unprocessed ones (as ``Model.batch_get`` does)."""
    connection, table = shared_connection(), RecipientItem.Meta.table_name
    found: list[recipient_codec.RawItem] = []
    for start in range(0, len(wanted), BATCH_GET_LIMIT):
        pending: list[Any] | None = wanted[start : start + BATCH_GET_LIMIT]
        while pending:
            data = connection.batch_get_item(table, pending, consistent_read=consistent or None)
            found += data.get(RESPONSES, {}).get(table, [])
            pending = data.get(UNPROCESSED_KEYS, {}).get(table, {}).get(KEYS)
    return found


def _put_raw(raw: recipient_codec.RawItem, facts: RecipientFacts) -> None:
    """A version-conditioned PutItem of the raw item with ``facts`` written (recipient_codec);
    once written, ``raw`` is the new item (as ``Model.save`` updates its model), so a further
    change of the same recipient in this batch is conditioned on the version it wrote."""
    written = recipient_codec.encode(raw, facts)
    attributes = dict(written)
    hash_key, range_key = attributes.pop(recipient_codec.PK), attributes.pop(recipient_codec.SK)
    shared_connection().put_item(
        RecipientItem.Meta.table_name,
        next(iter(hash_key.values())),
        range_key=next(iter(range_key.values())),
        attributes=attributes,
        condition=recipient_codec.version_condition(raw),
    )
    raw.clear()
    raw.update(written)


def _as_item(ref: Any) -> RecipientItem:
    if not isinstance(ref, dict):
        raise TypeError("a change must carry the recipient item it was loaded from")
    return RecipientItem.from_raw_data(ref)


class DynamoIngestStore:
    def __init__(
        self,
        event_log_retention: timedelta,
        quarantine_retention: timedelta = timedelta(days=400),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        workers: int = 8,
    ) -> None:
        self._event_log_retention = event_log_retention
        self._quarantine = DynamoQuarantineStore(quarantine_retention, clock)
        self._clock = clock
        self._workers = workers

    # --- reads -------------------------------------------------------------

    def load_recipients(
        self, recipient_keys: Collection[RecipientKey], consistent: bool = False
    ) -> dict[RecipientKey, StoredRecipient]:
        """Eventually consistent by default (half the read cost): a stale item only makes its
        version-conditioned write conflict, and the conflict re-reads it consistently."""
        wanted = [
            {
                recipient_codec.PK: keys.message_pk(k.tenant_id, k.message_id),
                recipient_codec.SK: keys.recipient_sk(k.recipient_id),
            }
            for k in sorted(set(recipient_keys))
        ]
        with store_errors("load recipients"):
            loaded = [recipient_codec.decode(raw) for raw in _batch_get_raw(wanted, consistent)]
        return {stored.key: stored for stored in loaded if stored.key in recipient_keys}

    def find_by_ses_message_ids(self, ses_message_ids: Collection[str]) -> dict[str, list[StoredRecipient]]:
        """One Query of the lookup index (keys only) per SES message id, then one BatchGetItem of
        the recipients found: events without our tags are rare, and this keeps every recipient
        update from rewriting an index entry."""
        found_keys: dict[str, list[RecipientKey]] = {}

        def lookup(ses_message_id: str) -> None:
            with store_errors("find recipient by SES message id"):
                items = RecipientItem.lookup_index.query(
                    keys.ses_lookup_pk(ses_message_id),
                    RecipientItem.gsi2sk == keys.RECIPIENT_INDEX_SK,
                )
                found_keys[ses_message_id] = [recipient_key(item.pk, item.sk) for item in items]

        parallel(lookup, sorted(ses_message_ids), self._workers)
        loaded = self.load_recipients({key for found in found_keys.values() for key in found})
        return {
            ses_message_id: [loaded[key] for key in found if key in loaded]
            for ses_message_id, found in found_keys.items()
        }

    # --- the recipient write -------------------------------------------------

    def markers_present(self, wanted: Mapping[RecipientKey, Collection[str]]) -> dict[RecipientKey, set[str]]:
        """logic.ports.IngestStore.markers_present: one consistent BatchGetItem per 100 markers."""
        by_key = {
            (keys.message_pk(k.tenant_id, k.message_id), keys.seen_event_sk(k.recipient_id, event_id)): (
                k,
                event_id,
            )
            for k, event_ids in sorted(wanted.items())
            for event_id in sorted(event_ids)
        }
        found: dict[RecipientKey, set[str]] = {}
        wanted_keys = list(by_key)
        with store_errors("read seen-event markers"):
            for start in range(0, len(wanted_keys), BATCH_GET_LIMIT):
                group = wanted_keys[start : start + BATCH_GET_LIMIT]
                for item in SeenEventItem.batch_get(group, consistent_read=True):
                    key, event_id = by_key[(item.pk, item.sk)]
                    found.setdefault(key, set()).add(event_id)
        return found

    def commit(self, change: RecipientChange) -> None:
        """logic.ports.IngestStore.commit: a version-conditioned PutItem of the recipient, or, when
        it brings markers, one transaction of the recipient and its markers. A recipient loaded
        here (a raw item) is written by ``recipient_codec``; one the send path loaded is a
        RecipientItem, and so is the rare one with markers (PynamoDB builds the transaction)."""
        markers = sorted(change.markers)
        ref = change.before.store_ref
        try:
            if isinstance(ref, dict) and not markers:
                _put_raw(ref, change.after)
                return
            item = ref if isinstance(ref, RecipientItem) else _as_item(ref)
            write_facts(item, change.after)
            if not markers:
                item.save()  # PynamoDB conditions it on the version it was loaded at
                return
            self._transact(change, item, markers)
            if isinstance(ref, dict):  # now the item written, as after _put_raw
                ref.clear()
                ref.update(item.serialize())
        except TransactWriteError as error:
            if failed_conditions(error):
                raise ConflictError([change.before.key]) from error
            raise self._failure(error, change) from error
        except PynamoDBException as error:
            if is_condition_failure(error):
                raise ConflictError([change.before.key]) from error
            raise self._failure(error, change) from error

    def _transact(self, change: RecipientChange, item: RecipientItem, markers: list[str]) -> None:
        with TransactWrite(
            connection=shared_connection(), client_request_token=uuid.uuid4().hex
        ) as transaction:
            transaction.save(item)
            for event_id in markers:
                transaction.save(self._marker(change, event_id), condition=SeenEventItem.sk.does_not_exist())

    @staticmethod
    def _failure(error: PynamoDBException, change: RecipientChange) -> Exception:
        if is_permanent(error):
            return UnwritableError(f"write refused: {error}", [change.before.key])
        return TransientStoreError(f"commit: {error}")

    def _marker(self, change: RecipientChange, event_id: str) -> SeenEventItem:
        key = change.before.key
        return SeenEventItem(
            keys.message_pk(key.tenant_id, key.message_id),
            keys.seen_event_sk(key.recipient_id, event_id),
            tenant_id=key.tenant_id,
            expires_at=self._clock() + self._event_log_retention,
        )

    # --- quarantine ----------------------------------------------------------

    def quarantine(self, source_id: str, body: str, reason: str, detail: str) -> None:
        self._quarantine.put(source_id, body, reason, detail)
