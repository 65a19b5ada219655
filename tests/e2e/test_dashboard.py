"""The dashboard (web/) in headless Chromium against local mode with the demo data (local/demo.py).

Each view is compared with what the API answers for the same tenant, and saved as a screenshot:
into a temporary folder during `make test` (a test run leaves the tree as it was), into
docs/screenshots/ (the README links them) with `make screenshots`, or wherever SCREENSHOT_DIR says.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import LocalInstance
from tests.e2e.dashboard import NOT_TRACKED, Dashboard, forged_token, label, message_by_subject, percent

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

SIM = "simulator.amazonses.com"
SCHEDULE = "December class schedule"
HOLIDAY = "Holiday opening hours"  # Ana's opens are automatic ones, Dev's a Gmail open (local/demo.py)
REPEAT_OPENER = f"success+ana@{SIM}"  # opens the schedule three times (local/demo.py)
BOUNCED = f"bounce@{SIM}"
BOUNCE_REASON = "smtp; 550 5.1.1 user unknown"
INVOICE_ID = "INV-1001"
CUSTOMER_ID = "cust-ana"


# --- Messages -------------------------------------------------------------------------------------


def test_messages_list_shows_the_rates_the_api_answers(
    dashboard: Dashboard, local_demo: LocalInstance
) -> None:
    api = local_demo.api("GET", "/messages?limit=200")
    assert api["next_cursor"] is None
    items = api["items"]
    assert len(items) >= 4
    assert any(m["pending"] > 0 for m in items), "the demo has a message with a pending recipient"

    page = dashboard.open("#/messages")
    dashboard.heading("Messages")
    rows = page.locator("table.messages-table tbody tr")
    expect(rows).to_have_count(len(items))
    for message in items:
        row = page.locator(f'tr[data-message-id="{message["message_id"]}"]')
        expect(row.locator("th a").first).to_have_text(message["subject"])
        expect(row.locator(".delivery-rate .rate-value")).to_have_text(percent(message["delivery_rate"]))
        if message["tracking"] != "on":
            # An untracked invoice, a text-only email: no 0%, the reason instead.
            assert message["open_rate"] is None
            expect(row.locator(".open-rate .not-tracked .rate-value")).to_have_text(
                NOT_TRACKED[message["tracking"]]
            )
        else:
            expect(row.locator(".open-rate .rate-value")).to_have_text(percent(message["open_rate"]))
        if message["open_rate_all"] not in (None, message["open_rate"]):
            expect(row.locator(".open-rate .rate-all")).to_have_text(
                f"incl. automatic opens: {percent(message['open_rate_all'])}"
            )
        else:
            expect(row.locator(".open-rate .rate-all")).to_have_count(0)
        if message["pending"]:
            expect(row.locator(".pending")).to_have_text(f"{message['pending']} pending")
            # A rate with no denominator yet has no bar to stripe.
            shown = [rate for rate in (message["delivery_rate"], message["open_rate"]) if rate is not None]
            # (an untracked Open Rate is null: no bar either)
            expect(row.locator(".bar-provisional")).to_have_count(len(shown))
        else:
            expect(row.locator(".pending")).to_have_count(0)
            expect(row.locator(".bar-provisional")).to_have_count(0)
    # Newest first, as the API lists them.
    ids = [row.get_attribute("data-message-id") for row in rows.all()]
    assert ids == [m["message_id"] for m in items]
    dashboard.screenshot("messages.png")

    # Filter by kind: only invoices, as the API filters them.
    invoices = local_demo.api("GET", "/messages?kind=invoice")["items"]
    page.get_by_label("Kind").focus()  # as a keyboard user: the control keeps the focus after the update
    page.get_by_label("Kind").select_option("invoice")
    expect(page).to_have_url(f"{local_demo.base_url}/#/messages?kind=invoice")
    expect(rows).to_have_count(len(invoices))
    expect(page.get_by_label("Kind")).to_be_focused()
    for message in invoices:
        expect(page.locator(f'tr[data-message-id="{message["message_id"]}"] .kind')).to_have_text("Invoice")


def test_messages_are_paged_with_next_and_previous(dashboard: Dashboard, local_demo: LocalInstance) -> None:
    """Pages of two (`?limit=2`): next and previous follow the API's cursors, with no gap or repeat."""
    expected = [m["message_id"] for m in local_demo.api("GET", "/messages?limit=200")["items"]]
    assert len(expected) >= 3
    page = dashboard.open("#/messages?limit=2")
    dashboard.heading("Messages")
    rows = page.locator("table.messages-table tbody tr")
    pager = page.get_by_role("navigation", name="Messages pages")
    expect(pager.get_by_role("button", name="Previous page")).to_be_disabled()
    seen: list[str | None] = []
    for number in range(1, 100):
        expect(pager).to_contain_text(f"Page {number}")
        expect(page.locator("main")).not_to_have_attribute("aria-busy", "true")
        seen += [row.get_attribute("data-message-id") for row in rows.all()]
        following = pager.get_by_role("button", name="Next page")
        if following.is_disabled():
            break
        following.click()
        expect(pager).to_contain_text(f"Page {number + 1}")
        expect(pager.locator("button:focus")).to_have_count(1)  # the focus stays on the pager
    assert seen == expected
    first_of_last_page = rows.first.get_attribute("data-message-id")
    pager.get_by_role("button", name="Previous page").click()
    expect(pager).to_contain_text(f"Page {number - 1}")
    expect(rows.first).not_to_have_attribute("data-message-id", first_of_last_page or "")
    assert rows.first.get_attribute("data-message-id") == expected[(number - 2) * 2]


