"""A large message end to end through the API steps (docs/sending.md) on moto's DynamoDB and SQS:
rows with errors reported and corrected, nothing sent before the send, a fan-out spread over
several send calls, and the sender killed mid-send (between a claim and its outcome, and between
two jobs of one invocation), then every recipient sent by SES exactly once and the counts exact.

SES itself is a stand-in that accepts every call (moto's SES costs more per call than the rest of
the path together; the send path against moto's SES is covered by test_send_drafts.py and the
sender tests), and moto runs with local mode's shortcuts (local/moto_shortcuts.py, each checked
against plain moto by test_moto_shortcuts.py). ``LARGE_SEND_RECIPIENTS`` sizes it: ``make test-large`` runs it at 100,000 in
batches of 1,000, the suite at 1,000 in batches of 250.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest

from local import moto_shortcuts
from tests import ses_builders as b
from tests.apigw import json_body
from tests.factories import message_counts, recount
from tests.integration.test_send_support import SendWorld, SesSpy, make_world, recipients_body, run_ingest
from tests.projection import project
from tracker import constants
from tracker.api import draft_routes
from tracker.dal import keys
from tracker.dal.models import RecipientItem
from tracker.dal.recipients import facts_from_item
from tracker.domain.status import Status
from tracker.logic.outcomes import UNKNOWN_OUTCOME_REASON
from tracker.logic.sending import Sender

SIZE = int(os.environ.get("LARGE_SEND_RECIPIENTS", "1000"))
ROWS = int(os.environ.get("LARGE_SEND_BATCH_ROWS", "250"))
BATCHES_PER_CALL = 3  # what one POST /drafts/{id}/send has time for here
JOB_SIZE = 100


class AcceptingSes:
    """SES that accepts every message, answering a fresh message id (what SendEmail returns)."""

    def send_email(self, **_kwargs: Any) -> dict[str, Any]:
        return {"MessageId": f"0100-{uuid.uuid4()}"}


class SimulatedCrash(BaseException):
    """The sender's process dying (not an error the sender could catch)."""


class Clock:
    def __init__(self) -> None:
        self.now = b.DEFAULT_SENT_AT

    def __call__(self) -> Any:
        return self.now


@pytest.fixture(autouse=True)
def _batch_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRAFT_BATCH_ROWS", str(ROWS))


