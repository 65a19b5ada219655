"""DynamoDB reads of the HTTP API (logic.ports.ReadStore). Reads only.

Every list method sends exactly one Query per page (``Limit`` + ``ExclusiveStartKey``) and reads
``LastEvaluatedKey`` back as the next page's start; no Scan, no per-item follow-up reads. Access
patterns and their read cost: docs/data-model.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.pagination import ResultIterator

from tracker import constants
from tracker.dal import keys
from tracker.dal.models import (
    CountDeltaItem,
    EventLogItem,
    MessageItem,
    RecipientItem,
    TrackerItem,
)
from tracker.dal.recipients import facts_from_item
from tracker.dal.support import store_errors
from tracker.domain.events import EventKind
from tracker.domain.status import Status
from tracker.domain.views import (
    EventRecord,
    LogRecord,
    MessageRecord,
    MessageWithPending,
    Page,
    RecipientRecord,
)

_Item = TypeVar("_Item", bound=TrackerItem)

# A filtered list (recipients by status, a customer's messages by kind) lets DynamoDB evaluate up
# to this many items per page and returns the first `limit` that match, so a rare status still
# fills pages instead of returning mostly empty ones. DynamoDB's 1 MB page cap bounds it as well.
FILTERED_EVALUATION_LIMIT = 1000

TABLE_KEYS = (constants.TABLE_PARTITION_KEY, constants.TABLE_SORT_KEY)


def _index_keys(spec: constants.IndexSpec) -> tuple[str, ...]:
    return (*TABLE_KEYS, spec.partition_key, spec.sort_key)


# --- item → record ------------------------------------------------------------------------------


def message_record(item: MessageItem) -> MessageRecord:
    return MessageRecord(
        message_id=item.message_id,
        kind=item.kind,
        subject=item.subject,
        created_at=keys.parse_iso(item.created_at),
        invoice_id=item.invoice_id,
        payment_id=item.payment_id,
        counts=item.counts(),
    )


def recipient_record(item: RecipientItem) -> RecipientRecord:
    return RecipientRecord(
        message_id=item.message_id,
        recipient_id=item.recipient_id,
        customer_id=item.customer_id,
        email=item.email,
        name=item.name,
        kind=item.kind,
        subject=item.subject,
        message_created_at=keys.parse_iso(item.message_created_at),
        invoice_id=item.invoice_id,
        payment_id=item.payment_id,
        ses_message_id=item.ses_message_id,
        status=Status(item.status),
        facts=facts_from_item(item),
    )


def event_record(item: EventLogItem) -> EventRecord:
    return EventRecord(
        message_id=item.message_id,
        recipient_id=item.recipient_id,
        email=item.email,
        event_id=item.event_id,
        kind=EventKind(item.kind),
        at=keys.parse_iso(item.at),
        details=dict(item.details or {}),
    )


def log_record(item: TrackerItem) -> LogRecord | None:
    if isinstance(item, MessageItem):
        return message_record(item)
    if isinstance(item, RecipientItem):
        return recipient_record(item)
    if isinstance(item, EventLogItem):
        return event_record(item)
    return None


# --- one page -----------------------------------------------------------------------------------


def one_page(
    model: type[_Item],
    results: ResultIterator[Any],
    *,
    limit: int,
    key_names: Sequence[str],
    action: str,
) -> tuple[list[_Item], dict[str, Any] | None, int]:
    """Send the one Query behind ``results`` and return (items, next start key, items evaluated).

    With a filter, the Query may return more matches than ``limit``: the page then ends at the
    ``limit``-th match and the next one starts right after it (its key is a valid
    ExclusiveStartKey), so nothing is skipped or repeated.
    """
    with store_errors(action):
        raw = results.page_iter.next()
        items: list[dict[str, Any]] = list(raw.get("Items") or [])
        next_key: dict[str, Any] | None = raw.get("LastEvaluatedKey")
        if len(items) > limit:
            items = items[:limit]
            next_key = {name: items[-1][name] for name in key_names}
        return [model.from_raw_data(item) for item in items], next_key, int(raw.get("ScannedCount", 0))


class DynamoReadStore:
    def __init__(self, filtered_evaluation_limit: int = FILTERED_EVALUATION_LIMIT) -> None:
        self._filtered_evaluation_limit = filtered_evaluation_limit

    def _evaluate(self, limit: int, filtered: bool) -> int:
        return max(limit, self._filtered_evaluation_limit) if filtered else limit

    # --- 1, 2: messages list (folded counts; never reads recipients) -------------------------

    def messages(
        self,
        tenant_id: str,
        *,
        kind: str | None,
        since: datetime | None,
        until: datetime | None,
        limit: int,
        start: dict[str, Any] | None,
    ) -> Page[MessageRecord]:
        index: GlobalSecondaryIndex[TrackerItem]
        if kind is None:
            index, spec, hash_key = MessageItem.lists_index, constants.GSI_LISTS, keys.messages_pk(tenant_id)
            sort_key = MessageItem.gsi1sk
        else:
            index, spec = MessageItem.lookup_index, constants.GSI_LOOKUP
            hash_key, sort_key = keys.messages_by_kind_pk(tenant_id, kind), MessageItem.gsi2sk
        # Sort keys are `{created}#{message}`: [since, until) by comparing with the bare timestamps.
        condition: Condition | None = None
        if since is not None and until is not None:
            condition = sort_key.between(keys.iso(since), keys.iso(until))
        elif since is not None:
            condition = sort_key >= keys.iso(since)
        elif until is not None:
            condition = sort_key < keys.iso(until)
        results = index.query(
            hash_key,
            range_key_condition=condition,
            scan_index_forward=False,
            page_size=limit,
            last_evaluated_key=start,
        )
        items, next_key, evaluated = one_page(
            MessageItem, results, limit=limit, key_names=_index_keys(spec), action="list messages"
        )
        return Page([message_record(i) for i in items], next_key, evaluated)

    # --- 3: one message, exact counts (header + pending deltas) --------------------------------

    def message(self, tenant_id: str, message_id: str) -> MessageWithPending | None:
        with store_errors("read message"):
            items = list(
                TrackerItem.query(
                    keys.message_pk(tenant_id, message_id),
                    TrackerItem.sk.startswith(keys.MESSAGE_HEADER_PREFIX),
                    consistent_read=True,
                )
            )
        header = next((item for item in items if isinstance(item, MessageItem)), None)
        if header is None:
            return None
        deltas = [item.counts() for item in items if isinstance(item, CountDeltaItem)]
        return MessageWithPending(message_record(header), deltas)

    # --- 4: Recipients tab ------------------------------------------------------------------------

    def recipients(
        self,
        tenant_id: str,
        message_id: str,
        *,
        status: Status | None,
        limit: int,
        start: dict[str, Any] | None,
    ) -> Page[RecipientRecord]:
        results = RecipientItem.query(
            keys.message_pk(tenant_id, message_id),
            RecipientItem.sk.startswith(keys.RECIPIENT_SK_PREFIX),
            filter_condition=(RecipientItem.status == status.value) if status is not None else None,
            page_size=self._evaluate(limit, status is not None),
            last_evaluated_key=start,
        )
        items, next_key, evaluated = one_page(
            RecipientItem, results, limit=limit, key_names=TABLE_KEYS, action="list recipients"
        )
        return Page([recipient_record(i) for i in items], next_key, evaluated)

    # --- 5: one recipient's timeline ----------------------------------------------------------------

    def recipient_events(
        self, tenant_id: str, message_id: str, recipient_id: str, *, limit: int, start: dict[str, Any] | None
    ) -> Page[EventRecord]:
        results = EventLogItem.query(
            keys.message_pk(tenant_id, message_id),
            EventLogItem.sk.startswith(keys.event_sk_prefix(recipient_id)),
            page_size=limit,
            last_evaluated_key=start,
        )
        items, next_key, evaluated = one_page(
            EventLogItem, results, limit=limit, key_names=TABLE_KEYS, action="list recipient events"
        )
        return Page([event_record(i) for i in items], next_key, evaluated)

    def recipient(self, tenant_id: str, message_id: str, recipient_id: str) -> RecipientRecord | None:
        with store_errors("read recipient"):
            try:
                item = RecipientItem.get(
                    keys.message_pk(tenant_id, message_id), keys.recipient_sk(recipient_id)
                )
            except DoesNotExist:
                return None
        return recipient_record(item)

    # --- 6: invoice Logs tab --------------------------------------------------------------------

    def invoice_log(
        self, tenant_id: str, invoice_id: str, *, limit: int, start: dict[str, Any] | None
    ) -> Page[LogRecord]:
        results = TrackerItem.documents_index.query(
            keys.invoice_pk(tenant_id, invoice_id), page_size=limit, last_evaluated_key=start
        )
        items, next_key, evaluated = one_page(
            TrackerItem,
            results,
            limit=limit,
            key_names=_index_keys(constants.GSI_DOCUMENTS),
            action="list invoice log",
        )
        records = [record for record in map(log_record, items) if record is not None]
        return Page(records, next_key, evaluated)

    # --- 7: customer's Messages tab --------------------------------------------------------------

    def customer_messages(
        self, tenant_id: str, customer_id: str, *, kind: str | None, limit: int, start: dict[str, Any] | None
    ) -> Page[RecipientRecord]:
        results = RecipientItem.lists_index.query(
            keys.customer_pk(tenant_id, customer_id),
            filter_condition=(RecipientItem.kind == kind) if kind is not None else None,
            scan_index_forward=False,
            page_size=self._evaluate(limit, kind is not None),
            last_evaluated_key=start,
        )
        items, next_key, evaluated = one_page(
            RecipientItem,
            results,
            limit=limit,
            key_names=_index_keys(constants.GSI_LISTS),
            action="list customer messages",
        )
        return Page([recipient_record(i) for i in items], next_key, evaluated)
