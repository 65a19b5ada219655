"""After any SES event history, ingested through the real handler, every view agrees on the counts:
the messages list, the message detail and a recount of the recipient items (through the Recipients
tab, its status filter, the invoice logs and the items themselves), with rates by compute_rates."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import ses_builders as b
from tests.conftest import TEST_TABLE
from tests.factories import CREATED_AT, recount, seed_message
from tests.integration.test_read_api import all_items, make_app, ok, seeded_world
from tests.lambda_context import FakeLambdaContext
from tests.projection import project
from tests.strategies import Target, deliveries, histories
from tracker.dal.models import table_schema
from tracker.domain.status import ALL_STATUSES, COUNTED, Status, Tally, compute_rates
from tracker.handlers import ingest

RATE_FIELDS = (
    "recipients",
    "pending",
    "delivery_rate",
    "open_rate",
    "click_rate",
    "bounce_rate",
    "complaint_rate",
    "open_rate_all",
    "click_rate_all",
)

# One emulator for the module (starting moto per example costs more than an example's requests);
# every example gets a fresh table (moto's transactions copy the whole table, so it stays small)
# and its own tenant and message ids.
pytestmark = pytest.mark.xdist_group("read-api-properties")
_examples = itertools.count()


@dataclass(frozen=True)
class World:
    tenant: str
    messages: dict[str, int]  # message id → recipients
    invoice_message: str

    @property
    def targets(self) -> list[Target]:
        return [Target(self.tenant, m, i) for m, size in self.messages.items() for i in range(size)]


@pytest.fixture(scope="module")
def emulator() -> Iterator[None]:
    with seeded_world(seed=False):
        yield


def new_world() -> World:
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.delete_table(TableName=TEST_TABLE)
    client.create_table(**table_schema())
    n = next(_examples)
    world = World(f"tenant-{n}", {f"m{n}-1": 3, f"m{n}-2": 2}, invoice_message=f"m{n}-2")
    first, second = world.messages
    seed_message(world.tenant, first, recipients=3)
    seed_message(
        world.tenant,
        second,
        recipients=2,
        kind="invoice",
        invoice_id="INV-1",
        created_at=CREATED_AT + timedelta(minutes=1),
    )
    project()
    return world


def tallies(recipient: dict[str, Any]) -> list[str]:
    """What a message counts a recipient under (docs/engagement.md): its status, and whether it
    was opened or clicked only by machines."""
    status = recipient["status"]
    marks = [status]
    if status == "delivered" and recipient["engagement"] == "machine_only":
        marks.append(Tally.MACHINE_OPENED.value)
    delivered = status in ("delivered", "opened", "clicked", "complaint")
    if delivered and recipient["machine_click_count"] > 0 and recipient["click_count"] == 0:
        marks.append(Tally.MACHINE_CLICKED.value)
    return marks


def expected_view(counts: Counter[str]) -> dict[str, Any]:
    rates = compute_rates(counts)
    view: dict[str, Any] = {name: getattr(rates, name) for name in RATE_FIELDS}
    view["counts"] = {tally: counts.get(tally, 0) for tally in COUNTED}
    return view


def shown(item: dict[str, Any]) -> dict[str, Any]:
    return {name: item[name] for name in (*RATE_FIELDS, "counts")}


def check_views(
    app: APIGatewayRestResolver, world: World, projected: bool, pick: Callable[[list[Status]], Status]
) -> None:
    tenant = world.tenant
    listed = {m["message_id"]: m for m in all_items(app, "/messages", tenant)}
    assert set(listed) == set(world.messages)
    for message_id, size in world.messages.items():
        recipients = all_items(app, f"/messages/{message_id}/recipients", tenant)
        assert [r["recipient_id"] for r in recipients] == [f"r{i}" for i in range(size)]
        counts = Counter(tally for r in recipients for tally in tallies(r))
        # The API's recount agrees with the recipient items read directly.
        assert counts == Counter(recount(tenant, message_id))
        # List and detail show the projected counts: exact once the projector has caught up, the
        # last projected ones until then (here: as created).
        want = expected_view(counts) if projected else expected_view(Counter({Status.QUEUED: size}))
        assert shown(ok(app, f"/messages/{message_id}", tenant)) == want
        assert shown(listed[message_id]) == want
        # The status filter finds exactly the recipients counted in that status.
        status = pick(sorted(Status(tally) for tally in counts if tally in ALL_STATUSES))
        filtered = all_items(app, f"/messages/{message_id}/recipients", tenant, status=status.value)
        assert [r["recipient_id"] for r in filtered] == [
            r["recipient_id"] for r in recipients if r["status"] == status.value
        ]
        if message_id == world.invoice_message:
            logs = ok(app, "/invoices/INV-1/logs", tenant)["items"]
            assert [(r["recipient_id"], r["status"]) for r in logs[0]["recipients"]] == [
                (r["recipient_id"], r["status"]) for r in recipients
            ]


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_list_detail_and_recount_agree_after_any_history(emulator: None, data: st.DataObject) -> None:
    world = new_world()
    history = data.draw(histories(world.targets, max_events=15))
    batches = data.draw(deliveries(history))
    # Sometimes the projector has not run yet (its batch is still on the stream).
    projected = data.draw(st.booleans())
    ingest.default_ingestor.cache_clear()
    for batch in batches:
        response = ingest.handler(b.sqs_event(batch), FakeLambdaContext())
        assert response["batchItemFailures"] == []
    if projected:
        project()
    check_views(make_app(), world, projected, lambda statuses: data.draw(st.sampled_from(statuses)))