def test_automatic_opens_and_clicks_are_shown_apart_from_the_customers(
    dashboard: Dashboard, local_demo: LocalInstance
) -> None:
    """The holiday email (local/demo.py): Ana's Apple Mail opened it at arrival and a link scanner
    clicked it; Dev opened it in Gmail. Open Rate counts Dev only; SES's raw rate both."""
    message = message_by_subject(local_demo, HOLIDAY)
    assert message["counts"]["machine_opened"] == 1
    assert message["open_rate"] < message["open_rate_all"]
    recipients = local_demo.api("GET", f"/messages/{message['message_id']}/recipients")["items"]
    ana = next(r for r in recipients if r["email"] == REPEAT_OPENER)
    assert (ana["engagement"], ana["machine_open_count"], ana["machine_click_count"]) == (
        "machine_only",
        1,
        1,
    )

    page = dashboard.open(f"#/messages/{message['message_id']}")
    dashboard.heading(HOLIDAY)
    card = page.locator('.rate-card[data-rate="Open Rate"]')
    expect(card.locator(".rate-value")).to_have_text(percent(message["open_rate"]))
    expect(card.locator(".rate-all")).to_have_text(
        f"incl. automatic opens: {percent(message['open_rate_all'])}"
    )
    expect(page.locator(".automatic-note")).to_contain_text("Open and Click Rates count customers")
    row = page.locator(f'tr[data-email="{REPEAT_OPENER}"]')
    expect(row.locator(".badge")).to_have_text("Delivered")
    expect(row.locator(".opens .automatic-count")).to_have_text("+1 automatic")
    expect(row.locator(".automatic-only")).to_contain_text("Opened automatically only")

    row.get_by_role("link").first.click()
    dashboard.heading(f"Timeline: {ana['name']}")
    events = local_demo.api(
        "GET", f"/messages/{message['message_id']}/recipients/{ana['recipient_id']}/events"
    )["items"]
    for event in (e for e in events if e["kind"] in ("open", "click")):
        item = page.locator(f'.timeline-item[data-kind="{event["kind"]}"] .verdict')
        expect(item).to_have_attribute("data-verdict", event["verdict"])
        expect(item).to_contain_text(event["verdict_reason"])
    expect(page.locator('.timeline-item[data-kind="open"] .verdict')).to_contain_text(
        "Apple Mail Privacy Protection"
    )
    expect(page.locator('.timeline-item[data-kind="click"] .verdict')).to_contain_text("Link scanner")

    page = dashboard.open("#/statuses")
    expect(page.locator("#automatic")).to_have_text("Automatic opens and clicks")
    expect(page.locator(".automatic-list")).to_contain_text("Apple Mail (on iPhone, iPad and Mac)")
    expect(page.locator(".automatic-list")).to_contain_text("Microsoft Defender")


