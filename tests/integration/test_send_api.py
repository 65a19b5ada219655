"""POST /messages end to end on moto: API → DynamoDB → SQS → sender → SES v2 → ingest."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests import ses_builders as b
from tests.apigw import json_body
from tests.factories import message_counts, recipient_facts, recount
from tests.integration.test_send_support import (
    SENDER,
    SendWorld,
    complain,
    email_body,
    messages_of,
    moto_sent_messages,
    recipients_body,
    recipients_of,
    run_ingest,
    sent_addresses,
)
from tracker import constants
from tracker.domain.status import Status, compute_rates

pytestmark = pytest.mark.usefixtures("table")


def accepted(response: dict[str, Any]) -> dict[str, Any]:
    assert response["statusCode"] == 202, response["body"]
    body: dict[str, Any] = json_body(response)
    return body


def test_three_recipients_make_one_message_three_ses_sends_and_untagged_events_find_them(
    world: SendWorld,
) -> None:
    body = accepted(world.post(email_body(3)))
    message_id = body["message_id"]
    assert [r["status"] for r in body["recipients"]] == ["queued"] * 3
    assert [r["email"] for r in body["recipients"]] == [f"person{i}@example.com" for i in range(3)]
    assert [r["customer_id"] for r in body["recipients"]] == [f"cust-{i}" for i in range(3)]
    assert len({r["recipient_id"] for r in body["recipients"]}) == 3

    # Written first: one message, three Queued recipients, before anything is sent.
    assert [m.message_id for m in messages_of("tenant-a")] == [message_id]
    assert message_counts("tenant-a", message_id) == {Status.QUEUED: 3}
    assert world.ses.calls == []

    assert world.drain() == []
    assert len(world.ses.calls) == 3
    assert len(moto_sent_messages()) == 3
    recipients = {r.recipient_id: r for r in recipients_of("tenant-a", message_id)}
    ses_ids = {r.ses_message_id for r in recipients.values()}
    assert None not in ses_ids
    assert len(ses_ids) == 3, "distinct SES message ids stored"
    assert {m.id for m in moto_sent_messages()} == ses_ids
    for item in recipients.values():
        assert item.gsi2pk == f"SES#{item.ses_message_id}"
        assert item.send_claim is None
        assert item.status == Status.SENT.value
    assert message_counts("tenant-a", message_id) == {Status.SENT: 3}

    # What SES was asked: one recipient, our sender, configuration set and correlation tags.
    call = world.ses.calls[0]
    assert call["FromEmailAddress"] == SENDER
    assert call["ConfigurationSetName"] == constants.CONFIGURATION_SET_NAME
    assert call["Destination"]["ToAddresses"] == ["Person 0 <person0@example.com>"]
    assert call["Content"]["Simple"]["Subject"]["Data"] == "Spring term timetable"
    assert set(call["Content"]["Simple"]["Body"]) == {"Text", "Html"}
    assert {t["Name"]: t["Value"] for t in call["EmailTags"]} == {
        constants.TAG_TENANT: "tenant-a",
        constants.TAG_MESSAGE: message_id,
        constants.TAG_RECIPIENT: recipients["r0000"].recipient_id,
    }

    # SES events without our tags (both formats) reach the right recipients through the SES id.
    ses_id = {rid: item.ses_message_id or "" for rid, item in recipients.items()}
    events = [
        b.delivery_event(ses_id["r0000"], "person0@example.com"),
        b.open_event(ses_id["r0000"], "person0@example.com"),
        b.notification_bounce(ses_id["r0001"], "person1@example.com"),
        b.notification_delivery(ses_id["r0002"], "person2@example.com"),
    ]
    assert run_ingest(events) == []
    assert recipient_facts("tenant-a", message_id, "r0000").status is Status.OPENED
    assert recipient_facts("tenant-a", message_id, "r0001").status is Status.BOUNCED
    assert recipient_facts("tenant-a", message_id, "r0002").status is Status.DELIVERED
    counts = {Status.OPENED: 1, Status.BOUNCED: 1, Status.DELIVERED: 1}
    assert message_counts("tenant-a", message_id) == counts == recount("tenant-a", message_id)


def test_an_internationalized_domain_is_stored_and_sent_in_its_ascii_form(world: SendWorld) -> None:
    recipients = [
        {"customer_id": "c-1", "email": "Kim@Bücher.ch"},
        {"customer_id": "c-2", "email": "lee@xn--fa-hia.de"},
    ]
    body = accepted(world.post(email_body(recipients=recipients)))
    assert [r["email"] for r in body["recipients"]] == ["kim@xn--bcher-kva.ch", "lee@xn--fa-hia.de"]
    assert sorted(r.email for r in recipients_of("tenant-a", body["message_id"])) == [
        "kim@xn--bcher-kva.ch",
        "lee@xn--fa-hia.de",
    ]
    assert world.drain() == []
    assert sent_addresses() == {"kim@xn--bcher-kva.ch": 1, "lee@xn--fa-hia.de": 1}


def test_a_suppressed_address_is_dropped_never_sent_and_counts_as_not_delivered(world: SendWorld) -> None:
    complain("person1@example.com")

    recipients = recipients_body(3)
    recipients[1]["email"] = "Person1@EXAMPLE.com"  # the same address, differently cased
    body = accepted(world.post(email_body(recipients=recipients)))
    message_id = body["message_id"]
    dropped = body["recipients"][1]
    assert dropped["status"] == "dropped"
    assert dropped["email"] == "person1@example.com"
    assert dropped["reason"] == "suppressed: 1 complaint"
    # Another tenant's suppression list is its own.
    other = accepted(world.post(email_body(3), tenant_id="tenant-b"))
    assert {r["status"] for r in other["recipients"]} == {"queued"}

    assert world.drain() == []
    assert world.ses.calls_to("person1@example.com") == 1, "only tenant-b's message went to it"
    assert sent_addresses()["Person 1 <person1@example.com>"] == 1
    assert len(world.ses.calls) == 5
    item = {r.recipient_id: r for r in recipients_of("tenant-a", message_id)}["r0001"]
    assert item.status == Status.DROPPED.value
    assert item.ses_message_id is None
    assert item.send_outcome_reason == "suppressed: 1 complaint"

    sent = {r.recipient_id: r.ses_message_id or "" for r in recipients_of("tenant-a", message_id)}
    assert (
        run_ingest(
            [b.delivery_event(sent[rid], f"person{i}@example.com") for i, rid in ((0, "r0000"), (2, "r0002"))]
        )
        == []
    )
    counts = message_counts("tenant-a", message_id)
    assert counts == {Status.DELIVERED: 2, Status.DROPPED: 1}
    rates = compute_rates(counts)
    assert rates.recipients == 3
    assert rates.delivery_rate == pytest.approx(2 / 3)


def test_the_same_idempotency_key_returns_the_first_answer_and_sends_nothing_new(world: SendWorld) -> None:
    first = world.post(email_body(2), key="order-7")
    body = accepted(first)
    assert world.drain() == []
    assert len(moto_sent_messages()) == 2

    again = world.post(email_body(2), key="order-7")
    assert accepted(again) == body
    assert world.drain() == []
    assert len(moto_sent_messages()) == 2, "nothing new was sent"
    assert [m.message_id for m in messages_of("tenant-a")] == [body["message_id"]]

    # Another tenant's identical key is another request, not a replay of tenant-a's.
    other = accepted(world.post(email_body(2), key="order-7", tenant_id="tenant-b"))
    assert other["message_id"] != body["message_id"]

    different = world.post(email_body(2, subject="Another subject"), key="order-7")
    assert different["statusCode"] == 422
    error = json_body(different)["error"]
    assert error["code"] == "idempotency_key_reused"
    assert "different request body" in error["message"]
    assert [m.message_id for m in messages_of("tenant-a")] == [body["message_id"]]


def test_a_failed_request_does_not_burn_its_idempotency_key(world: SendWorld) -> None:
    duplicate = recipients_body(2)
    duplicate[1]["email"] = duplicate[0]["email"]
    refused = world.post(email_body(recipients=duplicate), key="k-1")
    assert refused["statusCode"] == 400
    # The same key now carries a different (valid) body: the failed attempt left no record behind.
    assert accepted(world.post(email_body(2), key="k-1"))["recipients"][0]["status"] == "queued"


def test_posting_needs_a_token(world: SendWorld) -> None:
    response = world.request("POST", "/messages", body=email_body(1), tenant_id=None)
    assert response["statusCode"] == 401


def test_invoices_and_receipts_keep_their_document_and_customer_ids(world: SendWorld) -> None:
    invoice = accepted(world.post(email_body(1, kind="invoice", invoice_id="INV-1001")))
    receipt = accepted(world.post(email_body(1, kind="receipt", payment_id="PAY-77")))
    assert world.drain() == []
    (inv_recipient,) = recipients_of("tenant-a", invoice["message_id"])
    assert (inv_recipient.kind, inv_recipient.invoice_id, inv_recipient.customer_id) == (
        "invoice",
        "INV-1001",
        "cust-0",
    )
    assert inv_recipient.gsi3pk == "T#tenant-a#INV#INV-1001"
    assert inv_recipient.gsi1pk == "T#tenant-a#C#cust-0"
    (pay_recipient,) = recipients_of("tenant-a", receipt["message_id"])
    assert (pay_recipient.kind, pay_recipient.payment_id) == ("receipt", "PAY-77")
    assert pay_recipient.gsi3pk == "T#tenant-a#PAY#PAY-77"
    ids = [m.message_id for m in messages_of("tenant-a")]
    assert sorted(ids) == sorted([invoice["message_id"], receipt["message_id"]])
    assert all(len(i) == 30 and i.startswith("m") for i in ids)


def test_message_ids_sort_by_creation_time(world: SendWorld) -> None:
    first = accepted(world.post(email_body(1)))["message_id"]
    second = accepted(world.post(email_body(1)))["message_id"]
    assert first[:14] <= second[:14]
    assert first != second


def test_a_send_that_could_not_be_queued_is_failed_not_lost(world: SendWorld) -> None:
    world.sqs.delete_queue(QueueUrl=world.queue_url)  # every SendMessageBatch now fails
    body = accepted(world.post(email_body(2)))
    assert [r["status"] for r in body["recipients"]] == ["failed", "failed"]
    assert "could not be queued" in body["recipients"][0]["reason"]
    assert message_counts("tenant-a", body["message_id"]) == {Status.FAILED: 2}


def test_sent_at_moves_with_a_tagged_send_event(world: SendWorld) -> None:
    body = accepted(world.post(email_body(1)))
    assert world.drain() == []
    (item,) = recipients_of("tenant-a", body["message_id"])
    event = b.send_event(
        item.ses_message_id or "",
        "person0@example.com",
        sent_at=b.DEFAULT_SENT_AT + timedelta(seconds=1),
        tags=b.tags_for("tenant-a", body["message_id"], item.recipient_id),
    )
    assert run_ingest([event]) == []
    facts = recipient_facts("tenant-a", body["message_id"], item.recipient_id)
    assert facts.status is Status.SENT
    assert facts.sent_at is not None
