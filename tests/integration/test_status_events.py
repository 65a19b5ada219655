"""Every recipient status change is put on the bus under one stable id, at least once: any order
and duplication of the SES events, any refusal of the bus, any crash between the table's write and
the put (tracker.logic.publishing, tracker.dal.status_events)."""

from __future__ import annotations

import functools
import json
from collections import Counter, defaultdict
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import ses_builders as b
from tests.conftest import TEST_TABLE
from tests.factories import recipient_item
from tests.integration.test_ingest_exactness import HISTORY, TARGETS, fresh_table, run
from tests.status_events import MemoryBus, drain_through_crashes, events_stream, publish
from tests.strategies import deliveries, histories
from tracker.dal.recipients import facts_from_json
from tracker.domain.engagement import DEFAULT_RULES
from tracker.domain.status_events import change_id
from tracker.logic.publishing import Publisher

_values = TypeDeserializer()


def _plain(image: dict[str, Any] | None) -> dict[str, Any]:
    return {name: _values.deserialize(value) for name, value in (image or {}).items()}


def _engagement(image: dict[str, Any]) -> str:
    return facts_from_json(json.loads(image.get("facts") or "{}"), None, DEFAULT_RULES).engagement.value


def changes_on_the_stream() -> dict[str, tuple[str, str, str, str | None, str, int]]:
    """The model answer, read from the stream with its own reader: each write of a recipient that
    changed its status or engagement, by the id the change must have."""
    records: list[dict[str, Any]] = []

    def read(event: dict[str, Any]) -> dict[str, Any]:
        records.extend(event["Records"])
        return {}

    events_stream(TEST_TABLE).drain(read)
    found: dict[str, tuple[str, str, str, str | None, str, int]] = {}
    for record in records:
        data = record["dynamodb"]
        old, new = _plain(data.get("OldImage")), _plain(data.get("NewImage"))
        if not new or new.get("item_type") != "recipient":
            continue
        tenant, message = new["pk"].split("#")[1], new["pk"].split("#")[3]
        recipient = new["sk"].removeprefix("R#")
        before = old.get("status") if old else None
        after = new["status"]
        engaged_before = _engagement(old) if old else None
        engaged = _engagement(new)
        if (before is None and after == "queued") or (before == after and engaged_before == engaged):
            continue
        version = str(int(new["version"]))
        key = change_id(tenant, message, recipient, before, after, engaged_before, engaged, version)
        found[key] = (tenant, message, recipient, before, after, int(version))
    return found


def assert_chains_end_in_the_table(changes: dict[str, tuple[str, str, str, str | None, str, int]]) -> None:
    """Per recipient, the changes in version order link up from ``queued`` to its status now."""
    chains: dict[tuple[str, str, str], list[tuple[int, str | None, str]]] = defaultdict(list)
    for tenant, message, recipient, before, after, version in changes.values():
        chains[(tenant, message, recipient)].append((version, before, after))
    for target in TARGETS:
        key = (target.tenant_id, target.message_id, target.recipient_id)
        status = "queued"
        for _version, before, after in sorted(chains.get(key, [])):
            if before != after:
                assert before == status, (key, chains[key])
                status = after
        assert recipient_item(*key).status == status, key


STEPS = st.sampled_from(
    ["ok", "down", "refuse:0", "refuse:1,3", "refuse:2,5,7", "crash-before", "crash-after"]
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_distinct_change_is_published_under_one_id_whatever_fails(data: st.DataObject) -> None:
    history = data.draw(histories(TARGETS))
    batches = data.draw(deliveries(history))
    plan = data.draw(st.lists(STEPS, max_size=8))
    with fresh_table():
        reader = events_stream(TEST_TABLE)
        bus = MemoryBus(plan=plan)
        publisher = Publisher(bus)
        for batch in batches:
            assert run(batch) == []
            if data.draw(st.booleans(), label="publish now"):
                drain_through_crashes(lambda: publish(publisher, reader))
        drain_through_crashes(lambda: publish(publisher, reader))
        expected = changes_on_the_stream()
        assert_chains_end_in_the_table(expected)
        # Each change published (at least once), none under two ids, no id that is no change.
        assert set(bus.ids) == set(expected)
        if all(step == "ok" for step in plan):
            assert Counter(bus.ids) == Counter(set(expected))
        # A duplicate is the same event: the same detail under the same id.
        by_id: dict[str, dict[str, Any]] = {}
        for detail in bus.accepted:
            assert by_id.setdefault(detail["event_id"], detail) == detail


def test_a_crash_between_the_write_and_the_put_loses_no_event() -> None:
    """The table's write is on the stream before any put: a process that dies before putting (or
    after putting, before the stream's checkpoint) is followed by a redelivery that puts it."""
    batch = [b.sqs_record(b.sns_body(event)) for event in HISTORY]
    with fresh_table():
        assert run(batch) == []
        clean = MemoryBus()
        drain_through_crashes(lambda: publish(Publisher(clean), events_stream(TEST_TABLE)))
        assert clean.ids
        assert len(clean.ids) == len(set(clean.ids))
        for step in ("crash-before", "crash-after"):
            for calls in range(1, 4):
                bus = MemoryBus(plan=["ok"] * (calls - 1) + [step])
                reader = events_stream(TEST_TABLE)
                publisher = Publisher(bus)
                drain_through_crashes(functools.partial(publish, publisher, reader))
                assert set(bus.ids) == set(clean.ids), (step, calls)
