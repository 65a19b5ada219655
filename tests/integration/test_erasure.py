"""DELETE /customers/{id} on moto: the real API, sender, ingest handler and projector (issue 20,
"Erasure"). The table is scanned after the erasure and every attribute value searched for the
customer's address and name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests import ses_builders as b
from tests.apigw import json_body
from tests.integration.test_send_support import (
    SendWorld,
    messages_of,
    recipients_of,
    run_ingest,
)
from tests.projection import project
from tracker.dal.erasure import DynamoErasureStore
from tracker.domain.erasure import pseudonym
from tracker.settings import Settings

pytestmark = pytest.mark.usefixtures("table")

ADDRESS = "ada@example.com"
NAME = "Ada Lovelace"
OTHER = "grace@example.com"


def _send(world: SendWorld, tenant_id: str = "tenant-a", **extra: Any) -> str:
    body = {
        "kind": "email",
        "subject": f"Your timetable, {NAME}",
        "text": f"Dear {NAME}, this goes to {ADDRESS}.",
        "html": f"<p>Dear {NAME}</p>",
        "recipients": [
            {"customer_id": "cust-ada", "email": ADDRESS, "name": NAME},
            {"customer_id": "cust-grace", "email": OTHER, "name": "Grace Hopper"},
        ],
    }
    body.update(extra)
    headers = {"Idempotency-Key": f"key-{tenant_id}-{len(extra)}"}
    response = world.request("POST", "/messages", body=body, tenant_id=tenant_id, headers=headers)
    assert response["statusCode"] == 202, response["body"]
    message_id: str = json_body(response)["message_id"]
    return message_id


def _events(tenant_id: str, message_id: str, *, bounce: bool = False) -> list[dict[str, Any]]:
    """Delivery, open, click with the address in the link and its tags, and a complaint (or a bounce) quoting it."""
    recipient = next(r for r in recipients_of(tenant_id, message_id) if r.email == ADDRESS)
    assert recipient.ses_message_id
    tags = b.tags_for(tenant_id, message_id, recipient.recipient_id)
    ses_id = recipient.ses_message_id
    outcome = (
        b.bounce_event(ses_id, ADDRESS, tags=tags, diagnostic_code=f"smtp; 550 5.1.1 <{ADDRESS}>: unknown")
        if bounce
        else b.complaint_event(ses_id, ADDRESS, tags=tags)
    )
    return [
        b.delivery_event(ses_id, ADDRESS, tags=tags),
        b.open_event(ses_id, ADDRESS, tags=tags, ip="203.0.113.9", user_agent="Mozilla/5.0 (Ada's phone)"),
        b.click_event(
            ses_id,
            ADDRESS,
            tags=tags,
            link=f"https://studio.example/pay?email={ADDRESS}",
            link_tags={"to": [ADDRESS]},  # an anchor's ses:tags naming its customer
        ),
        outcome,
    ]


def _scan() -> Iterator[dict[str, Any]]:
    client = boto3.client("dynamodb", region_name="us-east-1")
    for page in client.get_paginator("scan").paginate(TableName=Settings.from_env().table_name):
        yield from page["Items"]


def _texts(value: Any) -> Iterator[str]:
    """Every string inside a DynamoDB attribute value (wire format), keys of maps included."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield str(key)
            yield from _texts(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _texts(inner)
    elif isinstance(value, (str, bytes)):
        yield value if isinstance(value, str) else value.decode("latin-1")


def _holding_personal_data(tenant_id: str) -> list[tuple[str, str, str]]:
    found = []
    for item in _scan():
        if not item["pk"]["S"].startswith(f"T#{tenant_id}#"):
            continue
        for name, value in item.items():
            text = " ".join(_texts(value)).lower()
            for needle in (ADDRESS, NAME.lower(), "ada's phone", "203.0.113.9"):
                if needle in text:
                    found.append((item["pk"]["S"], item["sk"]["S"], name))
    return found


def _counts(tenant_id: str) -> dict[str, dict[str, int]]:
    return {m.message_id: m.counts() for m in messages_of(tenant_id)}


@pytest.fixture(autouse=True)
def cursor_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CURSOR_SECRET", "erasure-test-cursor-secret-0123456789")


@pytest.fixture
def sent(world: SendWorld) -> tuple[str, str]:
    """Two messages to Ada (and Grace) in tenant A, one in tenant B; events for Ada's recipients:
    her complaint suppresses her address in tenant A."""
    first = _send(world)
    second = _send(world, kind="invoice", invoice_id="inv-1")
    other_tenant = _send(world, tenant_id="tenant-b")
    assert world.drain() == []
    assert run_ingest(_events("tenant-a", first) + _events("tenant-a", second, bounce=True)) == []
    assert run_ingest(_events("tenant-b", other_tenant)) == []
    project()  # the counts and the attention queue (the bounced invoice lists Ada) as deployed
    assert world.request("GET", "/suppressions/ada%40example.com")["statusCode"] == 200
    return first, second


def test_erasure_removes_the_customers_data_everywhere_keeps_counts_and_is_audited(
    world: SendWorld, sent: tuple[str, str]
) -> None:
    assert _holding_personal_data("tenant-a"), "the setup holds the data the erasure must remove"
    counts_before = _counts("tenant-a")
    other_before = sorted(map(str, _scan_tenant("tenant-b")))

    response = world.request("DELETE", "/customers/cust-ada", subject="privacy-officer")
    assert response["statusCode"] == 200, response["body"]
    answer = json_body(response)
    assert (answer["recipients"], answer["messages"], answer["suppressions"]) == (2, 2, 1)
    assert answer["erased_by"] == "privacy-officer"
    project()

    assert _holding_personal_data("tenant-a") == []
    assert _counts("tenant-a") == counts_before, "statuses and counts stay"
    assert sorted(map(str, _scan_tenant("tenant-b"))) == other_before, "another tenant's data is untouched"
    audit = DynamoErasureStore().latest_erasure("tenant-a", "cust-ada")
    assert audit is not None
    assert audit.erased_by == "privacy-officer"
    assert audit.recipients == 2
    # The other customer of the same messages keeps their data.
    grace = [r for m in sent for r in recipients_of("tenant-a", m) if r.customer_id == "cust-grace"]
    assert {r.email for r in grace} == {OTHER}
    assert {r.name for r in grace} == {"Grace Hopper"}
    # Ada's history still lists her messages, with their statuses.
    history = json_body(world.request("GET", "/customers/cust-ada/messages"))["items"]
    assert len(history) == 2

    again = world.request("DELETE", "/customers/cust-ada", subject="someone-else")
    assert again["statusCode"] == 200
    assert json_body(again) == answer, "a second call is a no-op answering the same"
    assert len(_erasures("tenant-a", "cust-ada")) == 1


def test_an_erased_address_stays_suppressed_and_is_dropped_when_sent_to_again(
    world: SendWorld, sent: tuple[str, str]
) -> None:
    assert world.request("DELETE", "/customers/cust-ada")["statusCode"] == 200
    assert world.request("GET", "/suppressions/ada%40example.com")["statusCode"] == 200, "found by its hash"
    calls = world.ses.calls_to(ADDRESS)
    body = {
        "kind": "email",
        "subject": "Again",
        "text": "Hello",
        "recipients": [{"customer_id": "cust-ada-2", "email": "Ada@Example.com"}],
    }
    created = json_body(world.post(body))
    assert [r["status"] for r in created["recipients"]] == ["dropped"]
    assert world.drain() == []
    assert world.ses.calls_to(ADDRESS) == calls, "never sent"
    # Lifted (by its address, which only the caller knows now): sending works again.
    assert world.request("DELETE", "/suppressions/ada%40example.com")["statusCode"] == 200
    again = json_body(world.post(body))
    assert [r["status"] for r in again["recipients"]] == ["queued"]


def test_a_later_ses_event_brings_no_personal_data_back(world: SendWorld, sent: tuple[str, str]) -> None:
    first, _ = sent
    late = _events("tenant-a", first)  # read before the erasure: the events carry the address
    assert world.request("DELETE", "/customers/cust-ada")["statusCode"] == 200
    counts_before = _counts("tenant-a")
    ses_id = late[1]["mail"]["messageId"]
    tags = b.tags_for("tenant-a", first, _ada(first).recipient_id)
    later = b.DEFAULT_SENT_AT.replace(hour=23)
    more = b.click_event(ses_id, ADDRESS, tags=tags, at=later, link=f"https://studio.example/u?to={ADDRESS}")
    # Without our tags: found through the SES message id, and matched by the address's hash.
    untagged = b.notification_bounce(ses_id, ADDRESS, at=later, diagnostic_code=f"550 <{ADDRESS}> unknown")
    assert run_ingest([*late, more, untagged]) == []
    assert not [i for i in _scan() if i["pk"]["S"].startswith("QUARANTINE#")], "matched by the hash"
    assert _holding_personal_data("tenant-a") == []
    facts = _ada(first).facts
    assert facts.click_count == 2, "the new events count"
    assert facts.bounce is not None
    assert _counts("tenant-a")[first]["clicked"] == counts_before[first]["clicked"], (
        "one recipient, counted once"
    )


def test_an_unknown_customer_is_404_and_another_tenants_customer_is_unknown(world: SendWorld) -> None:
    _send(world, tenant_id="tenant-b")
    assert world.request("DELETE", "/customers/cust-ada")["statusCode"] == 404
    assert world.request("DELETE", "/customers/nobody", tenant_id="tenant-b")["statusCode"] == 404
    assert world.request("DELETE", "/customers/bad%23id")["statusCode"] == 400


def _ada(message_id: str) -> Any:
    return next(r for r in recipients_of("tenant-a", message_id) if r.email == pseudonym("tenant-a", ADDRESS))


def _scan_tenant(tenant_id: str) -> list[dict[str, Any]]:
    return [item for item in _scan() if item["pk"]["S"].startswith(f"T#{tenant_id}#")]


def _erasures(tenant_id: str, customer_id: str) -> list[dict[str, Any]]:
    return [
        item
        for item in _scan()
        if item["pk"]["S"] == f"T#{tenant_id}#C#{customer_id}" and item["sk"]["S"].startswith("ERASURE#")
    ]


def test_a_recipient_erased_before_its_send_is_dropped_never_sent(world: SendWorld) -> None:
    message_id = _send(world)  # queued, not sent yet
    assert world.request("DELETE", "/customers/cust-ada")["statusCode"] == 200
    assert world.drain() == []
    assert world.ses.calls_to(ADDRESS) == 0
    assert world.ses.calls_to(OTHER) == 1, "the message's other recipient is sent"
    ada = _ada(message_id)
    assert ada.status == "dropped"
    assert "erased" in (ada.send_outcome_reason or "")
    assert _holding_personal_data("tenant-a") == []
