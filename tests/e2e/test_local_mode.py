"""End to end: `python -m local` as a subprocess, driven over HTTP like a person or the frontend would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from local.emulator import free_port
from local.ses_simulator import ses_time
from tests.e2e.ses_events import ses_event

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

ROOT = Path(__file__).resolve().parents[2]
SIM = "simulator.amazonses.com"


class LocalMode:
    def __init__(self, base_url: str, process: subprocess.Popen[str]) -> None:
        self.base_url = base_url
        self.process = process
        self.token: str | None = None

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return requests.request(method, f"{self.base_url}{path}", headers=headers, timeout=30, **kwargs)

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.call(method, path, **kwargs)
        assert response.status_code < 300, (method, path, response.status_code, response.text)
        return response.json()

    def wait_for(self, check: Any, timeout: float = 45.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            assert time.monotonic() < deadline, "local mode did not reach the expected state in time"
            time.sleep(0.3)


@pytest.fixture(scope="module")
def local_mode() -> Iterator[LocalMode]:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "DEMO": "0", "PYTHONUNBUFFERED": "1"}
    for name in ("AWS_ENDPOINT_URL", "TABLE_NAME", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "local"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    mode = LocalMode(f"http://127.0.0.1:{port}", process)
    try:
        mode.wait_for(lambda: _healthy(mode), timeout=60)
        yield mode
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
    output = process.stdout.read() if process.stdout else ""
    assert process.returncode == 0, output
    # What `make run` prints is for a person: no library warnings in it.
    assert "Warning:" not in output, output


def _healthy(mode: LocalMode) -> bool:
    assert mode.process.poll() is None, mode.process.stdout.read() if mode.process.stdout else "exited"
    try:
        return requests.get(f"{mode.base_url}/health", timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def _recipients_by_email(mode: LocalMode, message_id: str) -> dict[str, dict[str, Any]]:
    page = mode.ok("GET", f"/messages/{message_id}/recipients?limit=200")
    return {item["email"]: item for item in page["items"]}


def _settled(mode: LocalMode, message_id: str) -> dict[str, Any] | None:
    """The detail once no recipient is pending and the projector has counted every recipient as it
    is now (a message's counts start at zero and trail its recipients by a projector batch)."""
    detail: dict[str, Any] = mode.ok("GET", f"/messages/{message_id}")
    statuses = Counter(r["status"] for r in _recipients_by_email(mode, message_id).values())
    counted = all(detail["counts"].get(status, 0) == n for status, n in statuses.items())
    projected = counted and detail["recipients"] == sum(statuses.values())
    return detail if projected and detail["pending"] == 0 else None


def _engagement(
    mode: LocalMode, message_id: str, recipient: dict[str, Any], kind: str, body: dict[str, Any]
) -> None:
    response = mode.call(
        "POST", "/local/ses-events", json=ses_event("e2e", message_id, recipient, kind, body)
    )
    assert response.status_code == 202, response.text


def test_requests_without_a_valid_token_are_401(local_mode: LocalMode) -> None:
    assert requests.get(f"{local_mode.base_url}/messages", timeout=5).status_code == 401
    forged = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"}
    response = requests.get(f"{local_mode.base_url}/messages", headers=forged, timeout=5)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    bad_tenant = requests.post(f"{local_mode.base_url}/local/token", json={"tenant_id": "a#b"}, timeout=5)
    assert bad_tenant.status_code == 400


def test_simulator_addresses_suppression_and_engagement_end_to_end(local_mode: LocalMode) -> None:
    mode = local_mode
    mode.token = mode.ok("POST", "/local/token", json={"tenant_id": "e2e"})["token"]

    # An earlier complaint suppresses this address for the tenant.
    earlier = mode.ok(
        "POST",
        "/messages",
        json={
            "kind": "email",
            "subject": "Welcome",
            "text": "Hello",
            "recipients": [{"customer_id": "c-old", "email": f"complaint+earlier@{SIM}"}],
        },
    )
    mode.wait_for(
        lambda: (
            _recipients_by_email(mode, earlier["message_id"])[f"complaint+earlier@{SIM}"]["status"]
            == "complaint"
        )
    )
    # The suppression is written just after the recipient's status, in the same ingest batch.
    mode.wait_for(lambda: mode.call("GET", f"/suppressions/complaint%2Bearlier@{SIM}").status_code == 200)

    addresses = [
        f"success@{SIM}",
        f"bounce@{SIM}",
        f"ooto@{SIM}",
        f"complaint@{SIM}",
        f"suppressionlist@{SIM}",
        f"complaint+earlier@{SIM}",
    ]
    sent = mode.ok(
        "POST",
        "/messages",
        json={
            "kind": "email",
            "subject": "December schedule",
            "text": "See you in class",
            # An HTML part: SES's open pixel goes there (a text-only email's opens are not tracked).
            "html": "<p>See you in <a href='https://example.com'>class</a></p>",
            "recipients": [{"customer_id": f"c-{i}", "email": email} for i, email in enumerate(addresses)],
        },
    )
    assert {r["email"]: r["status"] for r in sent["recipients"]}[f"complaint+earlier@{SIM}"] == "dropped"
    message_id = sent["message_id"]
    detail = mode.wait_for(lambda: _settled(mode, message_id))

    # Each address's events arrive on their own (a complaint after its delivery, a transient bounce
    # after its delivery): wait for the last of them.
    recipients = mode.wait_for(
        lambda: (
            (r := _recipients_by_email(mode, message_id))[f"ooto@{SIM}"]["status"] == "bounced"
            and r[f"complaint@{SIM}"]["status"] == "complaint"
            and r
        )
    )
    assert recipients[f"success@{SIM}"]["status"] == "delivered"
    assert recipients[f"bounce@{SIM}"]["status"] == "bounced"
    assert recipients[f"bounce@{SIM}"]["bounce"]["reason"] == "smtp; 550 5.1.1 user unknown"
    assert recipients[f"complaint@{SIM}"]["status"] == "complaint"
    assert recipients[f"suppressionlist@{SIM}"]["status"] == "bounced"
    assert recipients[f"complaint+earlier@{SIM}"]["status"] == "dropped"
    assert recipients[f"complaint+earlier@{SIM}"]["dropped_reason"]

    detail = mode.wait_for(lambda: _settled(mode, message_id))
    assert detail["recipients"] == 6
    assert detail["counts"]["delivered"] == 1
    assert detail["counts"]["bounced"] == 3
    assert detail["counts"]["complaint"] == 1
    assert detail["counts"]["dropped"] == 1
    assert detail["delivery_rate"] == pytest.approx(2 / 6)
    assert detail["open_rate"] == 0

    delivered = recipients[f"success@{SIM}"]
    # The customer opens and clicks a minute after delivery, in a browser: sooner, or from an
    # unknown client, it would count as a machine's (docs/engagement.md).
    now = datetime.now(UTC) + timedelta(minutes=1)
    browser = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36"
    )
    _engagement(
        mode,
        message_id,
        delivered,
        "Open",
        {"ipAddress": "192.0.2.5", "timestamp": ses_time(now), "userAgent": browser},
    )
    _engagement(
        mode,
        message_id,
        delivered,
        "Click",
        {
            "ipAddress": "192.0.2.5",
            "timestamp": ses_time(now + timedelta(seconds=30)),
            "userAgent": browser,
            "link": "https://example.com",
            "linkTags": {},
        },
    )
    clicked = mode.wait_for(
        lambda: (r := _recipients_by_email(mode, message_id)[f"success@{SIM}"])["status"] == "clicked" and r
    )
    assert clicked["open_count"] == 1
    assert clicked["click_count"] == 1
    detail = mode.wait_for(lambda: _settled(mode, message_id))
    assert detail["open_rate"] == pytest.approx(1 / 2)
    listed = {m["message_id"]: m for m in mode.ok("GET", "/messages")["items"]}
    assert listed[message_id]["open_rate"] == pytest.approx(1 / 2)


