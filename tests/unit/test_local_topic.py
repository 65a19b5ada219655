"""Local mode's topic publisher: messages that wait while a batch is in flight leave together in
the next PublishBatch, within SNS's limits, and each waiter learns its own message's fate."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from local.topic import MAX_BATCH_BYTES, BatchingPublisher, PublishRefusedError

TOPIC = "arn:aws:sns:us-east-1:000000000000:events"


class StubSns:
    """Answers PublishBatch like SNS; the first call waits until released (a batch in flight)."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.refuse: set[str] = set()
        self.forget: set[str] = set()
        self.fail_with: Exception | None = None

    def publish_batch(self, TopicArn: str, PublishBatchRequestEntries: list[dict[str, str]]) -> Any:  # noqa: N803
        assert TopicArn == TOPIC
        self.entered.set()
        self.release.wait(10)
        entries = PublishBatchRequestEntries
        self.batches.append([entry["Message"] for entry in entries])
        if self.fail_with is not None:
            raise self.fail_with
        ok = [e for e in entries if e["Message"] not in self.refuse | self.forget]
        refused = [e for e in entries if e["Message"] in self.refuse]
        return {
            "Successful": [{"Id": e["Id"], "MessageId": f"id-{e['Message'][:8]}"} for e in ok],
            "Failed": [{"Id": e["Id"], "Code": "InvalidParameter", "Message": "refused"} for e in refused],
        }


@pytest.fixture
def sns() -> StubSns:
    return StubSns()


@pytest.fixture
def publisher(sns: StubSns) -> Iterator[BatchingPublisher]:
    started = BatchingPublisher(sns, TOPIC)
    yield started
    sns.release.set()
    started.stop()


def test_messages_waiting_behind_a_batch_in_flight_leave_in_one_batch(
    sns: StubSns, publisher: BatchingPublisher
) -> None:
    first = publisher.submit("first")
    assert sns.entered.wait(10)  # "first" is in flight, alone
    waiting = [publisher.submit(f"next-{n}") for n in range(12)]
    sns.release.set()
    assert first.result(10) == "id-first"
    assert [future.result(10) for future in waiting] == [f"id-next-{n}" for n in range(12)]
    assert sns.batches == [["first"], [f"next-{n}" for n in range(10)], ["next-10", "next-11"]]


def test_a_batch_holds_at_most_256_kb_of_messages(sns: StubSns, publisher: BatchingPublisher) -> None:
    publisher.submit("first")
    assert sns.entered.wait(10)
    big = ["a" * (100 * 1024), "b" * (100 * 1024), "c" * (100 * 1024)]
    futures = [publisher.submit(message) for message in big]
    sns.release.set()
    for future in futures:
        future.result(10)
    assert [len(batch) for batch in sns.batches] == [1, 2, 1]
    assert all(sum(len(m) for m in batch) <= MAX_BATCH_BYTES for batch in sns.batches)


def test_a_refused_or_unanswered_message_fails_its_own_waiter_only(
    sns: StubSns, publisher: BatchingPublisher
) -> None:
    sns.refuse, sns.forget = {"bad"}, {"lost"}
    publisher.submit("first")
    assert sns.entered.wait(10)
    good, bad, lost = (publisher.submit(m) for m in ("good", "bad", "lost"))
    sns.release.set()
    assert good.result(10) == "id-good"
    with pytest.raises(PublishRefusedError, match="refused"):
        bad.result(10)
    with pytest.raises(PublishRefusedError, match="neither success nor failure"):
        lost.result(10)


def test_an_error_of_the_call_reaches_every_message_of_the_batch(
    sns: StubSns, publisher: BatchingPublisher
) -> None:
    sns.fail_with = ConnectionError("the emulator is gone")
    sns.release.set()
    with pytest.raises(ConnectionError):
        publisher.publish("one", timeout=10)
    sns.fail_with = None
    assert publisher.publish("two", timeout=10) == "id-two"  # the publisher carries on