# --- Message -> Recipients -----------------------------------------------------------------------


def test_recipients_tab_shows_status_open_count_and_bounce_reason(
    dashboard: Dashboard, local_demo: LocalInstance
) -> None:
    message = message_by_subject(local_demo, SCHEDULE)
    recipients = local_demo.api("GET", f"/messages/{message['message_id']}/recipients?limit=200")["items"]
    by_email = {r["email"]: r for r in recipients}
    assert by_email[REPEAT_OPENER]["open_count"] == 3
    assert by_email[BOUNCED]["bounce"]["reason"] == BOUNCE_REASON

    page = dashboard.open("#/messages")
    page.get_by_role("link", name=SCHEDULE, exact=True).click()
    dashboard.heading(SCHEDULE)
    expect(page.locator("h1")).to_be_focused()
    expect(page.locator('.tabs a[aria-current="page"]')).to_have_text(f"Recipients ({message['recipients']})")
    expect(page.locator("table.recipients-table tbody tr")).to_have_count(len(recipients))
    for recipient in recipients:
        row = page.locator(f'tr[data-recipient-id="{recipient["recipient_id"]}"]')
        expect(row.locator(".badge")).to_have_text(label(recipient["status"]))
        expect(row.locator(".customer")).to_have_text(recipient["customer_id"])
        if recipient["open_count"]:
            times = "time" if recipient["open_count"] == 1 else "times"
            expect(row.locator(".opens")).to_have_text(f"{recipient['open_count']} {times}")
    opener = page.locator(f'tr[data-email="{REPEAT_OPENER}"]')
    expect(opener.locator(".opens")).to_contain_text("3")
    bounced = page.locator(f'tr[data-email="{BOUNCED}"]')
    expect(bounced.locator(".badge")).to_have_text("Bounced")
    raw = bounced.locator(".bounce-reason")
    reason = by_email[BOUNCED]["reason"]
    assert reason["summary"]
    # The plain reason and what to do first, SES's diagnostic one click away.
    expect(bounced.locator(".reason-summary")).to_have_text(reason["summary"])
    expect(bounced.locator(".reason-advice")).to_have_text(f"What to do: {reason['advice']}")
    expect(raw).to_be_hidden()
    bounced.get_by_text("Technical details").click()
    expect(raw).to_be_visible()
    expect(raw).to_have_text(f"Bounce reason: {BOUNCE_REASON}")
    # The status legend, with the help article's explanations.
    page.get_by_text("What do the statuses mean?").click()
    legend = page.locator("details.legend dl")
    expect(legend).to_be_visible()
    expect(legend.locator("dd")).to_have_count(11)
    expect(legend).to_contain_text("has been opened by the customer")
    expect(legend).to_contain_text("rejected by the recipient's server")
    dashboard.screenshot("recipients.png")

    # Filter by status: only the bounced ones.
    page.get_by_label("Status").select_option("bounced")
    expect(page.locator("table.recipients-table tbody tr")).to_have_count(message["counts"]["bounced"])
    for badge in page.locator("table.recipients-table .badge").all():
        expect(badge).to_have_text("Bounced")

    # The summary tab: recipients per status.
    page.get_by_role("link", name="Summary").click()
    for status, count in message["counts"].items():
        expect(page.locator(f'.summary-table tr[data-status="{status}"] td.num')).to_have_text(str(count))


