"""The projector's stream batches as the deployed event source mapping forms them at a given rate.

Lambda's mapping for a DynamoDB stream gathers up to its batch size of records per shard, or what
arrives until its batching window ends, whichever comes first (and it polls a shard about four
times a second). How many records arrive in a window depends on how many shards share the
changes: a send's recipients share the message's partition key, so its changes come from as many
shards as DynamoDB splits that key's partition into, one per ~1,000 writes/s (a partition's
limit). So a shard carries between half of that and all of it, and the deployed window and batch
size (infra/projection.py, read by ``bench.cost.deployed_setting``) decide the batch.

Used for the count lag and for the size of the batches the bench's main run hands the projector,
so both model the same deployment.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench import cost
from bench.report import FAIL, PASS

if TYPE_CHECKING:
    from bench.jobs import ItemsAtBatch
    from bench.runs import RunResult

# DynamoDB's write limit of one partition: each recipient change is at least one write.
PARTITION_WRITES_PER_SECOND = 1000
# Lambda polls each stream shard about four times a second.
STREAM_POLL_SECONDS = 0.25
# What the bench's main run assumed before it modelled the deployment (the worst case it prints).
WORST_CASE_BATCH = 100


@dataclass(frozen=True)
class StreamBatching:
    rate: int  # SES events/s
    changes_per_event: float  # recipient changes on the stream per SES event
    batch_size: cost.Setting
    window: cost.Setting  # seconds
    shards: int  # of the message's partition
    per_shard: float  # changes/s on each
    fill_seconds: float  # how long a batch gathers records
    records: float  # per batch

    @property
    def whole_records(self) -> int:
        return max(1, int(self.records))

    def describe(self) -> str:
        return (
            f"{self.rate:,} events/s x {self.changes_per_event:.2f} recipient changes per event = "
            f"{self.rate * self.changes_per_event:,.0f} changes/s on {self.shards} shard(s), "
            f"{self.per_shard:,.0f}/s each; batch size {self.batch_size.value:,} ({self.batch_size.source}), "
            f"window {self.window.value} s ({self.window.source}): batches of ~{self.whole_records:,}"
        )


def batching(rate: int, changes_per_event: float, batch_size: int, window: int) -> StreamBatching:
    """The batches of ``batch_size`` records or ``window`` seconds at ``rate`` events/s (Lambda's
    batching window is whole seconds, ``MaximumBatchingWindowInSeconds``)."""
    return _model(
        rate,
        changes_per_event,
        cost.Setting(batch_size, "given", True),
        cost.Setting(window, "given", True),
    )


def deployed_batching(rate: int, changes_per_event: float) -> StreamBatching:
    """The batches the stack's projector mapping forms at ``rate`` events/s."""
    return _model(
        rate,
        changes_per_event,
        cost.deployed_setting("PROJECTOR_BATCH_SIZE", WORST_CASE_BATCH),
        cost.deployed_setting("PROJECTOR_BATCHING_WINDOW_SECONDS", 0),
    )


def _model(
    rate: int, changes_per_event: float, batch_size: cost.Setting, window: cost.Setting
) -> StreamBatching:
    changes = max(0.0, rate * changes_per_event)
    shards = max(1, math.ceil(changes / PARTITION_WRITES_PER_SECOND))
    per_shard = changes / shards
    fill = min(float(window.value), batch_size.value / per_shard) if window.value and per_shard else 0.0
    records = min(float(batch_size.value), max(1.0, per_shard * max(fill, STREAM_POLL_SECONDS)))
    return StreamBatching(rate, changes_per_event, batch_size, window, shards, per_shard, fill, records)


# --- report lines ----------------------------------------------------------------------------------


def batching_lines(ours: RunResult, batching: StreamBatching | None) -> list[str]:
    """How the main run cut the stream into projector batches, and why that size."""
    if batching is None or not ours.projector_batches:
        return []
    delivered = [b.records for b in ours.projector_batches]
    return [
        f"  projector batches: the deployed mapping's at the bench's {batching.rate:,} events/s (--event-rate, the rate",
        "  the hot items and count lag are judged at; bench/stream_batches.py):",
        f"    {batching.describe()}",
        "    (changes per event estimated before the run as the share of records that are not duplicates;",
        f"    measured {sum(delivered) / ours.records if ours.records else 0:.2f}); the stream drained every "
        f"{max(1, batching.whole_records // 100)} ingest batches, {len(delivered):,} invocations of "
        f"{statistics.mean(delivered):,.0f} recipient changes on average (max {max(delivered):,})",
    ]


def worst_case_lines(worst: ItemsAtBatch | None) -> list[str]:
    if worst is None or not worst.events:
        return []
    return [
        f"  the same at stream batches of {worst.batch_size} (the worst case: a mapping with no batching window at a few",
        f"  thousand events/s), {worst.recipients:,} recipients' {worst.events:,} records in the same order, measured:",
        f"    {worst.per_event(worst.items_written):.3f} items written per event "
        f"({worst.per_event(worst.projector_items_written):.3f} by the projector, "
        f"{worst.per_event(worst.stats_writes):.3f} statistics hour items), "
        f"{worst.per_event(worst.items_read):.3f} read, {worst.per_event(worst.write_units):.3f} WRU; "
        f"counts exact: {PASS if worst.exact else FAIL}",
    ]
