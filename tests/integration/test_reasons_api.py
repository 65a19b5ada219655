"""The plain-English reason beside the raw SES text, everywhere a recipient or an event is served
(the read API's seeded world: a bounce with a 5.1.1 diagnostic, a complaint, our own suppression
and SES's account suppression list)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from tests.integration.test_read_api import DIAGNOSTIC, all_items, make_app, ok, seeded_world

pytestmark = pytest.mark.xdist_group("reasons-api")


@pytest.fixture(scope="module")
def app() -> Iterator[APIGatewayRestResolver]:
    with seeded_world():
        yield make_app()


def test_recipient_rows_carry_the_reason_beside_the_raw_text(app: APIGatewayRestResolver) -> None:
    rows = {r["customer_id"]: r for r in all_items(app, "/messages/news/recipients")}
    bounced = rows["cust-ben"]
    assert bounced["bounce"]["reason"] == DIAGNOSTIC  # the raw text stays
    assert bounced["reason"]["code"] == "mailbox_does_not_exist"
    assert bounced["reason"]["summary"]
    assert bounced["reason"]["advice"]
    assert rows["cust-cleo"]["reason"]["code"].startswith("complaint")
    dropped = rows["cust-eli"]
    assert dropped["dropped_reason"] == "address previously bounced"
    assert dropped["reason"] is not None
    assert rows["cust-fay"]["status"] == "dropped"
    assert rows["cust-fay"]["reason"]["code"] == "on_ses_account_suppression_list"
    for fine in ("cust-ana", "cust-dev", "cust-gus"):
        assert rows[fine]["reason"] is None, fine


def test_timeline_events_of_outcomes_carry_their_reason(app: APIGatewayRestResolver) -> None:
    events = ok(app, "/messages/news/recipients/r1/events")["items"]
    by_kind = {e["kind"]: e for e in events}
    assert by_kind["bounce"]["reason"]["code"] == "mailbox_does_not_exist"
    assert by_kind["bounce"]["details"]["diagnostic_code"] == DIAGNOSTIC
    assert by_kind["send"]["reason"] is None
    complaint = ok(app, "/messages/news/recipients/r2/events")["items"]
    assert [e["reason"]["code"][:9] for e in complaint if e["kind"] == "complaint"] == ["complaint"]


def test_invoice_logs_and_customer_history_carry_the_reason(app: APIGatewayRestResolver) -> None:
    groups = all_items(app, "/invoices/INV-1/logs")
    reminder = next(g for g in groups if g["message_id"] == "inv-1-reminder")
    ben = next(r for r in reminder["recipients"] if r["customer_id"] == "cust-ben")
    assert ben["reason"]["code"] == "mailbox_does_not_exist"
    assert [e["reason"]["code"] for e in ben["events"] if e["kind"] == "bounce"] == ["mailbox_does_not_exist"]
    history = all_items(app, "/customers/cust-ben/messages")
    assert {row["reason"]["code"] for row in history} == {"mailbox_does_not_exist"}