def test_a_recipient_opens_its_timeline(dashboard: Dashboard, local_demo: LocalInstance) -> None:
    message = message_by_subject(local_demo, SCHEDULE)
    recipients = local_demo.api("GET", f"/messages/{message['message_id']}/recipients?limit=200")["items"]
    ana = next(r for r in recipients if r["email"] == REPEAT_OPENER)
    events = local_demo.api(
        "GET", f"/messages/{message['message_id']}/recipients/{ana['recipient_id']}/events"
    )

    page = dashboard.open(f"#/messages/{message['message_id']}")
    dashboard.heading(SCHEDULE)
    page.get_by_role("link", name=ana["name"], exact=True).click()
    dashboard.heading(f"Timeline: {ana['name']}")
    items = page.locator(".timeline-item")
    expect(items).to_have_count(len(events["items"]))
    expect(page.locator('.timeline-item[data-kind="open"]')).to_have_count(3)
    expect(page.locator('.timeline-item[data-kind="click"]')).to_have_count(1)
    expect(page.locator(".meta .opens")).to_have_text("3")
    kinds = [item.get_attribute("data-kind") for item in items.all()]
    assert kinds == [event["kind"] for event in events["items"]]
    dashboard.screenshot("timeline.png")


# --- Invoice -> Logs and Customer -> Messages ----------------------------------------------------


def test_invoice_logs_tab(dashboard: Dashboard, local_demo: LocalInstance) -> None:
    logs = local_demo.api("GET", f"/invoices/{INVOICE_ID}/logs")
    assert logs["items"]

    page = dashboard.open("#/messages")
    page.get_by_role("link", name=f"Invoice {INVOICE_ID}", exact=True).click()
    dashboard.heading(f"Invoice {INVOICE_ID}")
    expect(page.locator('.tabs a[aria-current="page"]')).to_have_text("Logs")
    for message in logs["items"]:
        section = page.locator(f'section.log-message[data-message-id="{message["message_id"]}"]')
        expect(section.locator("h2")).to_have_text(message["subject"])
        for recipient in message["recipients"]:
            article = section.locator(f'article[data-recipient-id="{recipient["recipient_id"]}"]')
            expect(article.locator(".badge")).to_have_text(label(recipient["status"]))
            expect(article.locator("tbody tr")).to_have_count(len(recipient["events"]))
    # Invoices are sent untracked: delivered, and the log says opens are not tracked (not "never opened").
    assert {message["tracking"] for message in logs["items"]} == {"off"}
    ana = page.locator("article.log-recipient").filter(has_text="Ana Lima")
    expect(ana.locator(".badge")).to_have_text("Delivered")
    expect(ana.locator(".opens")).to_have_count(0)
    expect(ana.locator('tbody tr[data-kind="delivery"]')).to_have_count(1)
    expect(page.locator("section.log-message .note.not-tracked").first).to_have_text(
        "Opens and clicks not tracked for this email."
    )
    dashboard.screenshot("invoice-logs.png")


def test_an_untracked_invoice_says_not_tracked_instead_of_a_0_percent_open_rate(
    dashboard: Dashboard, local_demo: LocalInstance
) -> None:
    invoice = next(
        m for m in local_demo.api("GET", "/messages?kind=invoice")["items"] if m["invoice_id"] == INVOICE_ID
    )
    assert (invoice["tracking"], invoice["open_rate"], invoice["click_rate"]) == ("off", None, None)
    assert invoice["delivery_rate"] == 1.0

    page = dashboard.open("#/messages")
    row = page.locator(f'tr[data-message-id="{invoice["message_id"]}"]')
    expect(row.locator(".open-rate")).to_contain_text("not tracked")
    expect(row.locator(".open-rate")).not_to_contain_text("0%")
    row.locator("th a").first.click()
    dashboard.heading(invoice["subject"])
    for card in ("Open Rate", "Click rate"):
        expect(page.locator(f'.rate-card[data-rate="{card}"] .not-tracked .rate-value')).to_have_text(
            "not tracked"
        )
    expect(page.locator('.rate-card[data-rate="Delivery Rate"] .rate-value')).to_have_text("100%")


