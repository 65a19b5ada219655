"""Live updates (web/live.js): an open view fetches again while a recipient is pending and re-renders
in place, keeping the reader's scroll position, filter and focus; nothing is fetched while the tab
is hidden. Each test has its own tenant, so the demo data the other tests compare stays as it is."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Request, expect

from local.ses_simulator import ses_time
from tests.e2e.conftest import LocalInstance, wait_until
from tests.e2e.dashboard import Dashboard
from tests.e2e.ses_events import ses_event

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

REFRESH_SECONDS = 0.5
UPDATE_TIMEOUT_MS = 30_000  # the event's way through the topic, the queue, ingest and the projector
# Addresses outside the simulator's domain get a Send event only (local/ses_simulator.py): they stay
# pending until the test delivers them.
PENDING_DOMAIN = "example.com"


def send(local_demo: LocalInstance, tenant: str, subject: str, kind: str, people: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": kind,
        "subject": subject,
        "text": "hello",
        "recipients": [
            {"customer_id": f"c-{n}", "email": f"person{n}@{PENDING_DOMAIN}", "name": f"Person {n}"}
            for n in range(1, people + 1)
        ],
    }
    if kind == "invoice":
        body["invoice_id"] = f"INV-{tenant}"
    message: dict[str, Any] = local_demo.api("POST", "/messages", tenant=tenant, json=body)
    return message


def recipients(local_demo: LocalInstance, tenant: str, message_id: str) -> list[dict[str, Any]]:
    """The message's recipients once each has its Send event (its SES message id)."""

    def sent() -> list[dict[str, Any]] | None:
        page = local_demo.api("GET", f"/messages/{message_id}/recipients?limit=200", tenant=tenant)
        items: list[dict[str, Any]] = page["items"]
        return items if items and all(r["status"] == "sent" for r in items) else None

    found: list[dict[str, Any]] = wait_until(sent, 60, "every recipient's Send event")
    return found


def deliver(local_demo: LocalInstance, tenant: str, message_id: str, recipient: dict[str, Any]) -> None:
    """A Delivery event as SES publishes it, through local mode's topic (POST /local/ses-events)."""
    delivery = {
        "timestamp": ses_time(datetime.now(UTC)),
        "processingTimeMillis": 5000,
        "recipients": [recipient["email"]],
        "smtpResponse": "250 2.6.0 Message received",
        "reportingMTA": "a1-2.smtp-out.amazonses.com",
    }
    event = ses_event(tenant, message_id, recipient, "Delivery", delivery, sent_ago=timedelta(seconds=5))
    local_demo.api("POST", "/local/ses-events", json=event)


def api_requests(page: Page, path: str) -> list[str]:
    """The URLs of the page's requests to an API path, as they happen."""
    seen: list[str] = []

    def record(request: Request) -> None:
        if re.search(rf"//[^/]+{re.escape(path)}(\?|$)", request.url):
            seen.append(request.url)

    page.on("request", record)
    return seen


def test_a_delivered_recipient_updates_the_messages_list_in_place(
    chromium: Browser, local_demo: LocalInstance
) -> None:
    tenant = "dashboard-live-list"
    watched = send(local_demo, tenant, "Class photos", "email", 4)
    for n in range(6):  # enough rows for the page to scroll
        send(local_demo, tenant, f"Newsletter {n}", "email", 1)
    send(local_demo, tenant, "Invoice for the live test", "invoice", 1)
    people = recipients(local_demo, tenant, watched["message_id"])

    view = Dashboard(chromium, local_demo.base_url, token=local_demo.token(tenant))
    try:
        page = view.open("#/messages?kind=email", refresh_seconds=REFRESH_SECONDS)
        view.heading("Messages")
        page.set_viewport_size({"width": 1280, "height": 420})
        row = page.locator(f'tr[data-message-id="{watched["message_id"]}"]')
        expect(row.locator(".pending")).to_have_text("4 pending")
        expect(page.locator(".live-status")).to_contain_text("updates every")
        expect(page.locator(".live-status .live-updated")).to_have_text(
            re.compile(r"^Updated (just now|\d+ s ago)$")
        )
        page.evaluate("() => { window.__notReloaded = true; }")
        link = row.get_by_role("link", name="Class photos")
        link.scroll_into_view_if_needed()
        link.focus()
        scrolled = page.evaluate("() => window.scrollY")
        assert scrolled > 0

        deliver(local_demo, tenant, watched["message_id"], people[0])
        expect(row.locator(".pending")).to_have_text("3 pending", timeout=UPDATE_TIMEOUT_MS)
        expect(row.locator(".delivery-rate .rate-value")).to_have_text("25%", timeout=UPDATE_TIMEOUT_MS)
        # The same page, scrolled where it was, filtered as it was, the focus where it was.
        assert page.evaluate("() => window.__notReloaded") is True
        assert page.evaluate("() => window.scrollY") == scrolled
        assert page.url.endswith("#/messages?kind=email")
        expect(page.get_by_label("Kind")).to_have_value("email")
        expect(page.locator("table.messages-table tbody tr .kind").filter(has_text="Invoice")).to_have_count(
            0
        )
        expect(row.get_by_role("link", name="Class photos")).to_be_focused()
    finally:
        view.close()


