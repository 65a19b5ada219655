"""The dashboard in a browser for the tests: one context per Dashboard, the page's errors collected,
screenshots saved into a temporary folder during `make test`, into docs/screenshots/ (the README
links them) with `make screenshots`, or wherever SCREENSHOT_DIR says."""

from __future__ import annotations

import base64
import json
import os
import tempfile
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import LocalInstance

SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR") or tempfile.mkdtemp(prefix="dashboard-screenshots-"))
TOKEN_KEY = "tracker.token"  # web/auth.js


def percent(rate: float | None) -> str:
    """What web/format.js shows for a rate: at most one decimal, half up; an em dash for null."""
    if rate is None:
        return "\u2014"
    value = Decimal(rate * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{value}".removesuffix(".0") + "%"


# What the dashboard shows in place of a rate a message's tracking never measured (web/views/common.js).
NOT_TRACKED = {"off": "not tracked", "clicks_only": "opens not tracked"}


def label(status: str) -> str:
    return status.capitalize()


class Dashboard:
    """One browser context (its own sessionStorage) on the dashboard."""

    def __init__(self, browser: Browser, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url
        self.context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="en-US", timezone_id="UTC", color_scheme="light"
        )
        if token is not None:
            self.context.add_init_script(f"window.sessionStorage.setItem({TOKEN_KEY!r}, {json.dumps(token)})")
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def open(self, route: str, *, refresh_seconds: float | None = None) -> Page:
        """refresh_seconds: the live updates' interval (web/live.js reads `?refresh=` in the page address)."""
        search = "" if refresh_seconds is None else f"?refresh={refresh_seconds}"
        self.page.goto(f"{self.base_url}/{search}{route}")
        # web/app.js marks the address it finished rendering (a view, an error or the sign-in state).
        expect(self.page.locator("html")).to_have_attribute("data-rendered", route)
        return self.page

    def heading(self, text: str) -> None:
        expect(self.page.locator("h1")).to_have_text(text)
        expect(self.page.locator("main")).not_to_have_attribute("aria-busy", "true")

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.mouse.move(0, 0)  # no hover highlight in the picture
        self.page.screenshot(path=str(SCREENSHOTS / name), full_page=True)

    def close(self) -> None:
        self.context.close()
        assert self.errors == [], f"uncaught errors in the page: {self.errors}"


def message_by_subject(local_demo: LocalInstance, subject: str) -> dict[str, Any]:
    items = local_demo.api("GET", "/messages?limit=200")["items"]
    return next(m for m in items if m["subject"] == subject)


def forged_token(tenant: str = "demo") -> str:
    """A well-formed token that local mode did not sign (and that has not expired)."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    now = int(time.time())
    claims = {
        "iss": "delivery-tracker-local",
        "sub": "x",
        "custom:tenant_id": tenant,
        "iat": now,
        "exp": now + 3600,
    }
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"