def test_customer_messages_tab_from_the_lookup_form(dashboard: Dashboard, local_demo: LocalInstance) -> None:
    history = local_demo.api("GET", f"/customers/{CUSTOMER_ID}/messages")["items"]
    assert len(history) == 3  # the schedule, the invoice and the holiday hours

    page = dashboard.open("#/lookup")
    dashboard.heading("Find an invoice or a customer")
    customer_form = page.locator("form").filter(has=page.get_by_label("Customer id"))
    # A bad id is explained next to the field, not sent.
    page.get_by_label("Customer id").fill("no/such id")
    customer_form.get_by_role("button", name="Show").click()
    expect(customer_form.locator(".field-error")).to_be_visible()
    expect(page.get_by_label("Customer id")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Customer id")).to_be_focused()

    page.get_by_label("Customer id").fill(CUSTOMER_ID)
    page.get_by_label("Customer id").press("Enter")
    dashboard.heading(f"Customer {CUSTOMER_ID}{REPEAT_OPENER}")
    expect(page.locator("table.customer-table tbody tr")).to_have_count(len(history))
    for item in history:
        row = page.locator(f'tr[data-message-id="{item["message_id"]}"]')
        expect(row.locator(".subject")).to_have_text(item["subject"])
        expect(row.locator(".badge")).to_have_text(label(item["status"]))
        automatic = f"+{item['machine_open_count']} automatic" if item["machine_open_count"] else ""
        if item["tracking"] != "on":
            expect(row.locator(".opens")).to_have_text("not tracked")
            continue
        expect(row.locator(".opens")).to_have_text(
            (str(item["open_count"]) if item["open_count"] else "\u2014") + automatic
        )
    dashboard.screenshot("customer-messages.png")

    # The customer's messages of one kind.
    page.get_by_label("Kind").select_option("invoice")
    expect(page.locator("table.customer-table tbody tr")).to_have_count(
        len([item for item in history if item["kind"] == "invoice"])
    )


# --- Sign-in, errors, escaping, accessibility ----------------------------------------------------


def test_a_bad_token_shows_the_sign_in_state(chromium: Browser, local_demo: LocalInstance) -> None:
    view = Dashboard(chromium, local_demo.base_url, token=forged_token())
    try:
        page = view.open("#/messages")
        view.heading("You are signed out")
        expect(page.locator("main")).to_contain_text("expired or is not valid")
        expect(page.locator("#account")).to_have_text("Signed out")
        again = page.get_by_role("button", name="Sign in again")
        expect(again).to_be_visible()
        view.screenshot("signed-out.png")
        again.click()  # local mode: a fresh token for the demo tenant
        view.heading("Messages")
        expect(page.locator("table.messages-table tbody tr").first).to_be_visible()
    finally:
        view.close()


def test_signing_out_and_in(dashboard: Dashboard) -> None:
    page = dashboard.open("#/messages")
    dashboard.heading("Messages")
    page.get_by_role("button", name="Sign out").click()
    dashboard.heading("You are signed out")
    page.reload()  # no automatic sign-in after signing out in this tab
    dashboard.heading("You are signed out")
    page.get_by_role("button", name="Sign in", exact=True).click()
    dashboard.heading("Messages")


def test_not_found(dashboard: Dashboard) -> None:
    page = dashboard.open("#/messages/m-no-such-message")
    dashboard.heading("Message not found")
    expect(page.get_by_role("link", name="Go to Messages")).to_be_visible()
    dashboard.open("#/invoices/INV-0000")
    dashboard.heading("Invoice not found")
    dashboard.open("#/customers/cust-nobody")
    dashboard.heading("Customer not found")
    dashboard.open("#/no/such/page")
    dashboard.heading("Page not found")


def test_data_is_shown_as_text_never_as_markup(chromium: Browser, local_demo: LocalInstance) -> None:
    tenant = "dashboard-escaping"
    subject = "<img src=x onerror=\"document.title='pwned'\"> & <b>bold</b>"
    name = "<script>window.pwned = 1</script>"
    sent = local_demo.api(
        "POST",
        "/messages",
        tenant=tenant,
        json={
            "kind": "email",
            "subject": subject,
            "text": "hello",
            "recipients": [{"customer_id": "c-escape", "email": "person@example.com", "name": name}],
        },
    )
    view = Dashboard(chromium, local_demo.base_url, token=local_demo.token(tenant))
    try:
        page = view.open("#/messages")
        view.heading("Messages")
        expect(page.locator(f'tr[data-message-id="{sent["message_id"]}"] th a')).to_have_text(subject)
        expect(page.locator("main img, main b, main script")).to_have_count(0)
        page.get_by_role("link", name=subject).click()
        view.heading(subject)
        expect(page.locator("table.recipients-table tbody th a")).to_have_text(name)
        expect(page.locator("main img, main b, main script")).to_have_count(0)
        assert page.title() != "pwned"  # the subject is in the title as text; its handler never ran
        assert page.evaluate("() => window.pwned") is None
    finally:
        view.close()


def test_keyboard_navigation(dashboard: Dashboard) -> None:
    page = dashboard.open("#/messages")
    dashboard.heading("Messages")
    page.keyboard.press("Tab")  # the first stop on a fresh page
    expect(page.locator(":focus")).to_have_text("Skip to content")
    page.get_by_role("link", name=SCHEDULE, exact=True).focus()
    page.keyboard.press("Enter")
    dashboard.heading(SCHEDULE)
    expect(page.locator("h1")).to_be_focused()  # the new page's heading takes the focus
    page.get_by_role("link", name="Summary").focus()
    page.keyboard.press("Enter")
    expect(page.locator('.tabs a[aria-current="page"]')).to_have_text("Summary")


# Contrast of every text element against its nearest opaque background (WCAG 2 relative luminance).
CONTRAST_SCRIPT = """
() => {
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const c = parse(getComputedStyle(node).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const results = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let text = walker.nextNode(); text; text = walker.nextNode()) {
    const el = text.parentElement;
    if (!text.textContent.trim() || !el || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || el.closest('.visually-hidden, [hidden], button:disabled')) continue;
    const fg = lum(parse(style.color));
    const bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    results.push([text.textContent.trim().slice(0, 40), Math.round(ratio * 100) / 100]);
  }
  return results;
}
"""


@pytest.mark.parametrize(
    "route", ["#/messages", "recipients", f"#/invoices/{INVOICE_ID}", "#/statuses", "#/lookup", "#/attention"]
)
def test_text_contrast_is_at_least_4_5_to_1(
    dashboard: Dashboard, local_demo: LocalInstance, route: str
) -> None:
    if route == "recipients":
        route = f"#/messages/{message_by_subject(local_demo, SCHEDULE)['message_id']}"
    page = dashboard.open(route)
    expect(page.locator("main")).not_to_have_attribute("aria-busy", "true")
    expect(page.locator("h1")).to_be_visible()
    for details in page.locator("details").all():
        details.evaluate("(el) => { el.open = true; }")
    measured = page.evaluate(CONTRAST_SCRIPT)
    assert measured
    low = [(text, ratio) for text, ratio in measured if ratio < 4.5]
    assert low == []


def test_tables_have_captions_and_header_cells(dashboard: Dashboard, local_demo: LocalInstance) -> None:
    message = message_by_subject(local_demo, SCHEDULE)
    for route in ("#/messages", f"#/messages/{message['message_id']}", f"#/customers/{CUSTOMER_ID}"):
        page = dashboard.open(route)
        expect(page.locator("main")).not_to_have_attribute("aria-busy", "true")
        expect(page.locator("main table").first).to_be_visible()
        for table in page.locator("main table").all():
            expect(table.locator("caption")).not_to_be_empty()
            assert table.locator("thead th[scope=col]").count() >= 3
            assert table.locator("tbody tr").count() == table.locator("tbody th[scope=row]").count()
        for select in page.locator("main select").all():
            select_id = select.get_attribute("id")
            assert page.locator(f'label[for="{select_id}"]').count() == 1


# --- Deployed mode: Cognito hosted UI sign-in (authorization code + PKCE), against fakes -----------------

AUTH_DOMAIN = "https://signin.auth.test"
API_URL = "https://api.execute.test/v1/"
CLIENT_ID = "client123"
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "Authorization, Content-Type"}


