"""Customers' engagement against the real ingest handler and read API (docs/engagement.md): machine
opens and scanner clicks are told apart, Open Rate counts customers, SES's raw rates beside it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests import engagement_samples as samples
from tests import ses_builders as b
from tests.apigw import api_event, json_body
from tests.factories import CREATED_AT, message_counts, recount, seed_message, ses_id
from tests.integration.test_read_api import make_app
from tests.lambda_context import FakeLambdaContext
from tests.projection import project
from tracker.handlers import ingest

pytestmark = pytest.mark.usefixtures("table")

SENT = CREATED_AT + timedelta(minutes=1)
DELIVERED = SENT + timedelta(seconds=5)


def run(events: list[dict[str, Any]]) -> None:
    ingest.default_ingestor.cache_clear()
    records = [b.sqs_record(b.sns_body(event)) for event in events]
    response = ingest.handler(b.sqs_event(records), FakeLambdaContext())
    assert response["batchItemFailures"] == []
    project()


def tagged(index: int) -> dict[str, Any]:
    return {"tags": b.tags_for("tenant-a", "msg-1", f"r{index}"), "sent_at": SENT}


def address(index: int) -> str:
    return f"person{index}@example.com"


def opened(index: int, sample: samples.Sample, seconds_after_delivery: float) -> dict[str, Any]:
    return b.open_event(
        ses_id("msg-1", index),
        address(index),
        at=DELIVERED + timedelta(seconds=seconds_after_delivery),
        ip=sample.ip_address or "",
        user_agent=sample.user_agent or "",
        **tagged(index),
    )


def clicked(index: int, sample: samples.Sample, seconds_after_delivery: float) -> dict[str, Any]:
    return b.click_event(
        ses_id("msg-1", index),
        address(index),
        at=DELIVERED + timedelta(seconds=seconds_after_delivery),
        ip=sample.ip_address or "",
        user_agent=sample.user_agent or "",
        **tagged(index),
    )


def get(path: str) -> Any:
    response = make_app().resolve(api_event("GET", path), FakeLambdaContext())
    assert response["statusCode"] == 200, response["body"]
    return json_body(response)


def the_ten_recipients() -> list[dict[str, Any]]:
    """10 delivered: 0-3 Apple MPP opens only (3 also a scanner click 5 s after delivery), 4-6
    customer opens (6 through Gmail's proxy), 7-9 nothing."""
    events = [b.delivery_event(ses_id("msg-1", i), address(i), at=DELIVERED, **tagged(i)) for i in range(10)]
    events += [opened(i, samples.APPLE_MPP, 1) for i in range(4)]
    events += [clicked(3, samples.DEFENDER_AZURE, 5)]
    events += [opened(4, samples.IOS_MAIL, 3600), opened(5, samples.OUTLOOK_MAC, 600)]
    events += [opened(6, samples.GMAIL_PROXY, 1)]  # at once, but Gmail fetches when the person opens
    return events


def test_open_rate_counts_customers_and_the_raw_rates_stand_beside_it() -> None:
    seed_message(recipients=10)
    run(the_ten_recipients())
    message = get("/messages/msg-1")
    # docs/engagement.md, "Definitions": the Open Rate counts customers; the _all rates every open
    # and click SES reported; machine_opened the delivered recipients opened only by machines.
    assert message["open_rate"] == pytest.approx(3 / 10)
    assert message["open_rate_all"] == pytest.approx(7 / 10)
    assert message["click_rate"] == 0
    assert message["click_rate_all"] == pytest.approx(1 / 10)
    assert message["counts"]["machine_opened"] == 4
    assert message["counts"]["delivered"] == 7
    assert message["counts"]["opened"] == 3
    assert message["recipients"] == 10
    assert message_counts("tenant-a", "msg-1") == recount("tenant-a", "msg-1")
    listed = get("/messages")["items"][0]
    assert (listed["open_rate"], listed["open_rate_all"]) == (message["open_rate"], message["open_rate_all"])

    recipients = {r["recipient_id"]: r for r in get("/messages/msg-1/recipients")["items"]}
    mpp = recipients["r0"]
    assert (mpp["status"], mpp["engagement"], mpp["open_count"], mpp["machine_open_count"]) == (
        "delivered",
        "machine_only",
        0,
        1,
    )
    scanned = recipients["r3"]
    assert (scanned["click_count"], scanned["machine_click_count"], scanned["status"]) == (0, 1, "delivered")
    gmail = recipients["r6"]
    assert (gmail["status"], gmail["engagement"], gmail["open_count"]) == ("opened", "human", 1)
    assert recipients["r9"]["engagement"] == "none"


def test_timeline_events_carry_their_verdict_and_reason() -> None:
    seed_message(recipients=10)
    run(the_ten_recipients())
    events = get("/messages/msg-1/recipients/r3/events")["items"]
    verdicts = {
        e["kind"]: (e["verdict"], e["verdict_reason"]) for e in events if e["kind"] in ("open", "click")
    }
    assert verdicts["open"] == ("privacy_proxy", "Apple Mail Privacy Protection")
    assert verdicts["click"][0] == "scanner"
    assert "after delivery" in verdicts["click"][1]
    delivery = next(e for e in events if e["kind"] == "delivery")
    assert delivery["verdict"] is None


def test_the_verdict_does_not_depend_on_whether_the_delivery_or_the_click_arrives_first() -> None:
    seed_message(recipients=2)
    click_first = [clicked(0, samples.CHROME_WINDOWS, 2)]
    delivery_later = [b.delivery_event(ses_id("msg-1", 0), address(0), at=DELIVERED, **tagged(0))]
    run(click_first)
    run(delivery_later)
    run([b.delivery_event(ses_id("msg-1", 1), address(1), at=DELIVERED, **tagged(1))])
    run([clicked(1, samples.CHROME_WINDOWS, 2)])
    recipients = {r["recipient_id"]: r for r in get("/messages/msg-1/recipients")["items"]}
    assert recipients["r0"]["status"] == recipients["r1"]["status"] == "delivered"  # 2 s after: a scanner
    assert recipients["r0"]["machine_click_count"] == recipients["r1"]["machine_click_count"] == 1
    assert message_counts("tenant-a", "msg-1") == recount("tenant-a", "msg-1")


def test_the_same_click_later_is_the_customers_and_the_thresholds_are_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed_message(recipients=1)
    run([b.delivery_event(ses_id("msg-1", 0), address(0), at=DELIVERED, **tagged(0))])
    run([clicked(0, samples.CHROME_WINDOWS, 8)])
    assert get("/messages/msg-1/recipients")["items"][0]["status"] == "clicked"
    # With a 10-second scanner window (ENGAGEMENT_CLICK_AFTER_DELIVERY_SECONDS) that click is a scanner's.
    monkeypatch.setenv("ENGAGEMENT_CLICK_AFTER_DELIVERY_SECONDS", "10")
    from tracker.bootstrap.common import bind_table
    from tracker.settings import Settings

    bind_table(Settings.from_env())
    try:
        recipient = get("/messages/msg-1/recipients")["items"][0]
        assert (recipient["click_count"], recipient["machine_click_count"]) == (0, 1)
    finally:
        monkeypatch.delenv("ENGAGEMENT_CLICK_AFTER_DELIVERY_SECONDS")
        bind_table(Settings.from_env())