def test_a_bounced_invoice_is_resent_to_a_corrected_address_and_leaves_the_queue(
    local_mode: LocalMode,
) -> None:
    """The attention queue through the real pipeline: the simulator bounces, the stream projector
    queues the invoice, a resend delivers and the old one leaves the queue."""
    mode = local_mode
    mode.token = mode.ok("POST", "/local/token", json={"tenant_id": "e2e-attention"})["token"]
    invoice = mode.ok(
        "POST",
        "/messages",
        json={
            "kind": "invoice",
            "subject": "Invoice INV-77",
            "text": "Your invoice INV-77 is due.",
            "invoice_id": "INV-77",
            "recipients": [{"customer_id": "c-77", "email": f"bounce+old@{SIM}", "name": "Old"}],
        },
    )
    queued = mode.wait_for(lambda: mode.ok("GET", "/attention")["items"])
    assert [item["message_id"] for item in queued] == [invoice["message_id"]]
    [recipient] = queued[0]["recipients"]
    assert recipient["reason"]["code"] == "mailbox_does_not_exist"
    assert mode.ok("GET", "/attention/count") == {"count": 1}

    url = f"/messages/{invoice['message_id']}/recipients/{recipient['recipient_id']}/resend"
    headers = {"Idempotency-Key": "e2e-resend-1"}
    resent = mode.ok("POST", url, json={"email": f"success+new@{SIM}"}, headers=headers)
    assert resent["resent_from"]["message_id"] == invoice["message_id"]
    assert mode.ok("POST", url, json={"email": f"success+new@{SIM}"}, headers=headers) == resent
    mode.wait_for(lambda: _settled(mode, resent["message_id"]))
    mode.wait_for(lambda: mode.ok("GET", "/attention/count") == {"count": 0})
    logs = mode.ok("GET", "/invoices/INV-77/logs")["items"]
    assert [group["message_id"] for group in logs] == [invoice["message_id"], resent["message_id"]]
    assert [r["status"] for group in logs for r in group["recipients"]] == ["bounced", "delivered"]
