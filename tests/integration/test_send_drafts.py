"""Large messages through the API steps (docs/sending.md) on moto: a draft, batches with per-row
errors, nothing sent before the send, every recipient exactly one SES send, resumable fan-out.

``DRAFT_TEST_RECIPIENTS`` sizes the exactly-once test (moto's SES included); the 100,000-recipient
run with crashes is test_send_large.py (``make test-large``)."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest

from tests.apigw import json_body
from tests.factories import message_counts, recount
from tests.integration.test_send_support import SendWorld, complain, make_world, recipients_body
from tests.projection import project
from tracker.api import draft_routes
from tracker.dal.outbound import SqsJobQueue
from tracker.domain.status import Status

pytestmark = pytest.mark.usefixtures("table")
SIZE = int(os.environ.get("DRAFT_TEST_RECIPIENTS", "500"))
# Rows per batch (the DRAFT_BATCH_ROWS setting, at most 1,000): small in the suite, so a few hundred
# recipients still make several batches; `make test-large` uses 1,000.
ROWS = int(os.environ.get("DRAFT_TEST_BATCH_ROWS", "200"))


@pytest.fixture(autouse=True)
def _batch_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRAFT_BATCH_ROWS", str(ROWS))


def draft(world: SendWorld) -> str:
    response = world.request("POST", "/drafts", body={"kind": "email", "subject": "News", "text": "Hello"})
    assert response["statusCode"] == 201, response["body"]
    message_id: str = json_body(response)["message_id"]
    return message_id


def put_batch(world: SendWorld, message_id: str, number: int, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return world.request("PUT", f"/drafts/{message_id}/batches/{number}", body={"recipients": rows})


def send(world: SendWorld, message_id: str) -> dict[str, Any]:
    response = world.request("POST", f"/drafts/{message_id}/send")
    assert response["statusCode"] == 202, response["body"]
    return json_body(response)


def upload(world: SendWorld, message_id: str, size: int) -> None:
    for number, start in enumerate(range(0, size, ROWS), start=1):
        response = put_batch(world, message_id, number, recipients_body(min(ROWS, size - start), start=start))
        assert response["statusCode"] == 200, response["body"]
        project()  # moto keeps only recent stream records


def sent_per_address(world: SendWorld) -> Counter[str]:
    return Counter(world.ses.address(call) for call in world.ses.calls)


def test_bad_rows_are_reported_by_row_and_field_and_nothing_is_stored(table: str) -> None:
    world = make_world()
    message_id = draft(world)
    rows = recipients_body(3)
    rows[1]["email"] = "not-an-address"
    rows[2]["customer_id"] = "bad id"
    response = put_batch(world, message_id, 1, rows)
    assert response["statusCode"] == 400
    errors = [(e["row"], e["field"]) for e in json_body(response)["rows"]]
    assert errors == [(1, "email"), (2, "customer_id")]
    state = json_body(world.request("GET", f"/drafts/{message_id}"))
    assert (state["rows"], state["batches"], state["state"]) == (0, {}, "draft")


def test_a_draft_sends_every_recipient_exactly_once_and_nothing_before_the_send(table: str) -> None:
    world = make_world(chunk_size=100)
    message_id = draft(world)
    upload(world, message_id, SIZE)
    # A retried batch and a row repeating an earlier batch's address change nothing.
    assert put_batch(world, message_id, 1, recipients_body(ROWS))["statusCode"] == 200
    extra = (SIZE + ROWS - 1) // ROWS + 1
    assert put_batch(world, message_id, extra, recipients_body(1, start=5))["statusCode"] == 200
    assert world.queued_jobs() == []
    assert world.ses.calls == []
    answer = send(world, message_id)
    assert (answer["state"], answer["recipients"], answer["duplicates"]) == ("sent", SIZE, 1)
    assert send(world, message_id)["state"] == "sent", "a second send answers the same"
    assert world.drain(max_rounds=SIZE) == []
    calls = sent_per_address(world)
    assert len(calls) == SIZE
    assert set(calls.values()) == {1}
    assert message_counts("tenant-a", message_id) == {Status.SENT: SIZE}
    assert recount("tenant-a", message_id) == {Status.SENT: SIZE}


def test_a_fan_out_interrupted_between_batches_resumes_without_a_double_send(
    table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_world(chunk_size=100)
    message_id = draft(world)
    size = 3 * ROWS
    upload(world, message_id, size)
    budget = iter([True, False])  # the first call has time for one batch only
    monkeypatch.setattr(draft_routes, "_time_left", lambda: next(budget, False))
    first = send(world, message_id)
    monkeypatch.undo()
    assert (first["state"], first["batches_queued"]) == ("sending", 1)
    world.drain()
    assert send(world, message_id)["state"] == "sent"
    world.drain()
    calls = sent_per_address(world)
    assert len(calls) == size
    assert set(calls.values()) == {1}
    assert message_counts("tenant-a", message_id) == {Status.SENT: size}


def test_jobs_that_could_not_be_queued_are_queued_by_the_next_send_even_for_a_newly_suppressed_address(
    table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_world(chunk_size=100)
    message_id = draft(world)
    upload(world, message_id, 2 * ROWS)
    # SQS refuses every job of the first batch: its recipients are written, its jobs are not.
    monkeypatch.setattr(SqsJobQueue, "enqueue", lambda self, jobs: list(jobs))
    refused = world.request("POST", f"/drafts/{message_id}/send")
    monkeypatch.undo()
    assert refused["statusCode"] == 503, refused["body"]
    assert world.queued_jobs() == []
    state = json_body(world.request("GET", f"/drafts/{message_id}"))
    assert (state["state"], state["batches_queued"]) == ("sending", 0)
    # An address of the written batch is suppressed before the send is called again: its
    # recipient was written queued, so it must still reach the sender (which drops it), not stay
    # queued for ever.
    complain("person3@example.com")
    assert send(world, message_id)["state"] == "sent"
    assert world.drain(max_rounds=4 * ROWS) == []
    project()
    calls = sent_per_address(world)
    assert "person3@example.com" not in calls
    assert len(calls) == 2 * ROWS - 1
    assert set(calls.values()) == {1}
    counts = message_counts("tenant-a", message_id)
    assert counts == {Status.SENT: 2 * ROWS - 1, Status.DROPPED: 1}


def test_a_discarded_draft_is_gone_and_sends_nothing(table: str) -> None:
    world = make_world()
    message_id = draft(world)
    upload(world, message_id, 10)
    assert world.request("DELETE", f"/drafts/{message_id}")["statusCode"] == 200
    assert world.request("GET", f"/drafts/{message_id}")["statusCode"] == 404
    assert world.request("POST", f"/drafts/{message_id}/send")["statusCode"] == 404
    assert world.ses.calls == []
