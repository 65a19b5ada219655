"""The projector's statistics: each recipient change moves its tenant's hourly counts, exactly once.

A recipient image counts under a set of (hour, kind, metric) marks (tracker.domain.stats); a
change moves the counts by the marks after minus the marks before. Per batch the moves are summed
per (tenant, hour) and applied with one update per hour item, guarded by the same per-shard
high-water mark as the message counts (tracker.logic.projector): the update counts only records
above the item's mark for the shard, and a refused update answers with the mark, so a retried or
re-cut batch counts the rest and nothing twice. A 100,000-recipient send within one hour writes its
hour's item once per projector batch (up to 1,000 records), never once per event. A batch that
moves many hour items (many tenants, or a backlog spanning hours) updates them side by side: each
item's update is guarded on its own, so their order does not matter.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from tracker.domain.errors import TransientStoreError
from tracker.domain.stats import marks_delta
from tracker.logic.pools import LazyPool

if TYPE_CHECKING:
    from tracker.logic.projector import ProjectionReport, RecipientStreamChange

UPDATE_ATTEMPTS = 5
# Hour items updated at once: a batch of events spread over days moves dozens of them, which one
# after another would cost a round trip each.
STATS_WORKERS = 8
_POOL = LazyPool(STATS_WORKERS, "stats")
# (kind, metric) -> count change of one hour item.
StatsDelta = Mapping[tuple[str, str], int]


class StatsStore(Protocol):
    def add_stats(
        self, tenant_id: str, hour: datetime, shard: str, first: str, last: str, delta: StatsDelta
    ) -> str | None:
        """Add ``delta`` to the tenant's hour item and set its mark for ``shard`` to ``last``, if
        that mark is below ``first`` (padded sequence keys); creates the item. Returns None when
        it did, the current mark when the condition failed (nothing counted). Raises
        TransientStoreError when a retry may succeed."""
        ...


@dataclass(frozen=True)
class _Move:
    ordering: str
    sequence: str
    delta: Mapping[tuple[str, str], int]


def hour_moves(change: RecipientStreamChange) -> dict[datetime, dict[tuple[str, str], int]]:
    """The change's count moves per hour (only hours it moves something in)."""
    before = change.before.stats if change.before is not None else frozenset()
    after = change.after.stats if change.after is not None else frozenset()
    moves: dict[datetime, Counter[tuple[str, str]]] = defaultdict(Counter)
    for mark, n in marks_delta(before, after).items():
        moves[mark.hour][(mark.kind, mark.metric)] += n
    return {
        hour: {k: n for k, n in delta.items() if n} for hour, delta in moves.items() if any(delta.values())
    }


def project_stats(
    store: StatsStore, changes: Sequence[RecipientStreamChange], report: ProjectionReport
) -> None:
    grouped: dict[tuple[str, datetime, str], list[_Move]] = defaultdict(list)
    for change in changes:
        for hour, delta in hour_moves(change).items():
            grouped[(change.key.tenant_id, hour, change.shard)].append(
                _Move(change.ordering, change.sequence, delta)
            )
    items = sorted(grouped.items())

    def update(item: tuple[tuple[str, datetime, str], list[_Move]]) -> str | None:
        """None when the hour item counts its moves, else the sequence to restart from."""
        (tenant_id, hour, shard), moves = item
        moves.sort(key=lambda move: move.ordering)
        try:
            _apply(store, tenant_id, hour, shard, moves)
        except TransientStoreError:
            return moves[0].sequence
        return None

    outcomes = _POOL.map(update, items)
    for outcome in outcomes:
        if outcome is None:
            report.stats_buckets += 1
        else:
            report.failed_sequences.append(outcome)


def _apply(
    store: StatsStore,
    tenant_id: str,
    hour: datetime,
    shard: str,
    pending: list[_Move],
) -> None:
    for _ in range(UPDATE_ATTEMPTS):
        if not pending:
            return
        total: Counter[tuple[str, str]] = Counter()
        for move in pending:
            total.update(move.delta)
        # Written even when the moves cancel out: the mark must cover every record counted here.
        answer = store.add_stats(
            tenant_id,
            hour,
            shard,
            pending[0].ordering,
            pending[-1].ordering,
            {k: n for k, n in total.items() if n},
        )
        if answer is None:
            return
        pending = [move for move in pending if move.ordering > answer]
    raise TransientStoreError(f"could not count the statistics of {tenant_id} at {hour.isoformat()}")