def put_batch(world: SendWorld, message_id: str, number: int, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return world.request("PUT", f"/drafts/{message_id}/batches/{number}", body={"recipients": rows})


def upload_with_a_rejected_batch(world: SendWorld, message_id: str) -> None:
    """Every batch; the second is first sent with two bad rows, refused whole, then corrected."""
    for number, start in enumerate(range(0, SIZE, ROWS), start=1):
        rows = recipients_body(min(ROWS, SIZE - start), start=start)
        if number == 2:
            bad = [dict(row) for row in rows]
            bad[3]["email"] = "no-at-sign"
            bad[7]["customer_id"] = "has spaces"
            refused = put_batch(world, message_id, number, bad)
            assert refused["statusCode"] == 400, refused["body"]
            assert [(e["row"], e["field"]) for e in json_body(refused)["rows"]] == [
                (3, "email"),
                (7, "customer_id"),
            ]
        accepted = put_batch(world, message_id, number, rows)
        assert accepted["statusCode"] == 200, accepted["body"]
        project()  # the projector keeps up between requests, as it does behind the table's stream


def time_for(batches: int) -> Callable[[], bool]:
    """A send call's clock: time for ``batches`` batches, then none."""
    budget = iter([True] * batches)
    return lambda: next(budget, False)


def send_until_sent(world: SendWorld, message_id: str, monkeypatch: pytest.MonkeyPatch) -> int:
    """Calls send as a client must (until the answer says ``sent``), each call having time for a
    few batches only; returns how many calls it took."""
    calls = 0
    while True:
        monkeypatch.setattr(draft_routes, "_time_left", time_for(BATCHES_PER_CALL))
        response = world.request("POST", f"/drafts/{message_id}/send")
        project()
        calls += 1
        assert response["statusCode"] == 202, response["body"]
        answer = json_body(response)
        if answer["state"] == "sent":
            monkeypatch.undo()
            return calls
        assert answer["state"] == "sending"
        assert calls <= SIZE // ROWS + 1, "the fan-out makes progress on every call"


@contextmanager
def crash_between_jobs(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The invocation dies after its first job, before its second starts."""
    original = Sender.process_job
    started: list[object] = []

    def process_job(self: Sender, job: Any, **kwargs: Any) -> Any:
        if started:
            raise SimulatedCrash("between two jobs")
        started.append(job)
        return original(self, job, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(Sender, "process_job", process_job)
        yield


def deliver_crashing_after_ses(world: SendWorld) -> tuple[dict[str, Any], str]:
    """One invocation killed right after SES accepted a recipient, before its outcome was
    written (its records stay on the queue); returns that SES call and its message id."""
    accepted: list[tuple[dict[str, Any], str]] = []

    def crash(call: dict[str, Any], ses_message_id: str) -> None:
        world.ses.after_send = None
        accepted.append((call, ses_message_id))
        raise SimulatedCrash("between claim and outcome")

    world.ses.after_send = crash
    with pytest.raises(SimulatedCrash):
        world.deliver_once()
    return accepted[0]


def recipient_of(tenant_id: str, message_id: str, call: dict[str, Any]) -> RecipientItem:
    recipient_id = {tag["Name"]: tag["Value"] for tag in call["EmailTags"]}[constants.TAG_RECIPIENT]
    return RecipientItem.get(keys.message_pk(tenant_id, message_id), keys.recipient_sk(recipient_id))


def test_a_large_draft_is_sent_to_every_recipient_exactly_once_through_crashes(
    table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with moto_shortcuts.installed():
        run_large_send(monkeypatch)


def run_large_send(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    world = make_world(chunk_size=JOB_SIZE, clock=clock)
    world.ses = SesSpy(AcceptingSes())
    created = world.request("POST", "/drafts", body={"kind": "email", "subject": "News", "text": "Hello"})
    assert created["statusCode"] == 201, created["body"]
    message_id: str = json_body(created)["message_id"]

    upload_with_a_rejected_batch(world, message_id)
    state = json_body(world.request("GET", f"/drafts/{message_id}"))
    assert (state["state"], state["rows"]) == ("draft", SIZE)
    assert world.queued_jobs() == [], "nothing is queued before the send"
    assert world.ses.calls == [], "nothing is sent before the send"

    assert send_until_sent(world, message_id, monkeypatch) >= 2, "the fan-out took several calls"

    call, ses_message_id = deliver_crashing_after_ses(world)
    with crash_between_jobs(monkeypatch), pytest.raises(SimulatedCrash):
        world.deliver_once()
    clock.now += timedelta(minutes=5)  # older than any sender can run: the claim is settled
    assert world.drain(max_rounds=SIZE) == []
    sent = Counter(world.ses.address(c) for c in world.ses.calls)
    assert len(sent) == SIZE
    assert set(sent.values()) == {1}, "no address was sent twice"
    settled = facts_from_item(recipient_of("tenant-a", message_id, call))
    assert (settled.send_outcome, settled.send_outcome_reason) == (Status.FAILED, UNKNOWN_OUTCOME_REASON)
    assert message_counts("tenant-a", message_id) == {Status.SENT: SIZE - 1, Status.FAILED: 1}

    # SES did send that message: its Send event corrects the status.
    tags = {tag["Name"]: tag["Value"] for tag in call["EmailTags"]}
    assert run_ingest([b.send_event(ses_message_id, world.ses.address(call), tags=tags)]) == []
    assert message_counts("tenant-a", message_id) == {Status.SENT: SIZE}
    assert recount("tenant-a", message_id) == {Status.SENT: SIZE}
