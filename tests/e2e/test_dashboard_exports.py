"""Export buttons (web/views/exports.js) against local mode: the message's Recipients tab exports
its recipients and the invoice's Logs tab its events, each with progress, and the browser downloads
a CSV from the presigned URL (the emulator's S3) holding what the API answers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LocalInstance
from tests.e2e.dashboard import Dashboard, message_by_subject

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

SCHEDULE = "December class schedule"
INVOICE_ID = "INV-1001"
EXPORT_TIMEOUT_MS = 30_000


def test_an_export_downloads_a_csv_of_the_recipients_the_api_lists(
    dashboard: Dashboard, local_demo: LocalInstance, tmp_path: Path
) -> None:
    message = message_by_subject(local_demo, SCHEDULE)
    recipients = local_demo.api("GET", f"/messages/{message['message_id']}/recipients?limit=200")["items"]
    page = dashboard.open(f"#/messages/{message['message_id']}")
    dashboard.heading(SCHEDULE)
    with page.expect_download(timeout=EXPORT_TIMEOUT_MS) as download_info:
        page.get_by_role("button", name="Export recipients (CSV)").click()
    download = download_info.value
    assert download.suggested_filename == f"{message['message_id']}-recipients.csv"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"), newline="")))
    assert {row["recipient_id"]: row["status"] for row in rows} == {
        r["recipient_id"]: r["status"] for r in recipients
    }
    assert {row["email"] for row in rows} == {r["email"] for r in recipients}
    widget = page.locator('.export[data-export-kind="message_recipients"]')
    expect(widget.locator(".export-status")).to_have_text(f"Export ready: {len(recipients)} rows.")
    expect(widget.locator("progress")).to_have_attribute("value", "100")
    expect(widget.locator(".export-link")).to_have_attribute("download", download.suggested_filename)


def test_an_invoice_logs_export_downloads_every_event(
    dashboard: Dashboard, local_demo: LocalInstance, tmp_path: Path
) -> None:
    logs = local_demo.api("GET", f"/invoices/{INVOICE_ID}/logs?limit=200")["items"]
    events = sum(max(1, len(r["events"])) for group in logs for r in group["recipients"])
    page = dashboard.open(f"#/invoices/{INVOICE_ID}")
    with page.expect_download(timeout=EXPORT_TIMEOUT_MS) as download_info:
        page.get_by_role("button", name="Export logs (CSV): proof of delivery").click()
    saved = tmp_path / "logs.csv"
    download_info.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"), newline="")))
    assert len(rows) == events
    assert {row["message_id"] for row in rows} == {group["message_id"] for group in logs}


def test_the_links_and_providers_tabs_show_the_apis_numbers(
    dashboard: Dashboard, local_demo: LocalInstance
) -> None:
    message = message_by_subject(local_demo, SCHEDULE)
    message_id = message["message_id"]
    links = local_demo.api("GET", f"/messages/{message_id}/links")["items"]
    providers = local_demo.api("GET", f"/messages/{message_id}/providers")["items"]
    assert links, "the demo's schedule has a clicked link"
    assert sum(p["recipients"] for p in providers) == message["recipients"]

    page = dashboard.open(f"#/messages/{message_id}")
    page.locator(".tabs").get_by_role("link", name="Links").click()
    expect(page.locator('.tabs a[aria-current="page"]')).to_have_text("Links")
    expect(page.locator("table.links-table tbody tr")).to_have_count(len(links))
    for link in links:
        row = page.locator(f'tr[data-link-id="{link["link_id"]}"]')
        expect(row.locator(".customers")).to_have_text(str(link["customers"]))
        expect(row.locator(".clicks")).to_have_text(str(link["clicks"]))
        expect(row.locator(".automatic")).to_have_text(str(link["automatic_clicks"]))
        if link["url"]:
            expect(row.locator(".url")).to_have_text(link["url"])
        pairs = [f"{name}: {value}" for name, values in link["tags"].items() for value in values]
        expect(row.locator(".tags")).to_have_text(", ".join(pairs) or "\u2014")
    # The schedule's anchor carries ses:tags: SES reports them on its clicks.
    assert any(link["tags"] == {"campaign": ["december"], "placement": ["body"]} for link in links)

    page.locator(".tabs").get_by_role("link", name="Providers").click()
    expect(page.locator('.tabs a[aria-current="page"]')).to_have_text("Providers")
    expect(page.locator("table.providers-table tbody tr")).to_have_count(len(providers))
    for provider in providers:
        row = page.locator(f'tr[data-provider="{provider["provider"]}"]')
        for field in ("recipients", "delivered", "opened", "bounced"):
            expect(row.locator(f".{field}")).to_have_text(str(provider[field]))
