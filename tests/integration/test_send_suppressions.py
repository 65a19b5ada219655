"""Suppression on moto: the real ingest handler records bounces/complaints, the API lists and lifts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest

from tests import ses_builders as b
from tests.apigw import json_body
from tests.aws_calls import ApiCall, intercepted
from tests.factories import evidence_entries, seed_message, ses_id
from tests.integration.test_send_support import SendWorld, complain, email_body, run_ingest
from tracker.dal.suppressions import DynamoSuppressionStore
from tracker.domain.suppression import Address, Evidence, EvidenceKind, SuppressionState
from tracker.logic.suppression import SuppressionService

pytestmark = pytest.mark.usefixtures("table")

ADDRESS = "person0@example.com"


def tagged(message_id: str) -> dict[str, Any]:
    return {"tags": b.tags_for("tenant-a", message_id, "r0")}


def suppression(world: SendWorld, email: str = ADDRESS, tenant_id: str = "tenant-a") -> dict[str, Any] | None:
    response = world.request("GET", f"/suppressions/{quote(email)}", tenant_id=tenant_id)
    if response["statusCode"] == 404:
        return None
    assert response["statusCode"] == 200, response["body"]
    body: dict[str, Any] = json_body(response)
    return body


def test_two_permanent_bounces_suppress_and_a_redelivered_bounce_counts_once(world: SendWorld) -> None:
    for message_id in ("msg-1", "msg-2", "msg-3"):
        seed_message(message_id=message_id, recipients=1)
    first = b.bounce_event(ses_id("msg-1", 0), ADDRESS, **tagged("msg-1"))
    assert run_ingest([first, first]) == []
    assert run_ingest([first], receive_count=2) == []  # SQS redelivered it too
    assert len(evidence_entries(ADDRESS)) == 1
    assert suppression(world) is None, "one permanent bounce, however often delivered, is not enough"
    listed = json_body(world.request("GET", "/suppressions"))
    assert listed["items"] == [], "an address with evidence only is not listed"
    created = json_body(world.post(email_body(1)))
    assert [r["status"] for r in created["recipients"]] == ["queued"], "nor dropped"

    # The second bounce arrives without our tags (found through its SES message id).
    second = b.notification_bounce(
        ses_id("msg-2", 0),
        ADDRESS,
        at=b.DEFAULT_SENT_AT + timedelta(days=1),
        diagnostic_code="smtp; 550 5.1.1 no such user",
    )
    assert run_ingest([second]) == []
    record = suppression(world)
    assert record is not None
    assert record["state"] == "active"
    assert record["reason"] == "2 permanent bounces"
    assert [e["message_id"] for e in record["evidence"]] == ["msg-1", "msg-2"]
    assert {e["kind"] for e in record["evidence"]} == {"permanent_bounce"}
    assert record["evidence"][1]["detail"] == "smtp; 550 5.1.1 no such user"
    assert [h["action"] for h in record["history"]] == ["suppressed"]
    assert record["history"][0]["actor"] == "system"

    # A later bounce of the same address changes nothing: it stays suppressed for the same reason.
    assert run_ingest([b.bounce_event(ses_id("msg-3", 0), ADDRESS, **tagged("msg-3"))]) == []
    after = suppression(world)
    assert after is not None
    assert (after["reason"], after["suppressed_at"]) == (record["reason"], record["suppressed_at"])

    created = json_body(world.post(email_body(2)))
    assert [r["status"] for r in created["recipients"]] == ["dropped", "queued"]
    assert created["recipients"][0]["reason"] == "suppressed: 2 permanent bounces"


def test_one_complaint_suppresses(world: SendWorld) -> None:
    seed_message(message_id="msg-1", recipients=1)
    assert run_ingest([b.complaint_event(ses_id("msg-1", 0), ADDRESS, **tagged("msg-1"))]) == []
    record = suppression(world)
    assert record is not None
    assert record["reason"] == "1 complaint"
    assert record["evidence"][0]["kind"] == "complaint"
    assert record["evidence"][0]["detail"] == "abuse"


def test_transient_bounces_outside_the_window_do_not_count(world: SendWorld) -> None:
    days = [0, 8, 16, 24, 40]  # five soft bounces, but never five within 30 days
    for i in range(len(days) + 1):
        seed_message(message_id=f"msg-{i}", recipients=1)

    def soft(i: int, day: int) -> dict[str, Any]:
        return b.bounce_event(
            ses_id(f"msg-{i}", 0),
            ADDRESS,
            bounce_type="Transient",
            bounce_subtype="MailboxFull",
            at=b.DEFAULT_SENT_AT + timedelta(days=day),
            **tagged(f"msg-{i}"),
        )

    assert run_ingest([soft(i, day) for i, day in enumerate(days)]) == []
    assert len(evidence_entries(ADDRESS)) == 5
    assert suppression(world) is None
    assert run_ingest([soft(5, 30)]) == []  # now days 0, 8, 16, 24, 30 fall within 30 days
    record = suppression(world)
    assert record is not None
    assert record["reason"] == "5 transient bounces within 30 days"
    assert [e["message_id"] for e in record["evidence"]] == ["msg-0", "msg-1", "msg-2", "msg-3", "msg-5"]


def test_list_paginates_lift_is_audited_and_sending_works_again(world: SendWorld) -> None:
    store = DynamoSuppressionStore()
    service = SuppressionService(store)
    addresses = [f"person{i}@example.com" for i in range(5)]
    for i, address in enumerate(addresses):
        complain(address, event_id=f"c{i}")

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        url = "/suppressions?limit=2" + (f"&cursor={cursor}" if cursor else "")
        response = world.request("GET", url)
        assert response["statusCode"] == 200, response["body"]
        page = json_body(response)
        assert len(page["items"]) <= 2
        seen.extend(item["email"] for item in page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        # A cursor is tied to its tenant and list.
        stolen = world.request("GET", f"/suppressions?limit=2&cursor={cursor}", tenant_id="tenant-b")
        assert json_body(stolen)["error"]["code"] == "invalid_cursor"
        wrong_list = world.request("GET", f"/suppressions?state=lifted&cursor={cursor}")
        assert wrong_list["statusCode"] == 400
    assert sorted(seen) == addresses
    assert pages == 3
    assert json_body(world.request("GET", "/suppressions", tenant_id="tenant-b"))["items"] == []

    # Lift one (audited: who, when), as user "owner-7"; the address is URL-encoded in the path.
    lifted = world.request("DELETE", f"/suppressions/{quote('Person3@Example.com')}", subject="owner-7")
    assert lifted["statusCode"] == 200, lifted["body"]
    body = json_body(lifted)
    assert body["state"] == "lifted"
    assert body["lifted_by"] == "owner-7"
    lifted_at = datetime.fromisoformat(body["lifted_at"])
    assert abs(lifted_at - datetime.now(UTC)) < timedelta(minutes=1)

    active = json_body(world.request("GET", "/suppressions"))["items"]
    assert sorted(i["email"] for i in active) == [a for a in addresses if a != "person3@example.com"]
    history = json_body(world.request("GET", "/suppressions?state=lifted"))["items"]
    assert [i["email"] for i in history] == ["person3@example.com"], "lifted records are kept"
    detail = suppression(world, "person3@example.com")
    assert detail is not None
    assert [(h["action"], h["actor"]) for h in detail["history"]] == [
        ("suppressed", "system"),
        ("lifted", "owner-7"),
    ]

    again = world.request("DELETE", f"/suppressions/{quote('person3@example.com')}")
    assert again["statusCode"] == 404
    assert (
        world.request("DELETE", f"/suppressions/{quote(addresses[0])}", tenant_id="tenant-b")["statusCode"]
        == 404
    )
    assert world.request("DELETE", "/suppressions/not-an-address")["statusCode"] == 400

    # Sending to the lifted address works again; the still-suppressed ones stay dropped.
    recipients = [{"customer_id": f"c{i}", "email": a} for i, a in enumerate(addresses)]
    created = json_body(world.post(email_body(recipients=recipients)))
    assert [r["status"] for r in created["recipients"]] == [
        "dropped",
        "dropped",
        "dropped",
        "queued",
        "dropped",
    ]
    assert world.drain() == []
    assert [world.ses.address(call) for call in world.ses.calls] == ["person3@example.com"]

    # The complaint from before the lift, delivered once more, does not suppress it again.
    again = {
        Address("tenant-a", "person3@example.com"): [
            Evidence("c3", EvidenceKind.COMPLAINT, b.DEFAULT_SENT_AT)
        ]
    }
    assert service.record_evidence(again) == set()
    assert service.active_reasons("tenant-a", ["person3@example.com"]) == {}
    assert store.get("tenant-a", "person3@example.com") is not None


def test_an_address_is_looked_up_in_either_form_of_its_domain(world: SendWorld) -> None:
    complain("kim@xn--bcher-kva.ch")
    for form in ("kim@xn--bcher-kva.ch", "Kim@Bücher.ch"):
        record = suppression(world, form)
        assert record is not None, form
        assert record["email"] == "kim@xn--bcher-kva.ch"


def test_an_address_lifted_between_the_list_query_and_its_read_is_not_listed_as_active(
    world: SendWorld,
) -> None:
    for address in ("person1@example.com", "person2@example.com"):
        complain(address)
    store = DynamoSuppressionStore()
    service = SuppressionService(store)
    lifted = False

    def lift_after_the_query(call: ApiCall, perform: Callable[[], Any]) -> Any:
        nonlocal lifted
        response = perform()
        if call.operation == "Query" and not lifted:
            lifted = True  # the lift's own requests pass through here as well
            service.lift("tenant-a", "person1@example.com", "owner-7")
        return response

    with intercepted(lift_after_the_query):
        records, _ = store.list_page("tenant-a", SuppressionState.ACTIVE, 10, None)
    assert lifted
    assert [record.email for record in records] == ["person2@example.com"]
