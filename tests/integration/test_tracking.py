"""Tracking per kind on moto: a message records its tracking when it is created, is sent with the
configuration set that matches it, and the API says an untracked rate is unknown (`null`, with
`tracking`) instead of 0% in every view that shows rates or opens."""

from __future__ import annotations

from typing import Any

import pytest

from tests import ses_builders as b
from tests.apigw import json_body
from tests.integration.test_send_support import SendWorld, email_body, make_world, run_ingest
from tracker import constants

TENANT = "tenant-a"


@pytest.fixture(autouse=True)
def cursor_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(constants.ENV_CURSOR_SECRET, "tracking-tests-cursor-secret-0123456")


def post(world: SendWorld, body: dict[str, Any]) -> str:
    response = world.post(body)
    assert response["statusCode"] == 202, response["body"]
    message_id: str = json_body(response)["message_id"]
    return message_id


def get(world: SendWorld, url: str) -> Any:
    response = world.request("GET", url)
    assert response["statusCode"] == 200, response["body"]
    return json_body(response)


def delivered(message_id: str, *, opened: bool = False) -> None:
    """person0 got it (and, with ``opened``, a person opened it: e.g. an image loaded anyway)."""
    tags = b.tags_for(TENANT, message_id, "r0000")
    events = [b.delivery_event("ses-" + message_id, ["person0@example.com"], tags=tags)]
    if opened:
        events.append(b.open_event("ses-" + message_id, ["person0@example.com"], tags=tags))
    assert run_ingest(events) == []


INVOICE = {"kind": "invoice", "invoice_id": "inv-7", "subject": "Invoice INV-7"}


def test_an_invoice_is_untracked_and_says_so_in_every_view(world: SendWorld) -> None:
    message_id = post(world, email_body(1, **INVOICE))
    assert world.drain() == []
    assert world.ses.calls[0]["ConfigurationSetName"] == constants.UNTRACKED_CONFIGURATION_SET_NAME
    delivered(message_id)

    detail = get(world, f"/messages/{message_id}")
    assert detail["tracking"] == "off"
    assert detail["delivery_rate"] == 1.0
    for rate in ("open_rate", "open_rate_all", "click_rate", "click_rate_all"):
        assert detail[rate] is None, rate  # not tracked, which is not 0%
    listed = next(m for m in get(world, "/messages")["items"] if m["message_id"] == message_id)
    assert (listed["tracking"], listed["open_rate"]) == ("off", None)
    log = get(world, "/invoices/inv-7/logs")["items"][0]
    assert log["tracking"] == "off"
    history = get(world, "/customers/cust-0/messages")["items"][0]
    assert history["tracking"] == "off"


def test_a_tracked_email_shows_its_rates_and_a_text_only_one_no_open_rate(world: SendWorld) -> None:
    html = post(world, email_body(1))
    text_only = post(world, email_body(1, html=None))
    assert world.drain() == []
    assert {call["ConfigurationSetName"] for call in world.ses.calls} == {constants.CONFIGURATION_SET_NAME}
    delivered(html)
    delivered(text_only)

    tracked = get(world, f"/messages/{html}")
    assert (tracked["tracking"], tracked["open_rate"], tracked["click_rate"]) == ("on", 0.0, 0.0)
    plain = get(world, f"/messages/{text_only}")
    # No HTML part: no pixel, so opens are not tracked (unknown, not 0%); clicks still count.
    assert (plain["tracking"], plain["open_rate"], plain["open_rate_all"]) == ("clicks_only", None, None)
    assert plain["click_rate"] == 0.0


def test_a_message_keeps_the_tracking_it_was_created_with(table: str) -> None:
    before = make_world()
    invoice = post(before, email_body(1, **INVOICE))
    after = make_world(untracked_kinds=frozenset())  # the setting changed: every kind tracked
    # The invoice's queued job was made before the change: it goes out untracked.
    assert after.drain() == []
    assert after.ses.calls[0]["ConfigurationSetName"] == constants.UNTRACKED_CONFIGURATION_SET_NAME
    assert get(after, f"/messages/{invoice}")["tracking"] == "off"

    newer = post(after, email_body(1, **INVOICE))
    assert after.drain() == []
    assert after.ses.calls[-1]["ConfigurationSetName"] == constants.CONFIGURATION_SET_NAME
    assert get(after, f"/messages/{newer}")["tracking"] == "on"
