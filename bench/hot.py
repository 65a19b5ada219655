"""Hot items: how often one item (and one partition) is written, per batch and over a run.

Keys come from the request parameters: the key of every Put/Update/Delete/ConditionCheck, every
put or delete of a BatchWriteItem and every action of a TransactWriteItems.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from bench import naive
from bench.counting import ItemKey
from bench.runs import BatchStats
from tracker.dal import keys


def item_kind(key: ItemKey) -> str:
    """What an item is, by its sort key (ours and the naive design share these prefixes but E#)."""
    _, sk = key
    if sk == keys.MESSAGE_SK:
        return "message item (counters)"
    if sk.startswith(keys.RECIPIENT_SK_PREFIX):
        return "recipient"
    if sk.startswith(keys.SEEN_EVENT_SK_PREFIX):
        return "seen-event marker"
    if sk == keys.SUPPRESSION_SK:
        return "suppression item (evidence)"
    if sk.startswith(keys.HISTORY_SK_PREFIX):
        return "suppression history entry"
    if sk.startswith(naive.EVENT_SK_PREFIX):
        return "event log entry"
    if sk.startswith(keys.STATS_HOUR_SK_PREFIX):
        return STATS_KIND
    return "other"


STATS_KIND = "statistics hour item"


@dataclass(frozen=True)
class HotItems:
    batches: int
    records: int
    max_item_writes_per_batch: int
    max_item_kind: str
    max_message_writes_per_batch: int
    message_writes_total: int
    max_recipient_writes_total: int
    max_item_writes_total: int
    max_item_kind_total: str
    max_partition_items_per_batch: int  # items written into one partition key in one batch
    partition_write_units_per_record: float  # write units into the hottest partition, per record
    stats_writes_total: int = 0  # writes of the tenants' statistics hour items
    max_stats_writes_per_batch: int = 0  # most writes to one statistics item in one batch

    @property
    def message_writes_per_record(self) -> float:
        return self.message_writes_total / self.records if self.records else 0.0

    @property
    def stats_writes_per_record(self) -> float:
        return self.stats_writes_total / self.records if self.records else 0.0


def hot_items(batches: Sequence[BatchStats], records: int | None = None) -> HotItems:
    """Over ``batches`` (ingest batches and projector invocations alike: "per batch" is per
    invocation); ``records``: the SES events they handled (default: the batches' records)."""
    total: Counter[ItemKey] = Counter()
    partition_units: dict[str, float] = defaultdict(float)
    max_item = (0, "-")
    max_message = 0
    max_stats = 0
    max_partition = 0
    for batch in batches:
        per_item: Counter[ItemKey] = Counter()
        per_partition: Counter[str] = Counter()
        for request in batch.requests:
            per_item.update(request.written)
            per_partition.update(pk for pk, _ in request.written)
            if request.written:
                share = request.write_units / len(request.written)
                for pk, _ in request.written:
                    partition_units[pk] += share
        total.update(per_item)
        if per_item:
            key, n = per_item.most_common(1)[0]
            if n > max_item[0]:
                max_item = (n, item_kind(key))
            max_message = max([max_message, *(n for k, n in per_item.items() if k[1] == keys.MESSAGE_SK)])
            max_stats = max([max_stats, *(n for k, n in per_item.items() if item_kind(k) == STATS_KIND)])
            max_partition = max(max_partition, max(per_partition.values()))
    records = sum(b.records for b in batches) if records is None else records
    top_total = total.most_common(1)[0] if total else (("", ""), 0)
    return HotItems(
        batches=len(batches),
        records=records,
        max_item_writes_per_batch=max_item[0],
        max_item_kind=max_item[1],
        max_message_writes_per_batch=max_message,
        message_writes_total=sum(n for k, n in total.items() if k[1] == keys.MESSAGE_SK),
        max_recipient_writes_total=max(
            (n for k, n in total.items() if k[1].startswith(keys.RECIPIENT_SK_PREFIX)), default=0
        ),
        max_item_writes_total=top_total[1],
        max_item_kind_total=item_kind(top_total[0]) if total else "-",
        max_partition_items_per_batch=max_partition,
        partition_write_units_per_record=(max(partition_units.values()) / records)
        if partition_units and records
        else 0.0,
        stats_writes_total=sum(n for k, n in total.items() if item_kind(k) == STATS_KIND),
        max_stats_writes_per_batch=max_stats,
    )
