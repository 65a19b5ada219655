"""The "Needs attention" page (web/views/attention.js) against local mode: the demo's undelivered
documents with their plain reasons, and resend and dismiss on a tenant of the test's own (so the
demo data the other browser tests compare stays as it is); plain reasons on a timeline."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import LocalInstance, wait_until
from tests.e2e.dashboard import Dashboard, label

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

SIM = "simulator.amazonses.com"
CORRECTED = f"success+corrected@{SIM}"
BOUNCED = f"bounce@{SIM}"
UPDATE_TIMEOUT_MS = 30_000


def document_name(item: dict[str, Any]) -> str:
    """What the page calls a document (web/views/attention.js documentName)."""
    if item["invoice_id"]:
        return f"Invoice {item['invoice_id']}"
    if item["payment_id"]:
        return f"Payment receipt {item['payment_id']}"
    return str(item["subject"])


def attention(local_demo: LocalInstance, tenant: str = "demo") -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = local_demo.api("GET", "/attention?limit=100", tenant=tenant)["items"]
    return items


def suppressed(local_demo: LocalInstance, tenant: str, email: str) -> bool:
    response = requests.get(
        f"{local_demo.base_url}/suppressions/{email}",
        headers={"Authorization": f"Bearer {local_demo.token(tenant)}"},
        timeout=10,
    )
    return response.status_code == 200 and response.json()["state"] == "active"


def send_bouncing(local_demo: LocalInstance, tenant: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """An invoice and a receipt to SES's bouncing simulator address, once both are in the queue."""
    person = {"customer_id": "c-ben", "email": BOUNCED, "name": "Ben Okafor"}
    invoice = local_demo.api(
        "POST",
        "/messages",
        tenant=tenant,
        json={
            "kind": "invoice",
            "subject": "Invoice INV-7001",
            "text": "Your invoice",
            "invoice_id": "INV-7001",
            "recipients": [person],
        },
    )
    receipt = local_demo.api(
        "POST",
        "/messages",
        tenant=tenant,
        json={
            "kind": "receipt",
            "subject": "Payment receipt PAY-7001",
            "text": "Thank you",
            "payment_id": "PAY-7001",
            "recipients": [person],
        },
    )
    wanted = {invoice["message_id"], receipt["message_id"]}
    wait_until(
        lambda: wanted <= {item["message_id"] for item in attention(local_demo, tenant)},
        60,
        "both bounced documents in GET /attention",
    )
    return invoice, receipt


def test_the_attention_page_lists_the_undelivered_demo_documents_with_plain_reasons(
    dashboard: Dashboard, local_demo: LocalInstance
) -> None:
    items = attention(local_demo)
    kinds = {item["kind"] for item in items}
    assert {"invoice", "receipt"} <= kinds, "the demo has an undelivered invoice and an undelivered receipt"
    count = local_demo.api("GET", "/attention/count")["count"]

    page = dashboard.open("#/messages")
    nav = page.get_by_role("navigation", name="Main").get_by_role("link", name="Needs attention")
    expect(nav).to_contain_text(str(count))
    nav.click()
    dashboard.heading("Needs attention")
    expect(nav).to_have_attribute("aria-current", "page")
    expect(page.locator("article.attention-item")).to_have_count(len(items))
    for item in items:
        article = page.locator(f'article[data-message-id="{item["message_id"]}"]')
        expect(article.locator("h2")).to_have_text(document_name(item))
        for recipient in item["recipients"]:
            block = article.locator(f'[data-recipient-id="{recipient["recipient_id"]}"]')
            expect(block.locator(".badge")).to_have_text(label(recipient["status"]))
            expect(block.get_by_label("Send again to")).to_have_value(recipient["email"])
            reason = recipient["reason"]
            if reason:
                expect(block.locator(".reason-summary")).to_have_text(reason["summary"])
                expect(block.locator(".reason-advice")).to_have_text(f"What to do: {reason['advice']}")
            if recipient["raw_reason"]:  # the raw diagnostic, one click away
                raw = block.locator(".raw-lines")
                expect(raw).to_be_hidden()
                block.get_by_text("Technical details").click()
                expect(raw).to_have_text(recipient["raw_reason"])
    bounced = next(item for item in items if item["kind"] == "invoice" and item["problem"] == "failed")
    assert bounced["recipients"][0]["reason"]["summary"]
    dashboard.screenshot("attention.png")


