"""DynamoDB reads of the HTTP API (logic.ports.ReadStore). Reads only.

A list page is one Query (``Limit`` + ``ExclusiveStartKey``, ``LastEvaluatedKey`` back as the next
page's start) and, when the Query runs on a global secondary index, one BatchGetItem of the items
it found: the indexes carry keys only (and ``kind``), so that a recipient's update never rewrites an
index entry. No Scan, no per-item follow-up reads. Access patterns and their read cost:
docs/data-model.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.pagination import ResultIterator

from tracker import constants
from tracker.dal import keys
from tracker.dal.models import MessageItem, RecipientItem, TrackerItem
from tracker.dal.recipients import facts_from_item
from tracker.dal.support import fetch_items, store_errors
from tracker.domain.links import Dismissal, MessageLink, ResendLink
from tracker.domain.status import Status
from tracker.domain.tracking import stored_tracking
from tracker.domain.views import LogRecord, MessageRecord, Page, RecipientRecord

# A filtered list (recipients by status, a customer's messages by kind) lets DynamoDB evaluate up
# to this many items per page and returns the first `limit` that match, so a rare status still
# fills pages instead of returning mostly empty ones. DynamoDB's 1 MB page cap bounds it as well.
FILTERED_EVALUATION_LIMIT = 1000

# A BatchGetItem reads at most 100 keys, so a page read from an index holds at most as many rows
# as keep its BatchGetItem to one request: every row's item, plus, for the lists that show each
# recipient's message, every row's header (an invoice log's rows are mostly headers and their
# recipients, so one extra header at most; a customer's rows each need their own).
BATCH_GET_KEYS = 100
MESSAGES_PAGE_ROWS = BATCH_GET_KEYS
INVOICE_LOG_PAGE_ROWS = BATCH_GET_KEYS - 1
CUSTOMER_PAGE_ROWS = BATCH_GET_KEYS // 2

TABLE_KEYS = (constants.TABLE_PARTITION_KEY, constants.TABLE_SORT_KEY)
_Key = tuple[str, str]


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
        resent_from=message_link(item.resent_from),
        tracking=stored_tracking(item.tracking),
    )


def message_link(raw: Any) -> MessageLink | None:
    return MessageLink(str(raw["message_id"]), str(raw["recipient_id"])) if raw else None


def resend_link(raw: Any) -> ResendLink | None:
    if not raw:
        return None
    return ResendLink(
        str(raw["message_id"]), str(raw["recipient_id"]), keys.parse_iso(raw["at"]), str(raw["by"])
    )


def dismissal(raw: Any) -> Dismissal | None:
    return Dismissal(keys.parse_iso(raw["at"]), str(raw["by"])) if raw else None


def recipient_record(item: RecipientItem, header: MessageItem | None = None) -> RecipientRecord:
    _, message_id, recipient_id = item.key
    return RecipientRecord(
        message_id=message_id,
        recipient_id=recipient_id,
        customer_id=item.customer_id,
        email=item.email,
        name=item.name,
        kind=item.kind,
        message_created_at=keys.parse_iso(item.gsi1sk) if item.gsi1sk else _created(header),
        ses_message_id=item.ses_message_id,
        status=Status(item.status),
        facts=facts_from_item(item),
        message=message_record(header) if header is not None else None,
        resent_as=resend_link(item.resent_as),
        dismissed=dismissal(item.dismissed),
    )


def _created(header: MessageItem | None) -> datetime:
    if header is None:
        raise ValueError("a recipient without its customer key needs its message header")
    return keys.parse_iso(header.created_at)


def _header_key(item_key: _Key) -> _Key:
    return item_key[0], keys.MESSAGE_SK


# --- one page -----------------------------------------------------------------------------------


def one_page(
    results: ResultIterator[Any], *, limit: int, key_names: Sequence[str], action: str
) -> tuple[list[dict[str, Any]], dict[str, Any] | None, int]:
    """Send the one Query behind ``results`` and return (raw items, next start key, evaluated).

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
        return items, next_key, int(raw.get("ScannedCount", 0))


