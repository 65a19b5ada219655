"""tracker.domain.drafts.plan: one recipient per address, the first row wins, stable ids."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.drafts import plan
from tracker.domain.messages import RecipientDraft

ADDRESSES = st.sampled_from([f"p{i}@example.com" for i in range(8)] + ["P1@EXAMPLE.com"])
BATCHES = st.dictionaries(
    st.integers(min_value=1, max_value=6),
    st.lists(ADDRESSES.map(lambda a: RecipientDraft("c", a)), min_size=1, max_size=5),
    max_size=4,
)


@given(BATCHES)
def test_every_address_once_and_every_row_either_kept_or_a_duplicate(
    batches: dict[int, list[RecipientDraft]],
) -> None:
    result = plan(batches, batch_rows=10)
    kept = [row.email.lower() for b in result.batches for _, row in b.recipients]
    assert len(kept) == len(set(kept))
    assert set(kept) == {r.email.lower() for rows in batches.values() for r in rows}
    assert result.recipients + result.duplicates == sum(len(rows) for rows in batches.values())


@given(BATCHES)
def test_ids_follow_the_rows_place_whatever_order_the_batches_came_in(
    batches: dict[int, list[RecipientDraft]],
) -> None:
    forward = plan(batches, batch_rows=10)
    backward = plan(dict(reversed(list(batches.items()))), batch_rows=10)
    assert forward == backward
    for batch in forward.batches:
        for rid, row in batch.recipients:
            index = int(rid.removeprefix("r"))
            assert (index // 10 + 1, batches[batch.number][index % 10]) == (batch.number, row)