def test_resend_to_a_corrected_address_shows_the_new_send_on_the_invoice_logs(
    chromium: Browser, local_demo: LocalInstance
) -> None:
    tenant = "dashboard-attention-resend"
    invoice, _ = send_bouncing(local_demo, tenant)
    view = Dashboard(chromium, local_demo.base_url, token=local_demo.token(tenant))
    try:
        page = view.open("#/attention", refresh_seconds=1)
        view.heading("Needs attention")
        article = page.locator(f'article[data-message-id="{invoice["message_id"]}"]')
        field = article.get_by_label("Send again to")
        # A bad address is explained beside the field, not sent.
        field.fill("not an address")
        article.get_by_role("button", name="Resend").click()
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(article.locator(".field-error")).to_be_visible()
        expect(field).to_be_focused()

        # Two permanent bounces suppressed the old address: the API's 409 says what to do, in the row.
        wait_until(lambda: suppressed(local_demo, tenant, BOUNCED), 60, f"{BOUNCED} suppressed")
        field.fill(BOUNCED)
        with page.expect_request("**/resend") as refused:
            article.get_by_role("button", name="Resend").click()
        expect(article.locator(".action-note")).to_contain_text("suppress")
        expect(field).to_be_focused()

        field.fill(CORRECTED)
        with page.expect_request("**/resend") as sent:
            article.get_by_role("button", name="Resend").click()
        key = sent.value.headers.get("idempotency-key")
        assert key, "each click carries an Idempotency-Key"
        assert key != refused.value.headers.get("idempotency-key"), "a new one per click"
        assert refused.value.post_data_json == {}  # the address as it was: nothing to correct
        assert sent.value.post_data_json == {"email": CORRECTED}
        flash = page.locator("#attention-flash")
        expect(flash).to_contain_text(f"Invoice INV-7001 was sent again to {CORRECTED}")
        expect(flash).to_be_focused()
        expect(article).to_have_count(0)  # the resent row left the queue
        # The queue is kept from the table's stream: the count follows within a live update or two.
        expect(page.locator('[data-section="attention"]')).to_have_attribute(
            "data-count", "1", timeout=UPDATE_TIMEOUT_MS
        )

        flash.get_by_role("link", name="See the logs of invoice INV-7001").click()
        view.heading("Invoice INV-7001")
        logs = local_demo.api("GET", "/invoices/INV-7001/logs", tenant=tenant)["items"]
        assert len(logs) == 2, "both sends are on the invoice's logs"
        resend = next(m for m in logs if m["message_id"] != invoice["message_id"])
        section = page.locator(f'section.log-message[data-message-id="{resend["message_id"]}"]')
        expect(section.locator("article.log-recipient .email")).to_have_text(CORRECTED)
        old = page.locator(f'section.log-message[data-message-id="{invoice["message_id"]}"]')
        expect(old.locator(".badge")).to_have_text("Bounced")
        # The new send is delivered by SES's simulator: the open Logs tab shows it without a reload.
        expect(section.locator(".badge")).to_have_text("Delivered", timeout=UPDATE_TIMEOUT_MS)

        # The bounced recipient links to its resend, and the resend back to it.
        old.locator("h2 a").click()
        view.heading("Invoice INV-7001")
        expect(page.locator(".resent-as a")).to_have_attribute("href", f"#/messages/{resend['message_id']}")
        page.locator(".resent-as a").click()
        expect(page.locator(".resent-from a")).to_have_attribute(
            "href", f"#/messages/{invoice['message_id']}"
        )
    finally:
        view.close()


def test_dismiss_removes_an_item_without_a_new_send(chromium: Browser, local_demo: LocalInstance) -> None:
    tenant = "dashboard-attention-dismiss"
    _, receipt = send_bouncing(local_demo, tenant)
    view = Dashboard(chromium, local_demo.base_url, token=local_demo.token(tenant))
    try:
        page = view.open("#/attention?kind=receipt", refresh_seconds=1)
        view.heading("Needs attention")
        expect(page.get_by_label("Kind")).to_have_value("receipt")
        article = page.locator(f'article[data-message-id="{receipt["message_id"]}"]')
        expect(page.locator("article.attention-item")).to_have_count(1)
        article.get_by_role("button", name="Dismiss").click()
        expect(page.locator("#attention-flash")).to_contain_text("was dismissed without resending")
        expect(page.locator("article.attention-item")).to_have_count(0)
        expect(page.locator(".state-empty")).to_contain_text("Nothing needs your attention")
        messages = local_demo.api("GET", "/messages?kind=receipt", tenant=tenant)["items"]
        assert [m["message_id"] for m in messages] == [receipt["message_id"]], "nothing was sent"
        recipient = local_demo.api("GET", f"/messages/{receipt['message_id']}/recipients", tenant=tenant)[
            "items"
        ][0]
        assert recipient["dismissed"]["at"]
    finally:
        view.close()


def test_a_bounced_recipients_timeline_shows_the_plain_reason_first(
    dashboard: Dashboard, local_demo: LocalInstance
) -> None:
    message = next(
        m
        for m in local_demo.api("GET", "/messages?limit=200")["items"]
        if m["subject"] == "December class schedule"
    )
    recipients = local_demo.api("GET", f"/messages/{message['message_id']}/recipients?limit=200")["items"]
    ben = next(r for r in recipients if r["email"] == f"bounce@{SIM}")
    events = local_demo.api(
        "GET", f"/messages/{message['message_id']}/recipients/{ben['recipient_id']}/events"
    )
    bounce = next(e for e in events["items"] if e["kind"] == "bounce")

    page = dashboard.open(f"#/messages/{message['message_id']}/recipients/{ben['recipient_id']}")
    dashboard.heading(f"Timeline: {ben['name']}")
    item = page.locator('.timeline-item[data-kind="bounce"]')
    raw = item.locator(".timeline-details")
    reason = bounce["reason"]
    assert reason["summary"]
    # The plain reason and what to do come first, SES's words one click away.
    expect(item.locator(".reason-summary")).to_have_text(reason["summary"])
    expect(item.locator(".reason-advice")).to_have_text(f"What to do: {reason['advice']}")
    expect(raw).to_be_hidden()
    item.get_by_text("Technical details").click()
    expect(page.locator(".meta .reason-summary")).to_have_text(ben["reason"]["summary"])
    expect(raw).to_be_visible()
    expect(raw).to_contain_text(bounce["details"]["diagnostic_code"])
