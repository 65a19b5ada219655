"""One-click unsubscribe on moto, end to end: what SES is asked to send (an email carries the
RFC 8058 headers, an invoice neither them nor tracking), the public link (GET shows a page, POST
unsubscribes), SES Subscription events through ingest and the projector, and resubscribing. An
unsubscribed address gets no more emails (`dropped`, "unsubscribed") and still every invoice."""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests import ses_builders as b
from tests.apigw import json_body
from tests.integration.test_send_support import (
    SendWorld,
    email_body,
    make_world,
    recipients_body,
    recipients_of,
    run_ingest,
)
from tracker import constants
from tracker.domain.reasons import UNSUBSCRIBED_RULE
from tracker.domain.records import RecipientKey
from tracker.domain.unsubscribe import LIST_UNSUBSCRIBE, LIST_UNSUBSCRIBE_POST, ONE_CLICK, sign

BASE_URL = "https://api.example/prod/"
TENANT = "tenant-a"


@pytest.fixture
def world(table: str, monkeypatch: pytest.MonkeyPatch) -> SendWorld:
    monkeypatch.setenv(constants.ENV_CURSOR_SECRET, "unsubscribe-tests-cursor-secret-0123")
    return make_world(unsubscribe_base_url=BASE_URL)


def post(world: SendWorld, body: dict[str, Any]) -> str:
    response = world.post(body)
    assert response["statusCode"] == 202, response["body"]
    message_id: str = json_body(response)["message_id"]
    return message_id


def invoice_body(n: int = 1, **overrides: Any) -> dict[str, Any]:
    return email_body(n, kind="invoice", invoice_id="inv-1", subject="Invoice INV-1", **overrides)


def headers_of(call: dict[str, Any]) -> dict[str, str]:
    return {h["Name"]: h["Value"] for h in call["Content"]["Simple"].get("Headers", [])}


def calls_to(world: SendWorld, address: str) -> list[dict[str, Any]]:
    return [call for call in world.ses.calls if world.ses.address(call) == address]


def link_path(call: dict[str, Any]) -> str:
    """The path of the List-Unsubscribe URL SES was asked to put in the email, as API Gateway
    hands it to the function (without the stage)."""
    url = headers_of(call)[LIST_UNSUBSCRIBE].strip("<>")
    assert url.startswith(BASE_URL + "unsubscribe/"), url
    return "/" + urlsplit(url).path.removeprefix(urlsplit(BASE_URL).path)


def public(world: SendWorld, method: str, path: str, body: str | None = None) -> dict[str, Any]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else None
    return world.request(method, path, body=body, headers=headers, tenant_id=None)


def content_type(response: dict[str, Any]) -> str:
    headers = response.get("multiValueHeaders") or {}
    return str((headers.get("Content-Type") or [""])[0])


def status_of(message_id: str) -> dict[str, tuple[str, str | None]]:
    return {r.email: (r.status, r.send_outcome_reason) for r in recipients_of(TENANT, message_id)}


def test_an_email_carries_the_one_click_headers_and_an_invoice_neither_them_nor_tracking(
    world: SendWorld,
) -> None:
    post(world, email_body(1))
    post(world, invoice_body(1, recipients=recipients_body(1, start=5)))
    assert world.drain() == []
    email, invoice = calls_to(world, "person0@example.com"), calls_to(world, "person5@example.com")
    assert len(email) == len(invoice) == 1
    headers = headers_of(email[0])
    assert headers[LIST_UNSUBSCRIBE_POST] == ONE_CLICK
    assert headers[LIST_UNSUBSCRIBE].startswith(f"<{BASE_URL}unsubscribe/")
    assert headers[LIST_UNSUBSCRIBE].endswith(">")
    assert email[0]["ConfigurationSetName"] == constants.CONFIGURATION_SET_NAME
    # The invoice: transactional, so no unsubscribe headers; untracked by default, so the set
    # without OPEN and CLICK (SES adds no pixel and rewrites no link).
    assert headers_of(invoice[0]) == {}
    assert invoice[0]["ConfigurationSetName"] == constants.UNTRACKED_CONFIGURATION_SET_NAME


def test_one_click_unsubscribes_from_emails_only_and_a_get_changes_nothing(world: SendWorld) -> None:
    post(world, email_body(2))
    assert world.drain() == []
    path = link_path(calls_to(world, "person0@example.com")[0])

    page = public(world, "GET", path)  # what a link scanner does
    assert page["statusCode"] == 200
    assert content_type(page).startswith("text/html")
    assert '<form method="post">' in page["body"]
    later = post(world, email_body(2))
    assert world.drain() == []
    assert status_of(later)["person0@example.com"][0] == "sent", "a GET must not unsubscribe"

    done = public(world, "POST", path, body="List-Unsubscribe=One-Click")
    assert done["statusCode"] == 200, done["body"]
    assert "Unsubscribed" in done["body"]
    assert public(world, "POST", path, body="List-Unsubscribe=One-Click")["statusCode"] == 200  # idempotent

    before = Counter(world.ses.address(call) for call in world.ses.calls)
    email = post(world, email_body(2))
    invoice = post(world, invoice_body(1))
    assert world.drain() == []
    assert status_of(email)["person0@example.com"] == ("dropped", UNSUBSCRIBED_RULE)
    assert status_of(email)["person1@example.com"][0] == "sent"
    assert status_of(invoice)["person0@example.com"][0] == "sent", "an invoice is never held back"
    sent = Counter(world.ses.address(call) for call in world.ses.calls) - before
    assert sent == Counter({"person0@example.com": 1, "person1@example.com": 1})  # the invoice, the email

    # The API shows the drop with its plain reason, and the address's unsubscription.
    row = json_body(world.request("GET", f"/messages/{email}/recipients?status=dropped"))["items"][0]
    assert (row["email"], row["dropped_reason"]) == ("person0@example.com", UNSUBSCRIBED_RULE)
    assert row["reason"]["code"] == "unsubscribed"
    detail = json_body(world.request("GET", "/suppressions/person0%40example.com/unsubscription"))
    assert detail["unsubscribed"] is True
    assert detail["source"] == "one_click"


