"""The Overview page (web/views/overview.js) against local mode with the demo data: the chart's
points, the totals and the health panel show exactly what GET /stats and GET /stats/health answer
for the demo tenant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LocalInstance, wait_until
from tests.e2e.dashboard import Dashboard

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

# web/views/overview.js SERIES: what each drawn line is, from the API's counts.
SERIES = {
    "sent": lambda c: c["sent"],
    "delivered": lambda c: c["delivered"],
    "opened": lambda c: c["opened"],
    "clicked": lambda c: c["clicked"],
    "bounced": lambda c: c["bounced_hard"] + c["bounced_soft"],
    "complaint": lambda c: c["complaint"],
}
STATE_TEXT = {"ok": "Healthy", "warning": "Warning", "at_risk": "At risk"}


def last_30_days() -> str:
    """The window the page asks for by default (today and the 29 days before, UTC)."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return (today - timedelta(days=29)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def stats(local_demo: LocalInstance) -> dict[str, Any]:
    answer: dict[str, Any] = local_demo.api("GET", f"/stats?granularity=day&from={quote(last_30_days())}")
    return answer


def test_the_overview_chart_and_health_panel_show_the_apis_numbers(
    dashboard: Dashboard, local_demo: LocalInstance
) -> None:
    # The demo data produces visible statistics once the projector has caught up with it.
    report = wait_until(
        lambda: (
            (answer := stats(local_demo))["totals"]["sent"] > 0
            and answer["totals"]["delivered"] > 0
            and answer
        ),
        30,
        "the demo's sends in the statistics",
    )
    health = local_demo.api("GET", "/stats/health")
    assert health["state"] in STATE_TEXT

    page = dashboard.open("#/overview")
    dashboard.heading("Overview")
    # The page read the same window: if the projector moved on meanwhile, compare with a new answer.
    report = stats(local_demo)

    chart = page.locator("#overview-chart")
    expect(chart).to_be_visible()
    for series, value in SERIES.items():
        points = chart.locator(f'[data-series="{series}"] circle')
        expect(points).to_have_count(len(report["series"]))
        drawn = points.evaluate_all(
            "(nodes) => nodes.map((n) => [n.dataset.start ?? n.getAttribute('data-start'), Number(n.getAttribute('data-value'))])"
        )
        assert drawn == [[point["start"], value(point["counts"])] for point in report["series"]], series
    assert any(
        value > 0
        for _, value in chart.locator('[data-series="sent"] circle').evaluate_all(
            "(nodes) => nodes.map((n) => [0, Number(n.getAttribute('data-value'))])"
        )
    ), "the chart shows the demo's sends"

    totals = page.locator("#overview-totals")
    expect(totals.locator('[data-total="sent"] .total-value')).to_have_text(str(report["totals"]["sent"]))
    expect(totals.locator('[data-total="delivered"] .total-value')).to_have_text(
        str(report["totals"]["delivered"])
    )
    bounced = report["totals"]["bounced_hard"] + report["totals"]["bounced_soft"]
    expect(totals.locator('[data-total="bounced"] .total-value')).to_have_text(str(bounced))

    # The numbers table holds the same figures as the chart, for the days with any.
    page.get_by_text("The numbers").click()
    busy = [p for p in report["series"] if any(v(p["counts"]) for v in SERIES.values())]
    rows = page.locator("#overview-numbers tbody tr")
    expect(rows).to_have_count(len(busy))
    for point, row in zip(busy, rows.all(), strict=True):
        assert row.get_attribute("data-start") == point["start"]
        expect(row.locator('[data-series="sent"]')).to_have_text(str(point["counts"]["sent"]))

    panel = page.locator("#health-panel")
    expect(panel).to_have_attribute("data-state", health["state"])
    expect(panel.locator("#health-state")).to_have_text(STATE_TEXT[health["state"]])
    for window in health["windows"]:
        section = panel.locator(f'.health-window[data-days="{window["days"]}"]')
        expect(section).to_have_attribute("data-state", window["state"])
        # The thresholds are drawn on each window's two scales.
        expect(section.locator(".gauge-mark")).to_have_count(5)
    dashboard.screenshot("overview.png")


def test_the_hourly_view_and_kind_filter_ask_the_api_for_them(
    dashboard: Dashboard, local_demo: LocalInstance
) -> None:
    page = dashboard.open("#/overview?range=72h&kind=invoice")
    dashboard.heading("Overview")
    report = local_demo.api("GET", "/stats?granularity=hour&kind=invoice")
    points = page.locator('#overview-chart [data-series="sent"] circle')
    expect(points).to_have_count(len(report["series"]))
    expect(page.locator('#overview-totals [data-total="sent"] .total-value')).to_have_text(
        str(report["totals"]["sent"])
    )
    expect(page.get_by_label("Kind", exact=True)).to_have_value("invoice")
