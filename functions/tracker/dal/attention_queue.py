"""The attention queue's reads (``GET /attention``, ``/attention/count``; logic.ports.AttentionStore).

The queue is the sparse gsi4 (keys only, with ``kind``): a message is in it while the projector
finds it failed or pending (tracker.dal.attention), sorted by ``attention_at``. A page is one Query
(``gsi4sk <= now``, newest first) and one BatchGetItem of the message items, which list their
concerned recipients; a count is a ``Select=COUNT`` Query of the same keys.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tracker import constants
from tracker.dal import keys
from tracker.dal.attention import entry_from_text
from tracker.dal.models import MessageItem, TrackerItem
from tracker.dal.queries import MESSAGES_PAGE_ROWS, message_record, one_page
from tracker.dal.support import fetch_items, store_errors
from tracker.domain.attention import DOCUMENTS_CATEGORY, AttentionRecord, Problem, category
from tracker.domain.views import Page

_INDEX_KEYS = (
    constants.TABLE_PARTITION_KEY,
    constants.TABLE_SORT_KEY,
    constants.GSI_ATTENTION.partition_key,
    constants.GSI_ATTENTION.sort_key,
)
# A filter (one kind of the documents' queue) lets DynamoDB evaluate this many entries per page.
FILTERED_EVALUATION_LIMIT = 1000


def _where(tenant_id: str, kind: str | None) -> tuple[str, Any]:
    hash_key = keys.attention_pk(tenant_id, category(kind) if kind else DOCUMENTS_CATEGORY)
    filtered = kind is not None and category(kind) == DOCUMENTS_CATEGORY
    return hash_key, (MessageItem.kind == kind) if filtered else None


def attention_record(item: MessageItem) -> AttentionRecord | None:
    if not item.attention_at or not item.attention_problem:
        return None  # left the queue between the index read and the item read
    listed = sorted(
        (
            entry_from_text(rid, str(text))
            for rid, text in (item.attention.as_dict() if item.attention else {}).items()
        ),
        key=lambda entry: (not entry.failed, entry.recipient_id),
    )
    concerned = int(item.attention_failed or 0) + int(item.attention_pending or 0)
    return AttentionRecord(
        message=message_record(item),
        attention_at=keys.parse_iso(item.attention_at),
        problem=Problem(item.attention_problem),
        recipients=tuple(listed),
        omitted=max(0, concerned - len(listed)),
    )


class DynamoAttentionStore:
    def attention(
        self, tenant_id: str, *, kind: str | None, now: datetime, limit: int, start: dict[str, Any] | None
    ) -> Page[AttentionRecord]:
        hash_key, kind_filter = _where(tenant_id, kind)
        limit = min(limit, MESSAGES_PAGE_ROWS)
        results = MessageItem.attention_index.query(
            hash_key,
            range_key_condition=MessageItem.gsi4sk <= keys.attention_until(now),
            filter_condition=kind_filter,
            scan_index_forward=False,
            page_size=max(limit, FILTERED_EVALUATION_LIMIT) if kind_filter is not None else limit,
            last_evaluated_key=start,
        )
        found, next_key, evaluated = one_page(
            results, limit=limit, key_names=_INDEX_KEYS, action="list attention"
        )
        order = [
            (raw[constants.TABLE_PARTITION_KEY]["S"], raw[constants.TABLE_SORT_KEY]["S"]) for raw in found
        ]
        items = fetch_items(TrackerItem, order, "read attention")
        records = [
            record
            for key in order
            if isinstance(item := items.get(key), MessageItem)
            and (record := attention_record(item)) is not None
        ]
        return Page(records, next_key, evaluated)

    def attention_count(self, tenant_id: str, *, kind: str | None, now: datetime) -> int:
        hash_key, kind_filter = _where(tenant_id, kind)
        with store_errors("count attention"):
            return int(
                MessageItem.attention_index.count(
                    hash_key,
                    range_key_condition=MessageItem.gsi4sk <= keys.attention_until(now),
                    filter_condition=kind_filter,
                )
            )