def test_a_link_we_did_not_sign_unsubscribes_no_one(world: SendWorld) -> None:
    message_id = post(world, email_body(1))
    forged = sign(b"another key", RecipientKey(TENANT, message_id, "r0000"))
    for method in ("GET", "POST"):
        answer = public(world, method, f"/unsubscribe/{forged}", body="List-Unsubscribe=One-Click")
        assert answer["statusCode"] == 404
        assert content_type(answer).startswith("text/html")
    assert world.request("GET", "/suppressions/person0%40example.com/unsubscription")["statusCode"] == 404


def test_an_unsubscription_after_the_message_was_queued_drops_it_at_the_send(world: SendWorld) -> None:
    first = post(world, email_body(1))
    assert world.drain() == []
    path = link_path(calls_to(world, "person0@example.com")[0])
    queued = post(world, email_body(1))  # written Queued, its job waiting
    assert public(world, "POST", path, body="List-Unsubscribe=One-Click")["statusCode"] == 200
    assert world.drain() == []
    assert status_of(first)["person0@example.com"][0] == "sent"
    assert status_of(queued)["person0@example.com"] == ("dropped", UNSUBSCRIBED_RULE)
    assert len(calls_to(world, "person0@example.com")) == 1


def test_an_ses_subscription_event_unsubscribes_the_customer_from_that_tenants_emails(
    world: SendWorld,
) -> None:
    message_id = post(world, email_body(1))
    assert world.drain() == []
    event = b.subscription_event(
        "ses-1", ["person0@example.com"], tags=b.tags_for(TENANT, message_id, "r0000")
    )
    assert run_ingest([event, event]) == []  # delivered twice: nothing changes the second time

    email = post(world, email_body(1))
    invoice = post(world, invoice_body(1))
    other_tenant = world.post(email_body(1), tenant_id="tenant-b")
    assert world.drain() == []
    assert status_of(email)["person0@example.com"] == ("dropped", UNSUBSCRIBED_RULE)
    assert status_of(invoice)["person0@example.com"][0] == "sent"
    other = json_body(other_tenant)["message_id"]
    assert {r.status for r in recipients_of("tenant-b", other)} == {"sent"}, "another tenant's emails go out"
    detail = json_body(world.request("GET", "/suppressions/person0%40example.com/unsubscription"))
    assert (detail["source"], detail["message_id"]) == ("UnsubscribeHeader", message_id)


def test_an_ses_opt_in_is_no_unsubscription(world: SendWorld) -> None:
    message_id = post(world, email_body(1))
    assert world.drain() == []
    opt_in = b.subscription_event(
        "ses-1",
        ["person0@example.com"],
        tags=b.tags_for(TENANT, message_id, "r0000"),
        unsubscribe_all=False,
        subscription_status="OptIn",
    )
    assert run_ingest([opt_in]) == []
    later = post(world, email_body(1))
    assert world.drain() == []
    assert status_of(later)["person0@example.com"][0] == "sent"


def test_resubscribing_sends_emails_again_and_a_second_lift_is_a_404(world: SendWorld) -> None:
    post(world, email_body(1))
    assert world.drain() == []
    path = link_path(calls_to(world, "person0@example.com")[0])
    assert public(world, "POST", path, body="confirm=yes")["statusCode"] == 200  # the page's button
    detail = json_body(world.request("GET", "/suppressions/person0%40example.com/unsubscription"))
    assert detail["source"] == "link_page"

    lifted = world.request("DELETE", "/suppressions/person0%40example.com/unsubscription")
    assert lifted["statusCode"] == 200, lifted["body"]
    assert json_body(lifted)["unsubscribed"] is False
    assert json_body(lifted)["resubscribed_by"] == "user-1"
    again = world.request("DELETE", "/suppressions/person0%40example.com/unsubscription")
    assert again["statusCode"] == 404

    later = post(world, email_body(1))
    assert world.drain() == []
    assert status_of(later)["person0@example.com"][0] == "sent"


def test_an_erased_customer_stays_unsubscribed(world: SendWorld) -> None:
    post(world, email_body(1))
    assert world.drain() == []
    path = link_path(calls_to(world, "person0@example.com")[0])
    assert public(world, "POST", path, body="List-Unsubscribe=One-Click")["statusCode"] == 200
    erased = world.request("DELETE", "/customers/cust-0")
    assert erased["statusCode"] == 200, erased["body"]

    later = post(world, email_body(1))
    assert world.drain() == []
    assert status_of(later)["person0@example.com"] == ("dropped", UNSUBSCRIBED_RULE)