def _table_key(raw: dict[str, Any]) -> _Key:
    return raw[constants.TABLE_PARTITION_KEY]["S"], raw[constants.TABLE_SORT_KEY]["S"]


class DynamoReadStore:
    def __init__(self, filtered_evaluation_limit: int = FILTERED_EVALUATION_LIMIT) -> None:
        self._filtered_evaluation_limit = filtered_evaluation_limit

    def _evaluate(self, limit: int, filtered: bool) -> int:
        return max(limit, self._filtered_evaluation_limit) if filtered else limit

    # --- 1, 2: messages list (their counts; never reads recipients) ---------------------------

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
        limit = min(limit, MESSAGES_PAGE_ROWS)
        results = index.query(
            hash_key,
            range_key_condition=condition,
            scan_index_forward=False,
            page_size=limit,
            last_evaluated_key=start,
        )
        found, next_key, evaluated = one_page(
            results, limit=limit, key_names=_index_keys(spec), action="list messages"
        )
        order = [_table_key(raw) for raw in found]
        items = fetch_items(TrackerItem, order, "read messages")
        headers = [item for key in order if isinstance(item := items.get(key), MessageItem)]
        return Page([message_record(item) for item in headers], next_key, evaluated)

    # --- 3: one message and its counts --------------------------------------------------------

    def message(self, tenant_id: str, message_id: str) -> MessageRecord | None:
        with store_errors("read message"):
            try:
                item = MessageItem.get(keys.message_pk(tenant_id, message_id), keys.MESSAGE_SK)
            except DoesNotExist:
                return None
        return message_record(item)

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
        found, next_key, evaluated = one_page(
            results, limit=limit, key_names=TABLE_KEYS, action="list recipients"
        )
        return Page(
            [recipient_record(RecipientItem.from_raw_data(raw)) for raw in found], next_key, evaluated
        )

    # --- 5: one recipient and its timeline (the item holds it) ---------------------------------

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
        limit = min(limit, INVOICE_LOG_PAGE_ROWS)
        results = TrackerItem.documents_index.query(
            keys.invoice_pk(tenant_id, invoice_id), page_size=limit, last_evaluated_key=start
        )
        found, next_key, evaluated = one_page(
            results, limit=limit, key_names=_index_keys(constants.GSI_DOCUMENTS), action="list invoice log"
        )
        order = [_table_key(raw) for raw in found]
        # Every recipient's header too (the same BatchGetItem): it is on the page already but for
        # a page that starts inside a message.
        items = fetch_items(TrackerItem, [*order, *(_header_key(key) for key in order)], "read invoice log")
        records: list[LogRecord] = []
        for key in order:
            item = items.get(key)
            if isinstance(item, MessageItem):
                records.append(message_record(item))
            elif isinstance(item, RecipientItem):
                header = items.get(_header_key(key))
                records.append(recipient_record(item, header if isinstance(header, MessageItem) else None))
        return Page(records, next_key, evaluated)

    # --- 7: customer's Messages tab --------------------------------------------------------------

    def customer_messages(
        self, tenant_id: str, customer_id: str, *, kind: str | None, limit: int, start: dict[str, Any] | None
    ) -> Page[RecipientRecord]:
        limit = min(limit, CUSTOMER_PAGE_ROWS)
        results = RecipientItem.lists_index.query(
            keys.customer_pk(tenant_id, customer_id),
            filter_condition=(RecipientItem.kind == kind) if kind is not None else None,
            scan_index_forward=False,
            page_size=self._evaluate(limit, kind is not None),
            last_evaluated_key=start,
        )
        found, next_key, evaluated = one_page(
            results, limit=limit, key_names=_index_keys(constants.GSI_LISTS), action="list customer messages"
        )
        order = [_table_key(raw) for raw in found]
        items = fetch_items(
            TrackerItem, [*order, *(_header_key(key) for key in order)], "read customer messages"
        )
        records = []
        for key in order:
            item, header = items.get(key), items.get(_header_key(key))
            if isinstance(item, RecipientItem):
                records.append(recipient_record(item, header if isinstance(header, MessageItem) else None))
        return Page(records, next_key, evaluated)
