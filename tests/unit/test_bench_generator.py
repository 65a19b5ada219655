"""The bench's synthetic send: its mix, its duplicates, and a ground truth that agrees with the intent."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from bench.generator import AGENTS, APPLE_PROXY, SCANNERS, TENANT, Kind, SyntheticSend
from tests.engagement_samples import PEOPLE
from tracker import constants
from tracker.domain.status import Status
from tracker.models.ses import parse_record_body


@pytest.fixture(scope="module")
def send() -> SyntheticSend:
    return SyntheticSend(3000, seed=11)


def test_every_recipient_gets_a_send_and_the_mix_is_the_issues(send: SyntheticSend) -> None:
    originals = [s for s in send.specs if not s.copy]
    per_kind = Counter(s.kind for s in originals)
    recipients = send.recipients
    assert per_kind[Kind.SEND] == recipients
    assert {s.recipient for s in originals if s.kind == Kind.SEND} == set(range(recipients))

    def share(kind: Kind) -> float:
        return len({s.recipient for s in originals if s.kind == kind}) / recipients

    assert share(Kind.DELIVERY) == pytest.approx(0.95, abs=0.015)
    assert share(Kind.PERMANENT_BOUNCE) == pytest.approx(0.03, abs=0.01)
    assert share(Kind.TRANSIENT_BOUNCE) == pytest.approx(0.01, abs=0.006)
    # Opens: Apple's proxy for ~35% of the delivered, people for ~40% of the others.
    assert share(Kind.OPEN) == pytest.approx(0.95 * (0.35 + 0.65 * 0.42), abs=0.03)
    assert share(Kind.CLICK) == pytest.approx(0.10 + 0.95 * 0.65 * 0.05, abs=0.02)
    assert share(Kind.DELAY) == pytest.approx(0.01, abs=0.006)
    assert share(Kind.COMPLAINT) <= 0.004
    # Several opens for some recipients.
    opens = Counter(s.recipient for s in originals if s.kind == Kind.OPEN and AGENTS[s.agent] in PEOPLE)
    assert max(opens.values()) >= 4
    assert sum(1 for n in opens.values() if n > 1) > len(opens) / 4


def test_five_percent_of_the_events_are_delivered_twice_and_the_stream_is_shuffled(
    send: SyntheticSend,
) -> None:
    originals = [s for s in send.specs if not s.copy]
    duplicates = [s for s in send.specs if s.copy]
    assert len(duplicates) == round(0.05 * len(originals))
    identities = {s.identity for s in originals}
    assert len(identities) == len(originals)
    assert all(d.identity in identities for d in duplicates)
    # Shuffled: not grouped by recipient, not in time order.
    first = [s.recipient for s in send.specs[:200]]
    assert first != sorted(first)
    times = [s.at for s in send.specs[:200]]
    assert times != sorted(times)


def test_the_same_seed_gives_the_same_stream_and_another_seed_another() -> None:
    assert SyntheticSend(300, seed=3).specs == SyntheticSend(300, seed=3).specs
    assert SyntheticSend(300, seed=3).specs != SyntheticSend(300, seed=4).specs


def test_records_are_sns_notifications_in_sqs_records_carrying_our_tags() -> None:
    send = SyntheticSend(50, seed=5)
    event = send.sqs_event(send.specs[:20])
    assert len(event["Records"]) == 20
    record = event["Records"][0]
    assert record["eventSource"] == "aws:sqs"
    assert json.loads(record["body"])["Type"] == "Notification"
    for raw, spec in zip(event["Records"], send.specs[:20], strict=True):
        [parsed] = parse_record_body(raw["body"])
        assert parsed.email == send.email(spec.recipient)
        assert parsed.tags[constants.TAG_TENANT] == TENANT
        assert parsed.tags[constants.TAG_MESSAGE] == send.message_id
        assert parsed.tags[constants.TAG_RECIPIENT] == send.recipient_id(spec.recipient)
    # A duplicate delivery is the same SES event: the parser gives it the same event id.
    duplicate = next(s for s in send.specs if s.copy)
    original = next(s for s in send.specs if not s.copy and s.identity == duplicate.identity)
    [a] = parse_record_body(send.sqs_record(duplicate)["body"])
    [b] = parse_record_body(send.sqs_record(original)["body"])
    assert a.event_id == b.event_id
    assert send.sqs_record(duplicate)["messageId"] != send.sqs_record(original)["messageId"]


def test_the_model_answer_agrees_with_what_the_generator_meant() -> None:
    send = SyntheticSend(600, seed=9)
    truth = send.truth(parse_record_body)
    assert truth.statuses == truth.intended
    assert sum(n for tally, n in truth.counts.items() if tally in set(Status)) == send.recipients
    assert truth.distinct_events == sum(1 for s in send.specs if not s.copy)
    assert set(truth.counts) >= {Status.DELIVERED, Status.OPENED, Status.CLICKED, Status.BOUNCED}
    opens = Counter(send.recipient_id(s.recipient) for s in send.specs if s.kind == Kind.OPEN and not s.copy)
    assert all(truth.open_counts[r] == opens.get(r, 0) for r in truth.open_counts)


def test_a_sample_keeps_the_order_of_the_whole_stream() -> None:
    send = SyntheticSend(200, seed=2)
    sample = send.stream({0, 1, 2, 3})
    assert {s.recipient for s in sample} == {0, 1, 2, 3}
    positions = [send.specs.index(s) for s in sample]
    assert positions == sorted(positions)


def test_opens_and_clicks_come_from_apple_mpp_scanners_and_people_with_verdicts_to_match(
    send: SyntheticSend,
) -> None:
    originals = [s for s in send.specs if not s.copy]
    delivered = {s.recipient: s.at for s in originals if s.kind == Kind.DELIVERY}
    apple = {s.recipient for s in originals if AGENTS[s.agent] in APPLE_PROXY and s.kind == Kind.OPEN}
    scanned = [s for s in originals if AGENTS[s.agent] in SCANNERS]
    assert len(apple) / len(delivered) == pytest.approx(0.35, abs=0.03)
    assert len({s.recipient for s in scanned}) / len(delivered) == pytest.approx(0.65 * 0.05, abs=0.015)
    # A scanner follows links within seconds of delivery; Apple's proxy fetches within minutes.
    assert all(
        s.kind == Kind.CLICK and 1 <= (s.at - delivered[s.recipient]).total_seconds() <= 4 for s in scanned
    )
    truth = send.truth(parse_record_body)
    engaged = {s.recipient for s in originals if s.kind in (Kind.CLICK, Kind.COMPLAINT)}
    machine_only = apple - engaged
    assert machine_only
    # An Apple Mail user who never clicked stays delivered, counted as machine-opened.
    assert all(truth.statuses[send.recipient_id(r)] == Status.DELIVERED for r in machine_only)
    assert all("machine_opened" in truth.tallies[send.recipient_id(r)] for r in machine_only)
    assert truth.counts["machine_clicked"] > 0