def test_deployed_mode_signs_in_through_cognito_with_pkce(
    chromium: Browser, local_demo: LocalInstance
) -> None:
    """The app as deployed (infra/web.py's config.js), with the hosted UI, token endpoint and API faked
    by request interception: nothing leaves the machine."""
    import hashlib
    from urllib.parse import parse_qs, urlsplit

    base = local_demo.base_url
    config = {
        "mode": "cognito",
        "apiUrl": API_URL,
        "region": "eu-west-1",
        "userPoolId": "eu-west-1_AbC123",
        "clientId": CLIENT_ID,
        "authDomain": AUTH_DOMAIN,
        "scopes": ["openid", "email", "profile"],
    }
    id_token = forged_token("acme")
    seen: dict[str, Any] = {"api_auth": []}
    message = {
        "message_id": "m-1",
        "kind": "email",
        "subject": "Signed in through Cognito",
        "sent_at": "2026-11-01T09:00:00Z",
        "invoice_id": None,
        "payment_id": None,
        "recipients": 1,
        "counts": dict.fromkeys(
            (
                "queued",
                "sent",
                "delayed",
                "opened",
                "clicked",
                "bounced",
                "dropped",
                "complaint",
                "rejected",
                "failed",
            ),
            0,
        )
        | {"delivered": 1},
        "pending": 0,
        "delivery_rate": 1.0,
        "open_rate": 0.0,
        "click_rate": 0.0,
        "bounce_rate": 0.0,
        "complaint_rate": 0.0,
    }

    def authorize(route: Any) -> None:
        query = {k: v[0] for k, v in parse_qs(urlsplit(route.request.url).query).items()}
        seen["authorize"] = query
        route.fulfill(
            status=302, headers={"Location": f"{query['redirect_uri']}?code=the-code&state={query['state']}"}
        )

    def token(route: Any) -> None:
        form = {k: v[0] for k, v in parse_qs(route.request.post_data or "").items()}
        seen["token"] = form
        route.fulfill(status=200, headers=CORS, content_type="application/json", json={"id_token": id_token})

    def api(route: Any) -> None:
        if route.request.method == "OPTIONS":
            route.fulfill(status=204, headers=CORS)
            return
        seen["api_auth"].append(route.request.headers.get("authorization"))
        route.fulfill(
            status=200,
            headers=CORS,
            content_type="application/json",
            json={"items": [message], "next_cursor": None},
        )

    view = Dashboard(chromium, base)
    try:
        view.context.route(
            f"{base}/config.js",
            lambda route: route.fulfill(
                status=200, content_type="text/javascript", body=f"export default {json.dumps(config)};"
            ),
        )
        view.context.route(f"{AUTH_DOMAIN}/oauth2/authorize*", authorize)
        view.context.route(f"{AUTH_DOMAIN}/oauth2/token", token)
        view.context.route(f"{API_URL}**", api)

        page = view.open("#/messages")
        view.heading("You are signed out")  # no automatic sign-in outside local mode
        page.get_by_role("button", name="Sign in", exact=True).click()
        view.heading("Messages")
        expect(page.locator("table.messages-table tbody tr")).to_have_count(1)
        expect(page.locator("#account")).to_contain_text("Account: acme")

        authorize_query = seen["authorize"]
        assert authorize_query["response_type"] == "code"
        assert authorize_query["client_id"] == CLIENT_ID
        assert authorize_query["redirect_uri"] == f"{base}/"
        assert authorize_query["scope"] == "openid email profile"
        assert authorize_query["code_challenge_method"] == "S256"
        form = seen["token"]
        assert form["grant_type"] == "authorization_code"
        assert form["code"] == "the-code"
        assert form["redirect_uri"] == f"{base}/"
        digest = hashlib.sha256(form["code_verifier"].encode()).digest()
        assert base64.urlsafe_b64encode(digest).decode().rstrip("=") == authorize_query["code_challenge"]
        # The ID token itself in Authorization (API Gateway's Cognito authorizer), and no code left in the URL.
        assert seen["api_auth"]
        assert set(seen["api_auth"]) == {id_token}
        assert "code=" not in page.url
        assert page.url.endswith("/#/messages")
    finally:
        view.close()
