"""The real ingest handler against moto's DynamoDB, through PynamoDB."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from tests import ses_builders as b
from tests.factories import (
    CREATED_AT,
    message_counts,
    recipient_facts,
    recount,
    seed_message,
    ses_id,
    timeline,
)
from tests.lambda_context import FakeLambdaContext
from tracker.dal.quarantine import DynamoQuarantineStore
from tracker.domain.status import Status
from tracker.handlers import ingest

pytestmark = pytest.mark.usefixtures("table")

SENT = CREATED_AT + timedelta(minutes=1)


def run(records: list[dict[str, Any]]) -> dict[str, Any]:
    ingest.default_ingestor.cache_clear()
    return ingest.handler(b.sqs_event(records), FakeLambdaContext())


def record(event: dict[str, Any], receive_count: int = 1) -> dict[str, Any]:
    return b.sqs_record(b.sns_body(event), receive_count=receive_count)


def tagged(seeded_message_id: str, index: int, tenant: str = "tenant-a") -> dict[str, Any]:
    return {
        "tags": b.tags_for(tenant, seeded_message_id, f"r{index}"),
        "sent_at": SENT,
    }


def address(index: int) -> str:
    return f"person{index}@example.com"


def failures(response: dict[str, Any]) -> list[str]:
    return [f["itemIdentifier"] for f in response["batchItemFailures"]]


def test_events_update_statuses_counts_and_the_timeline() -> None:
    seed_message(recipients=3)
    opened_at = SENT + timedelta(minutes=5)
    events = [
        b.send_event(ses_id("msg-1", 0), address(0), **tagged("msg-1", 0)),
        b.delivery_event(ses_id("msg-1", 0), address(0), **tagged("msg-1", 0)),
        b.open_event(ses_id("msg-1", 0), address(0), at=opened_at, **tagged("msg-1", 0)),
        b.open_event(ses_id("msg-1", 0), address(0), at=opened_at + timedelta(hours=2), **tagged("msg-1", 0)),
        b.delivery_event(ses_id("msg-1", 1), address(1), **tagged("msg-1", 1)),
        b.click_event(ses_id("msg-1", 1), address(1), **tagged("msg-1", 1)),
        b.bounce_event(
            ses_id("msg-1", 2),
            address(2),
            diagnostic_code="smtp; 550 5.1.1 user unknown",
            **tagged("msg-1", 2),
        ),
    ]
    # The first open is delivered twice, through two different SNS notifications.
    records = [record(e) for e in events] + [record(events[2])]
    response = run(records)

    assert failures(response) == []
    opened = recipient_facts("tenant-a", "msg-1", "r0")
    assert opened.status is Status.OPENED
    assert opened.open_count == 2
    assert opened.first_opened_at == opened_at.replace(microsecond=opened_at.microsecond // 1000 * 1000)
    assert recipient_facts("tenant-a", "msg-1", "r1").status is Status.CLICKED
    bounced = recipient_facts("tenant-a", "msg-1", "r2")
    assert bounced.status is Status.BOUNCED
    assert bounced.bounce_reason == "smtp; 550 5.1.1 user unknown"

    assert message_counts("tenant-a", "msg-1") == {Status.OPENED: 1, Status.CLICKED: 1, Status.BOUNCED: 1}
    assert recount("tenant-a", "msg-1") == message_counts("tenant-a", "msg-1")

    kept = timeline("tenant-a", "msg-1", "r0")
    assert [entry.kind for entry in kept] == ["send", "delivery", "open", "open"]
    (bounce,) = timeline("tenant-a", "msg-1", "r2")
    assert (bounce.kind, bounce.info) == ("bounce", "Permanent/General")
    assert bounced.bounce is not None
    assert bounced.bounce.event_id == bounce.event_id


def test_untagged_events_find_their_recipient_by_ses_message_id() -> None:
    seed_message(recipients=2)
    response = run(
        [
            record(b.delivery_event(ses_id("msg-1", 1), address(1))),
            record(b.notification_bounce(ses_id("msg-1", 0), address(0))),
        ]
    )
    assert failures(response) == []
    assert recipient_facts("tenant-a", "msg-1", "r1").status is Status.DELIVERED
    assert recipient_facts("tenant-a", "msg-1", "r0").status is Status.BOUNCED
    assert message_counts("tenant-a", "msg-1") == {Status.DELIVERED: 1, Status.BOUNCED: 1}


def test_on_account_suppression_list_bounce_counts_as_dropped() -> None:
    seed_message(recipients=2)
    run(
        [
            record(b.send_event(ses_id("msg-1", 0), address(0), **tagged("msg-1", 0))),
            record(
                b.bounce_event(
                    ses_id("msg-1", 0),
                    address(0),
                    bounce_subtype="OnAccountSuppressionList",
                    diagnostic_code="Amazon SES did not send the message to this address because it is on the "
                    "suppression list for your account.",
                    **tagged("msg-1", 0),
                )
            ),
        ]
    )
    assert recipient_facts("tenant-a", "msg-1", "r0").status is Status.DROPPED
    assert message_counts("tenant-a", "msg-1") == {Status.DROPPED: 1, Status.QUEUED: 1}


def test_one_malformed_record_in_a_batch_of_100_is_quarantined_and_the_other_99_apply(
    capsys: pytest.CaptureFixture[str],
) -> None:
    seed_message(recipients=99)
    good = [record(b.delivery_event(ses_id("msg-1", i), address(i), **tagged("msg-1", i))) for i in range(99)]
    bad = b.sqs_record("{this is not json")
    batch = [*good[:50], bad, *good[50:]]

    response = run(batch)

    assert failures(response) == []  # the bad record is kept in quarantine, so it is done with
    assert message_counts("tenant-a", "msg-1") == {Status.DELIVERED: 99}
    quarantined = DynamoQuarantineStore().list_day(_now().date())
    assert [(q.source_id, q.reason, q.body) for q in quarantined] == [
        (bad["messageId"], "malformed_json", "{this is not json")
    ]
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert any(m.get("QuarantinedEvents") == [1.0] or m.get("QuarantinedEvents") == 1.0 for m in emitted)


def test_unknown_event_type_is_quarantined_with_its_reason() -> None:
    seed_message(recipients=1)
    weird = {"eventType": "Teleport", "mail": b.mail(ses_id("msg-1", 0), address(0))}
    response = run([record(weird)])
    assert failures(response) == []
    [kept] = DynamoQuarantineStore().list_day(_now().date())
    assert kept.reason == "unknown_event_type"
    assert "Teleport" in kept.detail


def test_an_event_before_its_recipient_exists_is_retried_not_lost() -> None:
    early = record(b.delivery_event(ses_id("msg-1", 0), address(0), **tagged("msg-1", 0)))
    others = [record(b.delivery_event("other", "x@example.com", **tagged("msg-0", 0)))]
    response = run([early, *others])
    assert sorted(failures(response)) == sorted([early["messageId"], others[0]["messageId"]])

    seed_message(recipients=1)  # the send path catches up
    early["attributes"]["ApproximateReceiveCount"] = "2"
    assert failures(run([early])) == []
    assert recipient_facts("tenant-a", "msg-1", "r0").status is Status.DELIVERED


def test_an_event_that_never_finds_its_recipient_is_quarantined_on_its_last_delivery() -> None:
    stray = record(b.delivery_event("nobody", "x@example.com"), receive_count=4)
    assert failures(run([stray])) == []
    [kept] = DynamoQuarantineStore().list_day(_now().date())
    assert kept.reason == "unknown_recipient"


def test_tags_naming_a_recipient_with_another_address_are_quarantined() -> None:
    seed_message(recipients=1)
    forged = record(b.delivery_event(ses_id("msg-1", 0), "intruder@example.com", **tagged("msg-1", 0)))
    assert failures(run([forged])) == []
    [kept] = DynamoQuarantineStore().list_day(_now().date())
    assert kept.reason == "recipient_mismatch"
    assert recipient_facts("tenant-a", "msg-1", "r0").status is Status.QUEUED


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)
