"""The attention queue end to end on moto: a bounced invoice appears in /attention, a resend to a
corrected address sends one new SES message linked both ways and takes the old one off the queue,
an Idempotency-Key repeat sends nothing, dismiss is audited, another tenant sees none of it, and a
recipient without Delivery becomes stuck by the queue's clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests import ses_builders as b
from tests.apigw import json_body
from tests.factories import attention_queries
from tests.integration.test_send_support import (
    SECRET,
    SendWorld,
    complain,
    email_body,
    make_world,
    recipients_of,
    run_ingest,
)
from tests.projection import project
from tracker.api.cursors import CursorCodec
from tracker.api.read_routes import Dependencies
from tracker.dal.ingest_store import DynamoIngestStore
from tracker.dal.queries import DynamoReadStore
from tracker.logic.queries import ReadQueries

A, B = "tenant-a", "tenant-b"
SENT_AT = b.DEFAULT_SENT_AT


class Clock:
    """The queue's "now" (a test moves it; nothing waits)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.now(UTC))


@pytest.fixture
def world(table: str, clock: Clock) -> SendWorld:
    read = Dependencies(ReadQueries(DynamoReadStore(), CursorCodec(SECRET)), attention_queries(SECRET, clock))
    return make_world(read=read)


def ok(world: SendWorld, method: str, url: str, status: int = 200, **kwargs: Any) -> Any:
    response = world.request(method, url, **kwargs)
    assert response["statusCode"] == status, response["body"]
    return json_body(response)


def send_document(world: SendWorld, kind: str, email: str, **ids: str) -> str:
    body = email_body(1, kind=kind, **ids)
    body["recipients"] = [{"customer_id": "cust-ana", "email": email, "name": "Ana"}]
    message_id = str(ok(world, "POST", "/messages", 202, body=body)["message_id"])
    assert world.drain() == []
    return message_id


def ses_event(builder: Callable[..., dict[str, Any]], message_id: str, **extra: Any) -> dict[str, Any]:
    recipient = recipients_of(A, message_id)[0]
    tags = b.tags_for(A, message_id, recipient.recipient_id)
    return builder(recipient.ses_message_id, recipient.email, sent_at=SENT_AT, tags=tags, **extra)


def bounced_invoice(world: SendWorld, email: str = "ana@example.com") -> str:
    message_id = send_document(world, "invoice", email, invoice_id="INV-9")
    assert run_ingest([ses_event(b.send_event, message_id), ses_event(b.bounce_event, message_id)]) == []
    return message_id


def queue(world: SendWorld, tenant: str = A, query: str = "") -> list[dict[str, Any]]:
    return list(ok(world, "GET", f"/attention{query}", tenant_id=tenant)["items"])


def count(world: SendWorld, tenant: str = A, query: str = "") -> int:
    return int(ok(world, "GET", f"/attention/count{query}", tenant_id=tenant)["count"])


def test_a_bounced_invoice_is_in_the_queue_with_its_plain_reason(world: SendWorld) -> None:
    message_id = bounced_invoice(world)
    [item] = queue(world)
    assert (item["message_id"], item["kind"], item["invoice_id"], item["problem"]) == (
        message_id,
        "invoice",
        "INV-9",
        "failed",
    )
    [recipient] = item["recipients"]
    assert recipient["status"] == "bounced"
    assert recipient["reason"]["code"] == "mailbox_does_not_exist"
    assert recipient["raw_reason"] == "smtp; 550 5.1.1 user unknown"
    assert item["omitted_recipients"] == 0
    assert count(world) == 1
    assert queue(world, query="?kind=invoice") == [item]
    assert queue(world, query="?kind=receipt") == []
    assert queue(world, query="?kind=email") == []


def test_resend_to_a_corrected_address_sends_once_links_both_ways_and_leaves_the_queue(
    world: SendWorld,
) -> None:
    old = bounced_invoice(world)
    key = {"Idempotency-Key": "resend-1"}
    url = f"/messages/{old}/recipients/r0000/resend"
    first = ok(world, "POST", url, 201, body={"email": "ana.new@example.com"}, headers=key)
    assert first["resent_from"] == {"message_id": old, "recipient_id": "r0000"}
    assert world.drain() == []
    assert world.ses.calls_to("ana.new@example.com") == 1
    # The same key again: the same answer, nothing new sent.
    again = ok(world, "POST", url, 201, body={"email": "ana.new@example.com"}, headers=key)
    assert again == first
    assert world.drain() == []
    assert world.ses.calls_to("ana.new@example.com") == 1
    # Without the key: the recipient was resent already.
    refused = world.request("POST", url, body={"email": "ana.new@example.com"})
    assert (refused["statusCode"], json_body(refused)["error"]["code"]) == (409, "already_resent")

    new = first["message_id"]
    [row] = ok(world, "GET", f"/messages/{old}/recipients")["items"]
    assert row["resent_as"]["message_id"] == new
    assert row["resent_as"]["by"] == "user-1"
    assert ok(world, "GET", f"/messages/{new}")["resent_from"] == {"message_id": old, "recipient_id": "r0000"}
    assert queue(world) == []  # the new one is pending, not stuck yet
    assert count(world) == 0
    logs = ok(world, "GET", "/invoices/INV-9/logs")["items"]
    assert [group["message_id"] for group in logs] == [old, new]
    assert [r["email"] for group in logs for r in group["recipients"]] == [
        "ana@example.com",
        "ana.new@example.com",
    ]


