"""DynamoDB implementation of the ingest path's store (logic.ports.IngestStore)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.transactions import TransactWrite

from tracker.dal import keys
from tracker.dal.models import (
    CountDeltaItem,
    EventLogItem,
    MessageItem,
    RecipientItem,
    SeenEventItem,
    shared_connection,
)
from tracker.dal.quarantine import DynamoQuarantineStore
from tracker.dal.recipients import facts_from_item, write_facts
from tracker.dal.support import failed_conditions, is_permanent, parallel, store_errors
from tracker.domain.errors import ConflictError, TransientStoreError, UnwritableError
from tracker.domain.records import (
    LogEntry,
    MessageKey,
    RecipientChange,
    RecipientKey,
    StoredRecipient,
    WrittenDelta,
    count_deltas,
)
from tracker.logic.retry import Backoff

BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25
# One transaction folds at most this many deltas (plus the message item itself).
FOLD_LIMIT = 99
FOLD_ATTEMPTS = 5


def to_stored(item: RecipientItem) -> StoredRecipient:
    return StoredRecipient(
        key=RecipientKey(item.tenant_id or "", item.message_id, item.recipient_id),
        email=item.email,
        facts=facts_from_item(item),
        version=item.version,
        ses_message_id=item.ses_message_id,
        store_ref=item,
    )


class DynamoIngestStore:
    def __init__(
        self,
        event_log_retention: timedelta,
        quarantine_retention: timedelta = timedelta(days=400),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        workers: int = 8,
        fold_backoff: Backoff | None = None,
    ) -> None:
        self._event_log_retention = event_log_retention
        self._quarantine = DynamoQuarantineStore(quarantine_retention, clock)
        self._clock = clock
        self._workers = workers
        self._fold_backoff = fold_backoff or Backoff(base_seconds=0.05, cap_seconds=0.5)

    # --- reads -------------------------------------------------------------

    def load_recipients(
        self, recipient_keys: Collection[RecipientKey]
    ) -> dict[RecipientKey, StoredRecipient]:
        wanted = [
            (keys.message_pk(k.tenant_id, k.message_id), keys.recipient_sk(k.recipient_id))
            for k in sorted(recipient_keys)
        ]
        with store_errors("load recipients"):
            loaded = [to_stored(item) for item in RecipientItem.batch_get(wanted)]
        return {stored.key: stored for stored in loaded if stored.key in recipient_keys}

    def find_by_ses_message_ids(self, ses_message_ids: Collection[str]) -> dict[str, list[StoredRecipient]]:
        found: dict[str, list[StoredRecipient]] = {}

        def lookup(ses_message_id: str) -> None:
            with store_errors("find recipient by SES message id"):
                items = RecipientItem.lookup_index.query(keys.ses_lookup_pk(ses_message_id))
                found[ses_message_id] = [to_stored(i) for i in items if isinstance(i, RecipientItem)]

        parallel(lookup, sorted(ses_message_ids), self._workers)
        return found

    # --- the atomic state + count commit -------------------------------------

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

    def commit(self, changes: Sequence[RecipientChange]) -> list[WrittenDelta]:
        now = self._clock()
        recipients: list[RecipientItem] = []
        markers: list[tuple[RecipientChange, SeenEventItem]] = []
        for change in changes:
            item = change.before.store_ref
            if not isinstance(item, RecipientItem):
                raise TypeError("a change must carry the RecipientItem it was loaded from")
            write_facts(item, change.after)
            recipients.append(item)
            markers += [(change, self._marker(change, event_id, now)) for event_id in sorted(change.markers)]
        deltas, written = self._deltas(changes, now)
        try:
            # The token makes an SDK retry of this request (after a timeout, say) idempotent: if
            # the first try went through, the retry succeeds instead of conflicting with itself.
            with TransactWrite(
                connection=shared_connection(), client_request_token=uuid.uuid4().hex
            ) as transaction:
                for recipient in recipients:
                    transaction.save(recipient)  # conditioned on the loaded version
                for _, marker in markers:
                    transaction.save(marker, condition=SeenEventItem.sk.does_not_exist())
                for delta in deltas:
                    transaction.save(delta, condition=CountDeltaItem.sk.does_not_exist())
        except TransactWriteError as error:
            # Items in request order: recipients, then their markers, then the deltas.
            owners = [change.before.key for change in changes] + [change.before.key for change, _ in markers]
            stale = sorted({owners[i] for i in failed_conditions(error) if i < len(owners)})
            if stale:
                raise ConflictError(stale) from error
            if is_permanent(error):
                raise UnwritableError(f"commit refused: {error}", [c.before.key for c in changes]) from error
            raise TransientStoreError(f"commit: {error}") from error
        except PynamoDBException as error:
            if is_permanent(error):
                raise UnwritableError(f"commit refused: {error}", [c.before.key for c in changes]) from error
            raise TransientStoreError(f"commit: {error}") from error
        return written

    def _marker(self, change: RecipientChange, event_id: str, now: datetime) -> SeenEventItem:
        key = change.before.key
        return SeenEventItem(
            keys.message_pk(key.tenant_id, key.message_id),
            keys.seen_event_sk(key.recipient_id, event_id),
            tenant_id=key.tenant_id,
            expires_at=now + self._event_log_retention,
        )

    @staticmethod
    def _deltas(
        changes: Sequence[RecipientChange], now: datetime
    ) -> tuple[list[CountDeltaItem], list[WrittenDelta]]:
        deltas: list[CountDeltaItem] = []
        written: list[WrittenDelta] = []
        for message, counts in count_deltas(changes).items():
            delta = CountDeltaItem(
                keys.message_pk(message.tenant_id, message.message_id),
                f"{keys.DELTA_SK_PREFIX}{keys.iso(now)}#{uuid.uuid4().hex}",
                tenant_id=message.tenant_id,
                created_at=keys.iso(now),
            )
            delta.set_counts(counts)
            deltas.append(delta)
            written.append(WrittenDelta(message, delta.sk, counts))
        return deltas, written

    # --- event log -----------------------------------------------------------

    def append_log(self, entries: Sequence[LogEntry]) -> None:
        items = [self._log_item(entry) for entry in entries]
        groups = [items[i : i + BATCH_WRITE_LIMIT] for i in range(0, len(items), BATCH_WRITE_LIMIT)]

        def write(group: list[EventLogItem]) -> None:
            with store_errors("append event log"), EventLogItem.batch_write() as batch:
                for item in group:
                    batch.save(item)

        parallel(write, groups, self._workers)

    def _log_item(self, entry: LogEntry) -> EventLogItem:
        key = entry.recipient.key
        event = entry.event
        sk = keys.event_sk(key.recipient_id, event.at, event.event_id)
        item = EventLogItem(
            keys.message_pk(key.tenant_id, key.message_id),
            sk,
            tenant_id=key.tenant_id,
            message_id=key.message_id,
            recipient_id=key.recipient_id,
            email=entry.recipient.email,
            event_id=event.event_id,
            kind=event.kind.value,
            at=keys.iso(event.at),
            ses_message_id=event.ses_message_id,
            details=dict(event.details),
            expires_at=event.at + self._event_log_retention,
        )
        source = entry.recipient.store_ref
        if isinstance(source, RecipientItem) and source.gsi3pk:
            item.gsi3pk = source.gsi3pk
            item.gsi3sk = keys.document_sk(keys.parse_iso(source.message_created_at), key.message_id, sk)
        return item

    # --- folding deltas into the message counts -------------------------------

    def fold_deltas(
        self, written: Mapping[MessageKey, Sequence[WrittenDelta]], query: Collection[MessageKey]
    ) -> None:
        """logic.ports.IngestStore.fold_deltas: known deltas by key, ``query`` messages by a Query."""
        tasks: list[tuple[MessageKey, Sequence[WrittenDelta] | None]] = [
            (message, None) for message in sorted(set(query))
        ]
        tasks += [
            (message, deltas)
            for message, deltas in sorted(written.items(), key=lambda entry: entry[0])
            if message not in query and deltas
        ]
        parallel(lambda task: self._fold_task(*task), tasks, self._workers)

    def fold_counts(self, messages: Collection[MessageKey]) -> None:
        """Fold every pending delta of these messages (the send path, and any leftovers)."""
        parallel(self._fold_message, sorted(messages), self._workers)

    def _fold_task(self, message: MessageKey, deltas: Sequence[WrittenDelta] | None) -> None:
        if deltas is None:
            self._fold_message(message)
        else:
            self._fold_written(message, deltas)

    def _fold_written(self, message: MessageKey, deltas: Sequence[WrittenDelta]) -> None:
        """Fold exactly these deltas, without reading them back."""
        pk = keys.message_pk(message.tenant_id, message.message_id)
        ordered = sorted(deltas, key=lambda delta: delta.delta_id)
        for start in range(0, len(ordered), FOLD_LIMIT):
            group = ordered[start : start + FOLD_LIMIT]
            try:
                self._fold_transaction(pk, [(delta.delta_id, delta.counts) for delta in group])
            except PynamoDBException:
                # Cancelled because a delta is gone (another invocation's fold took it; the
                # message item is busy) or an unknown outcome: fold whatever is still pending.
                self._fold_message(message)
                return

    def _fold_message(self, message: MessageKey) -> None:
        """Fold the message's pending deltas, found with a consistent Query."""
        pk = keys.message_pk(message.tenant_id, message.message_id)
        for attempt in range(FOLD_ATTEMPTS):
            with store_errors("read count deltas"):
                deltas = list(
                    CountDeltaItem.query(
                        pk,
                        CountDeltaItem.sk.startswith(keys.DELTA_SK_PREFIX),
                        consistent_read=True,
                        limit=FOLD_LIMIT,
                    )
                )
            if not deltas:
                return
            try:
                self._fold_transaction(pk, [(delta.sk, delta.counts()) for delta in deltas])
            except PynamoDBException:
                # Another fold took some of these deltas, or the item is busy: look again.
                self._fold_backoff.wait(attempt)
                continue
            if len(deltas) < FOLD_LIMIT:
                return
        raise TransientStoreError(f"could not fold count deltas of {message.message_id}")

    @staticmethod
    def _fold_transaction(pk: str, deltas: Sequence[tuple[str, Mapping[str, int]]]) -> None:
        """One transaction: ADD the deltas' sum to the message item and delete each delta,
        conditioned on its existence (so a delta already folded cancels the whole transaction)."""
        total: dict[str, int] = {}
        for _, counts in deltas:
            for tally, n in counts.items():
                total[str(tally)] = total.get(str(tally), 0) + n
        actions = [getattr(MessageItem, f"count_{status}").add(n) for status, n in total.items() if n]
        with TransactWrite(connection=shared_connection()) as transaction:
            header = MessageItem(pk, keys.MESSAGE_SK)
            if actions:
                transaction.update(header, actions=actions, condition=MessageItem.pk.exists())
            else:
                transaction.condition_check(MessageItem, pk, keys.MESSAGE_SK, MessageItem.pk.exists())
            for sk, _ in deltas:
                transaction.delete(CountDeltaItem(pk, sk), condition=CountDeltaItem.sk.exists())

    # --- quarantine ----------------------------------------------------------

    def quarantine(self, source_id: str, body: str, reason: str, detail: str) -> None:
        self._quarantine.put(source_id, body, reason, detail)
