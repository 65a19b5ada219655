"""Demo data, produced through the real paths: the send API and SES events through the topic.

Run against a running local mode with `make demo` (or it runs on the first `make run`).
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from local.client import LocalClient
from local.ses_simulator import APPLE_MPP, GMAIL_PROXY, SAFE_LINKS, SIMULATED_LINK, fetch_body, mail_object
from tracker import constants

DEMO_TENANT = "demo"
SIM = "simulator.amazonses.com"
CUSTOMERS = {
    "ana": ("cust-ana", "Ana Lima", f"success+ana@{SIM}"),
    "ben": ("cust-ben", "Ben Okafor", f"bounce@{SIM}"),
    "cleo": ("cust-cleo", "Cleo Park", f"complaint@{SIM}"),
    "dev": ("cust-dev", "Dev Patel", f"success+dev@{SIM}"),
    "eli": ("cust-eli", "Eli Novak", f"ooto@{SIM}"),
    "fay": ("cust-fay", "Fay Moreau", "fay.moreau@example.com"),
    # Undelivered documents for the "Needs attention" page: each bounces once (two permanent
    # bounces would suppress the address, and a resend to it would need a lift first).
    "gus": ("cust-gus", "Gus Ferreira", f"bounce+gus@{SIM}"),
    "hana": ("cust-hana", "Hana Sato", f"bounce+hana@{SIM}"),
}


def _recipients(*names: str) -> list[dict[str, str]]:
    return [
        {"customer_id": CUSTOMERS[n][0], "name": CUSTOMERS[n][1], "email": CUSTOMERS[n][2]} for n in names
    ]


def _send(client: LocalClient, body: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = client.ok("POST", "/messages", body)
    return result


def _projected(client: LocalClient, message_id: str) -> dict[str, Any] | None:
    """The message's detail once its counts are those of its recipients (the projector trails the
    recipients' writes by a batch), else None."""
    detail: dict[str, Any] = client.ok("GET", f"/messages/{message_id}")
    page = client.ok("GET", f"/messages/{message_id}/recipients?limit=200")
    statuses = Counter(item["status"] for item in page["items"])
    counted = all(detail["counts"].get(status, 0) == n for status, n in statuses.items())
    return detail if counted and detail["recipients"] == len(page["items"]) else None


def _settled(client: LocalClient, message_id: str, expected_pending: int = 0) -> dict[str, Any] | None:
    detail = _projected(client, message_id)
    return detail if detail is not None and detail["pending"] <= expected_pending else None


def _recipient(client: LocalClient, message_id: str, email: str) -> dict[str, Any]:
    page = client.ok("GET", f"/messages/{message_id}/recipients?limit=200")
    return next(item for item in page["items"] if item["email"] == email)


def engagement(
    client: LocalClient, message_id: str, email: str, kind: str, at: datetime, **extra: Any
) -> None:
    """Post an Open or Click exactly as SES publishes it, for one of our recipients."""
    recipient = _recipient(client, message_id, email)
    tags = {
        constants.TAG_TENANT: DEMO_TENANT,
        constants.TAG_MESSAGE: message_id,
        constants.TAG_RECIPIENT: recipient["recipient_id"],
    }
    mail = mail_object(
        recipient["ses_message_id"], "noreply@example.com", email, "demo", tags, at - timedelta(hours=1)
    )
    fetcher = {
        "ip": extra.get("ip", "198.51.100.23"),
        "user_agent": extra.get("user_agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5)"),
    }
    body = fetch_body(at, fetcher, extra.get("link", SIMULATED_LINK) if kind == "Click" else None)
    client.ok("POST", "/local/ses-events", {"eventType": kind, "mail": mail, kind.lower(): body})


def automatic_engagement(client: LocalClient, message_id: str, machine_only: str, through_proxy: str) -> None:
    """The everyday mix of a message: one customer's Apple Mail opened it at arrival and their
    company's scanner clicked its link seconds later (nobody read it); another opened it in Gmail."""
    delivered = _delivered_at(client, message_id, machine_only)
    engagement(client, message_id, machine_only, "Open", delivered + timedelta(seconds=1), **APPLE_MPP)
    engagement(client, message_id, machine_only, "Click", delivered + timedelta(seconds=3), **SAFE_LINKS)
    proxied = _delivered_at(client, message_id, through_proxy)
    engagement(client, message_id, through_proxy, "Open", proxied + timedelta(minutes=20), **GMAIL_PROXY)


def _delivered_at(client: LocalClient, message_id: str, email: str) -> datetime:
    return datetime.fromisoformat(
        _recipient(client, message_id, email)["delivered_at"].replace("Z", "+00:00")
    )