def test_a_delivered_recipient_updates_the_recipients_tab_and_keeps_the_focus(
    chromium: Browser, local_demo: LocalInstance
) -> None:
    tenant = "dashboard-live-recipients"
    message = send(local_demo, tenant, "Term dates", "email", 12)
    people = recipients(local_demo, tenant, message["message_id"])
    last = people[-1]

    view = Dashboard(chromium, local_demo.base_url, token=local_demo.token(tenant))
    try:
        page = view.open(f"#/messages/{message['message_id']}", refresh_seconds=REFRESH_SECONDS)
        view.heading("Term dates")
        page.set_viewport_size({"width": 1280, "height": 500})
        row = page.locator(f'tr[data-recipient-id="{last["recipient_id"]}"]')
        expect(row.locator(".badge")).to_have_text("Sent")
        page.evaluate("() => { window.__notReloaded = true; }")
        page.get_by_text("What do the statuses mean?").click()  # an opened <details> stays open
        row.scroll_into_view_if_needed()
        page.get_by_label("Status").focus()
        scrolled = page.evaluate("() => window.scrollY")

        deliver(local_demo, tenant, message["message_id"], last)
        expect(row.locator(".badge")).to_have_text("Delivered", timeout=UPDATE_TIMEOUT_MS)
        expect(page.locator(".rate-card[data-rate='Delivery Rate'] .rate-detail")).to_have_text(
            "1 of 12", timeout=UPDATE_TIMEOUT_MS
        )
        assert page.evaluate("() => window.__notReloaded") is True
        assert page.evaluate("() => window.scrollY") == scrolled
        expect(page.get_by_label("Status")).to_be_focused()
        expect(page.locator("details.legend")).to_have_attribute("open", "")
    finally:
        view.close()


def set_hidden(page: Page, hidden: bool) -> None:
    """The tab in the background (or back), as the Page Visibility API reports it."""
    page.evaluate(
        """(hidden) => {
          Object.defineProperty(document, "hidden", { configurable: true, get: () => hidden });
          Object.defineProperty(document, "visibilityState", {
            configurable: true, get: () => (hidden ? "hidden" : "visible"),
          });
          document.dispatchEvent(new Event("visibilitychange"));
        }""",
        hidden,
    )


def pump_until(page: Page, check: Callable[[], bool], what: str, timeout_ms: int = UPDATE_TIMEOUT_MS) -> None:
    """Wait in the browser's time (Playwright hands over page events only while it waits)."""
    for _ in range(timeout_ms // 100):
        if check():
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"timed out waiting for {what}")


def test_nothing_is_fetched_while_the_tab_is_hidden(chromium: Browser, local_demo: LocalInstance) -> None:
    tenant = "dashboard-live-hidden"
    message = send(local_demo, tenant, "Studio news", "email", 1)
    person = recipients(local_demo, tenant, message["message_id"])[0]

    view = Dashboard(chromium, local_demo.base_url, token=local_demo.token(tenant))
    try:
        page = view.open("#/messages", refresh_seconds=REFRESH_SECONDS)
        view.heading("Messages")
        fetched = api_requests(page, "/messages")
        pump_until(page, lambda: len(fetched) >= 2, "two live updates while the tab is visible")

        set_hidden(page, True)
        page.wait_for_timeout(100)  # a request sent just before is reported now
        before = len(fetched)
        deliver(local_demo, tenant, message["message_id"], person)
        page.wait_for_timeout(int(REFRESH_SECONDS * 1000 * 6))
        assert len(fetched) == before, "no request while the tab is hidden"
        row = page.locator(f'tr[data-message-id="{message["message_id"]}"]')
        expect(row.locator(".pending")).to_have_text("1 pending")
        expect(page.locator(".live-status")).to_contain_text("paused while this tab is hidden")

        set_hidden(page, False)  # back: it catches up at once, and goes on while something is pending
        expect(row.locator(".pending")).to_have_count(0, timeout=UPDATE_TIMEOUT_MS)
        expect(row.locator(".delivery-rate .rate-value")).to_have_text("100%")
        # Nothing pending any more: the view stops fetching.
        expect(page.locator(".live-status")).not_to_contain_text("updates every")
        settled = len(fetched)
        page.wait_for_timeout(int(REFRESH_SECONDS * 1000 * 4))
        assert len(fetched) == settled
    finally:
        view.close()