def test_a_resend_to_a_suppressed_address_is_409_saying_to_lift_it(world: SendWorld) -> None:
    old = bounced_invoice(world)
    complain("blocked@example.com")
    answer = world.request(
        "POST", f"/messages/{old}/recipients/r0000/resend", body={"email": "blocked@example.com"}
    )
    error = json_body(answer)["error"]
    assert (answer["statusCode"], error["code"]) == (409, "address_suppressed")
    assert "DELETE /suppressions/blocked@example.com" in error["message"]
    assert world.drain() == []
    assert world.ses.calls_to("blocked@example.com") == 0
    assert len(queue(world)) == 1  # still needs attention


def test_dismiss_is_audited_idempotent_and_takes_it_off_the_queue(world: SendWorld) -> None:
    message_id = send_document(world, "receipt", "ana@example.com", payment_id="PAY-9")
    assert run_ingest([ses_event(b.send_event, message_id), ses_event(b.bounce_event, message_id)]) == []
    assert [item["kind"] for item in queue(world)] == ["receipt"]
    url = f"/messages/{message_id}/recipients/r0000/dismiss"
    first = ok(world, "POST", url)["dismissed"]
    assert first["by"] == "user-1"
    assert ok(world, "POST", url, subject="user-2")["dismissed"] == first
    project()  # the projector sees the dismissal
    assert queue(world) == []
    assert count(world) == 0
    [row] = ok(world, "GET", f"/messages/{message_id}/recipients")["items"]
    assert row["dismissed"] == first


def test_another_tenant_sees_none_of_it(world: SendWorld) -> None:
    old = bounced_invoice(world)
    assert queue(world, tenant=B) == []
    assert count(world, tenant=B) == 0
    for action in ("resend", "dismiss"):
        answer = world.request("POST", f"/messages/{old}/recipients/r0000/{action}", tenant_id=B)
        assert answer["statusCode"] == 404, action
    assert world.drain() == []
    assert len(queue(world)) == 1


def test_a_recipient_without_delivery_is_stuck_from_the_send_plus_the_setting(
    world: SendWorld, clock: Clock
) -> None:
    message_id = send_document(world, "invoice", "slow@example.com", invoice_id="INV-10")
    assert run_ingest([ses_event(b.send_event, message_id)]) == []
    clock.now = SENT_AT + timedelta(hours=23)
    assert queue(world) == []
    clock.now = SENT_AT + timedelta(hours=25)
    [item] = queue(world)
    assert (item["message_id"], item["problem"]) == (message_id, "stuck")
    assert item["attention_at"].startswith((SENT_AT + timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M"))
    assert [r["status"] for r in item["recipients"]] == ["sent"]
    assert count(world) == 1
    assert run_ingest([ses_event(b.delivery_event, message_id)]) == []
    assert queue(world) == []


def test_a_dismissal_written_while_an_ses_event_is_applied_is_kept(
    world: SendWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ingest reads the recipient, the owner dismisses it, then ingest writes: the write is
    conditioned on the version it read, so it conflicts, re-reads and keeps the dismissal."""
    message_id = bounced_invoice(world)
    commit = DynamoIngestStore.commit
    done: list[bool] = []

    def dismiss_first(self: DynamoIngestStore, change: Any) -> None:
        if not done:
            done.append(True)
            ok(world, "POST", f"/messages/{message_id}/recipients/r0000/dismiss")
        commit(self, change)

    monkeypatch.setattr(DynamoIngestStore, "commit", dismiss_first)
    complaint = ses_event(b.complaint_event, message_id)
    assert run_ingest([complaint]) == []
    assert done
    [row] = ok(world, "GET", f"/messages/{message_id}/recipients")["items"]
    assert row["status"] == "complaint"  # the event applied
    assert row["dismissed"]["by"] == "user-1"  # and the dismissal kept
    assert queue(world) == []