def seed(base_url: str) -> dict[str, Any]:
    client = LocalClient(base_url)
    client.sign_in(DEMO_TENANT)
    now = datetime.now(UTC)

    schedule = _send(
        client,
        {
            "kind": "email",
            "subject": "December class schedule",
            "text": "Hi! The December schedule is attached. See you in class.",
            "html": "<p>Hi! The <a href='https://example.com/schedule' ses:tags='campaign:december;placement:body'>December schedule</a> is out.</p>",
            "recipients": _recipients("ana", "ben", "cleo", "dev", "eli", "fay"),
        },
    )
    invoice = _send(
        client,
        {
            "kind": "invoice",
            "subject": "Invoice INV-1001 for December classes",
            "text": "Your invoice INV-1001 of $120.00 is due on December 15.",
            "invoice_id": "INV-1001",
            "recipients": _recipients("ana"),
        },
    )
    receipt = _send(
        client,
        {
            "kind": "receipt",
            "subject": "Payment receipt PAY-2001",
            "text": "We received your payment of $80.00. Thank you!",
            "html": "<p>We received your payment of <strong>$80.00</strong>. Thank you!</p>",
            "payment_id": "PAY-2001",
            "recipients": _recipients("dev"),
        },
    )
    # Fay's address is not a simulator address: locally it only gets a Send event and stays Sent.
    client.wait_until(lambda: _settled(client, schedule["message_id"], expected_pending=1), timeout=60)
    client.wait_until(lambda: _settled(client, invoice["message_id"]), timeout=60)
    client.wait_until(lambda: _settled(client, receipt["message_id"]), timeout=60)

    ana, dev = CUSTOMERS["ana"][2], CUSTOMERS["dev"][2]
    for hours in (1, 5, 26):  # Ana opens the schedule three times and clicks the link
        engagement(client, schedule["message_id"], ana, "Open", now + timedelta(hours=hours))
    engagement(client, schedule["message_id"], ana, "Click", now + timedelta(hours=1, minutes=2))
    engagement(client, schedule["message_id"], dev, "Open", now + timedelta(hours=3))
    # Invoices are sent untracked (no pixel, no rewritten links): SES reports no open of Ana's.
    engagement(client, receipt["message_id"], dev, "Open", now + timedelta(minutes=40))

    # Cleo complained, so her address is now suppressed: the next message drops her.
    holiday = _send(
        client,
        {
            "kind": "email",
            "subject": "Holiday opening hours",
            "text": "The studio is closed from December 24 to January 1.",
            "html": "<p>The studio is closed from December 24 to January 1. "
            "<a href='https://example.com/hours'>Opening hours</a></p>",
            "recipients": _recipients("ana", "cleo", "dev"),
        },
    )
    client.wait_until(lambda: _settled(client, holiday["message_id"]), timeout=60)
    automatic_engagement(client, holiday["message_id"], ana, dev)
    client.wait_until(
        lambda: (
            _recipient(client, schedule["message_id"], ana)["open_count"] == 3
            and _recipient(client, receipt["message_id"], dev)["open_count"] == 1
            and _recipient(client, holiday["message_id"], ana)["engagement"] == "machine_only"
            and _recipient(client, holiday["message_id"], dev)["open_count"] == 1
        ),
        timeout=60,
    )
    undelivered = _undelivered_documents(client)
    for message in (schedule, invoice, receipt, holiday, *undelivered):
        client.wait_until(lambda m=message: _projected(client, m["message_id"]), timeout=60)
    return {
        "tenant_id": DEMO_TENANT,
        "token": client.token,
        "messages": [m["message_id"] for m in (schedule, invoice, receipt, holiday, *undelivered)],
    }


def _undelivered_documents(client: LocalClient) -> list[dict[str, Any]]:
    """An invoice and a receipt that bounce (the simulator's bounce address), waited for until both
    are in the attention queue."""
    invoice = _send(
        client,
        {
            "kind": "invoice",
            "subject": "Invoice INV-1002 for January classes",
            "text": "Your invoice INV-1002 of $95.00 is due on January 15.",
            "invoice_id": "INV-1002",
            "recipients": _recipients("gus"),
        },
    )
    receipt = _send(
        client,
        {
            "kind": "receipt",
            "subject": "Payment receipt PAY-2002",
            "text": "We received your payment of $45.00. Thank you!",
            "payment_id": "PAY-2002",
            "recipients": _recipients("hana"),
        },
    )
    wanted = {invoice["message_id"], receipt["message_id"]}
    client.wait_until(
        lambda: wanted <= {item["message_id"] for item in client.ok("GET", "/attention")["items"]},
        timeout=60,
    )
    return [invoice, receipt]


def main() -> None:
    parser = argparse.ArgumentParser(description="Seed demo data into a running local mode.")
    parser.add_argument("--url", default=f"http://127.0.0.1:{os.environ.get('PORT', '8000')}")
    args = parser.parse_args()
    print(json.dumps(seed(args.url), indent=2))


if __name__ == "__main__":
    main()
