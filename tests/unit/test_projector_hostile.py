"""Hostile recipient images on the table's stream (an item edited by hand, an old or foreign format):
the projector never raises on one; a change it cannot read is quarantined with its reason, and
every readable change of the same batch is counted."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from tracker.dal.projection import recipient_change
from tracker.domain.records import MessageKey
from tracker.logic.projector import UNREADABLE, Projector

SHARD = "shard-1"

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
)
TIMELINE_TEXTS = st.one_of(
    st.text(max_size=30),
    st.builds(
        "{}|{}|{}|{}".format,
        st.sampled_from(["b", "x", "o", "z", ""]),
        st.one_of(st.integers(-(10**20), 10**20), st.text(max_size=5)),
        st.text(max_size=12),
        st.text(max_size=10),
    ),
)
FACTS = st.one_of(
    st.text(max_size=30),
    JSON_VALUES.map(json.dumps),
    st.fixed_dictionaries(
        {},
        optional={
            "tl": st.one_of(st.lists(TIMELINE_TEXTS, max_size=4), JSON_VALUES),
            "bo": st.one_of(
                st.tuples(st.integers(-(10**20), 10**20), st.text(max_size=12), JSON_VALUES).map(list),
                JSON_VALUES,
            ),
        },
    ).map(json.dumps),
)


class Counts:
    def __init__(self) -> None:
        self.added: Counter[str] = Counter()

    def add_counts(
        self,
        message: MessageKey,
        shard: str,
        first: str,
        last: str,
        delta: Mapping[str, int],
        attention: object = None,
        insights: object = None,
    ) -> None:
        self.added.update(delta)


def image(recipient_id: str, facts: str | None, tallies: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "pk": {"S": "T#tenant-a#M#msg-1"},
        "sk": {"S": f"R#{recipient_id}"},
        "item_type": {"S": "recipient"},
        "email": {"S": f"{recipient_id}@example.com"},
        "tallies": {"SS": tallies},
    }
    if facts is not None:
        out["facts"] = {"S": facts}
    return out


def stream_record(sequence: int, recipient_id: str, new: dict[str, Any]) -> dict[str, Any]:
    return {
        "eventName": "MODIFY",
        "dynamodb": {
            "Keys": {"pk": new["pk"], "sk": new["sk"]},
            "SequenceNumber": str(sequence),
            "OldImage": image(recipient_id, None, ["queued"]),
            "NewImage": new,
        },
    }


@settings(max_examples=300, deadline=None)
@given(facts=FACTS)
@example(facts="null")  # JSON, not an object
@example(
    facts=json.dumps({"tl": ["b|99999999999999999999|0123456789ab|Permanent/General"]})
)  # past year 9999
@example(facts=json.dumps({"bo": [10**20, "0123456789ab", {}]}))
def test_an_unreadable_recipient_image_is_quarantined_and_the_good_changes_beside_it_count(
    facts: str,
) -> None:
    counts, kept = Counts(), []
    projector = Projector(counts, decode=recipient_change, quarantine=lambda *entry: kept.append(entry))
    good = [stream_record(n, f"r{n}", image(f"r{n}", None, ["delivered"])) for n in (1, 3)]
    hostile = stream_record(2, "r2", image("r2", facts, ["delivered"]))
    report = projector.project_records([good[0], hostile, good[1]], SHARD)
    assert report.retry_from is None
    readable = report.unreadable == 0
    assert len(kept) == report.unreadable <= 1
    if readable:
        assert counts.added == Counter({"delivered": 3, "queued": -3})
    else:
        [(source_id, body, reason, detail)] = kept
        assert (source_id, reason) == ("stream:2", UNREADABLE)
        assert detail.strip()
        assert json.loads(body) == hostile
        assert counts.added == Counter({"delivered": 2, "queued": -2})
