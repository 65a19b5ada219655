"""The projector's attention facts (tracker.logic.projector.attention_change) under the stream's
at-least-once delivery: whatever the batch cuts, replays and redeliveries, a message ends with
exactly the counts and listed entries of its recipients' last images."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.domain.attention import Concern
from tracker.domain.records import MessageKey, RecipientKey
from tracker.domain.status import Status
from tracker.logic.projector import (
    AttentionChange,
    Projector,
    RecipientImage,
    RecipientStreamChange,
    attention_change,
    sequence_key,
)

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
MESSAGE = MessageKey("tenant-a", "m1")
# (status, resolved): what a recipient item can go through.
STATES = st.tuples(
    st.sampled_from(
        [Status.QUEUED, Status.SENT, Status.DELIVERED, Status.OPENED, Status.BOUNCED, Status.DROPPED]
    ),
    st.booleans(),
)


def image(recipient_id: str, status: Status, resolved: bool, step: int) -> RecipientImage:
    concerned = not resolved and status not in (Status.DELIVERED, Status.OPENED)
    failed = status in (Status.BOUNCED, Status.DROPPED)
    since = T0 + timedelta(minutes=step)
    entry = (
        Concern(recipient_id, f"c-{recipient_id}", f"{recipient_id}@example.com", None, status, since)
        if concerned
        else None
    )
    return RecipientImage(
        email=f"{recipient_id}@example.com",
        tallies=frozenset({status.value}),
        concern=("failed" if failed else "pending") if concerned else None,
        since=since if concerned and failed else None,
        entry=entry,
        sent_at=T0 if status is not Status.QUEUED else None,
    )


class Store:
    """The message item in memory, with the count update's shard mark (tracker.dal.projection)."""

    def __init__(self) -> None:
        self.mark = ""
        self.counts: Counter[str] = Counter()
        self.concerned: Counter[str] = Counter()
        self.entries: dict[str, Concern] = {}
        self.failed_since: datetime | None = None
        self.first_sent: datetime | None = None

    def add_counts(
        self,
        message: MessageKey,
        shard: str,
        first: str,
        last: str,
        delta: Mapping[str, int],
        attention: AttentionChange | None = None,
        insights: object = None,
    ) -> str | None:
        if self.mark >= first:
            return self.mark
        self.counts.update(delta)
        if attention is not None:
            self.concerned.update(attention.concerned)
            for rid, entry in attention.entries.items():
                if entry is None:
                    self.entries.pop(rid, None)
                else:
                    self.entries[rid] = entry
            self.failed_since = self.failed_since or attention.failed_since
            self.first_sent = self.first_sent or attention.first_sent_at
        self.mark = last
        return None


def history(paths: list[list[tuple[Status, bool]]]) -> list[RecipientStreamChange]:
    """Each recipient's images in order, interleaved round-robin into one shard's stream."""
    changes: list[RecipientStreamChange] = []
    sequence = 0
    longest = max(len(p) for p in paths)
    for step in range(longest):
        for index, path in enumerate(paths):
            if step >= len(path):
                continue
            rid = f"r{index}"
            before = image(rid, *path[step - 1], step - 1) if step else None
            after = image(rid, *path[step], step)
            sequence += 1
            changes.append(
                RecipientStreamChange(
                    "shard", str(sequence * 10), RecipientKey("tenant-a", "m1", rid), before, after
                )
            )
    return changes


@settings(max_examples=200, deadline=None)
@given(
    paths=st.lists(st.lists(STATES, min_size=1, max_size=6), min_size=1, max_size=5),
    cuts=st.lists(st.integers(1, 8), min_size=1, max_size=30),
    replays=st.lists(st.integers(0, 30), max_size=4),
)
def test_counts_and_entries_are_those_of_each_recipients_last_image(
    paths: list[list[tuple[Status, bool]]], cuts: list[int], replays: list[int]
) -> None:
    changes = history(paths)
    store = Store()
    projector = Projector(store)
    position, batches = 0, 0
    while position < len(changes):
        size = cuts[batches % len(cuts)]
        projector.project(changes[position : position + size])
        # A redelivery from an earlier record (Lambda retries a batch, or a re-split one).
        if batches < len(replays):
            start = max(0, position - replays[batches])
            projector.project(changes[start : position + size])
        position += size
        batches += 1
    last = {f"r{i}": image(f"r{i}", *path[-1], len(path) - 1) for i, path in enumerate(paths)}
    expected = Counter(img.concern for img in last.values() if img.concern is not None)
    assert +store.concerned == expected
    assert store.entries == {rid: img.entry for rid, img in last.items() if img.entry is not None}
    # The episode's start is the first failure in stream order (times grow with the stream here).
    failures = [c.after.since for c in changes if c.concern_delta.get("failed", 0) > 0 and c.after]
    assert store.failed_since == (min(t for t in failures if t) if failures else None)


def test_a_batch_lists_only_recipients_whose_entry_it_changed() -> None:
    key = RecipientKey("tenant-a", "m1", "r1")
    delivered = image("r1", Status.DELIVERED, False, 2)
    opened = image("r1", Status.OPENED, False, 3)
    change = RecipientStreamChange("shard", "1", key, delivered, opened)
    assert not change.changes_attention
    assert attention_change([change]).empty
    sent = image("r1", Status.SENT, False, 1)
    bounced = image("r1", Status.BOUNCED, False, 2)
    moved = attention_change([RecipientStreamChange("shard", "2", key, sent, bounced)])
    assert moved.concerned == {"pending": -1, "failed": 1}
    assert moved.entries == {"r1": bounced.entry}
    assert moved.failed_since == bounced.since
    dismissed = image("r1", Status.BOUNCED, True, 3)
    gone = attention_change([RecipientStreamChange("shard", "3", key, bounced, dismissed)])
    assert (gone.concerned, gone.entries) == ({"failed": -1}, {"r1": None})
    assert sequence_key("3") > sequence_key("2")
