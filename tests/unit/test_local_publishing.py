"""Local mode publishes SES events to the topic in batches (local/publisher.py, the SES
simulator's drain): every message once, in order, within PublishBatch's limits."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from local.publisher import MAX_BATCH, MAX_BATCH_BYTES, BatchingPublisher, PublishRefusedError, _chunks
from local.ses_simulator import SimulatedSes


class FakeSns:
    """PublishBatch as SNS answers it; ``refuse`` names messages it fails."""

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.batches: list[list[str]] = []
        self.refuse = refuse
        self._lock = threading.Lock()

    def publish_batch(self, **request: Any) -> dict[str, Any]:
        entries: list[dict[str, str]] = request["PublishBatchRequestEntries"]
        messages = [entry["Message"] for entry in entries]
        assert len(messages) <= MAX_BATCH
        assert sum(len(m.encode()) for m in messages) <= MAX_BATCH_BYTES or len(messages) == 1
        with self._lock:
            self.batches.append(messages)
        ok = [e for e in entries if e["Message"] not in self.refuse]
        failed = [e for e in entries if e["Message"] in self.refuse]
        return {
            "Successful": [{"Id": e["Id"], "MessageId": f"id-{e['Message']}"} for e in reversed(ok)],
            "Failed": [{"Id": e["Id"], "Code": "InvalidParameter", "SenderFault": True} for e in failed],
        }


def test_concurrent_publishes_share_batches_and_each_gets_its_own_id() -> None:
    sns = FakeSns()
    publisher = BatchingPublisher(sns, "arn:topic", linger_seconds=0.05)
    messages = [f"m{i}" for i in range(24)]
    with ThreadPoolExecutor(max_workers=24) as pool:
        ids = list(pool.map(publisher.publish, messages))
    assert ids == [f"id-{m}" for m in messages]
    published = [m for batch in sns.batches for m in batch]
    assert sorted(published) == sorted(messages)  # each once
    assert len(sns.batches) < len(messages)


def test_a_lone_publish_is_published_alone() -> None:
    sns = FakeSns()
    assert BatchingPublisher(sns, "arn:topic", linger_seconds=0).publish("only") == "id-only"
    assert sns.batches == [["only"]]


def test_a_refused_message_is_an_error_for_its_caller() -> None:
    publisher = BatchingPublisher(FakeSns(refuse=frozenset({"bad"})), "arn:topic", linger_seconds=0)
    with pytest.raises(PublishRefusedError):
        publisher.publish("bad")
    assert publisher.publish("good") == "id-good"  # the publisher goes on


def test_batches_keep_the_order_within_ten_entries_and_256_kb() -> None:
    big = "x" * (200 * 1024)
    messages = [f"m{i}" for i in range(12)] + [big, big, "tail"]
    chunks = _chunks(messages)
    assert [m for chunk in chunks for m in chunk] == messages
    assert [len(c) for c in chunks] == [10, 3, 2]  # 10 entries; then 2 small + one big; big + tail
    sns = FakeSns()
    ids = BatchingPublisher(sns, "arn:topic").publish_batch(messages)
    assert ids == [f"id-{m}" for m in messages]


class FakeSesClient:
    def send_email(self, **_: Any) -> dict[str, str]:
        return {"MessageId": "ses-1"}


def test_the_simulator_publishes_events_already_due_together_in_their_order() -> None:
    published: list[list[str]] = []
    queued, done = threading.Event(), threading.Event()

    def publish(batch: list[str]) -> None:
        queued.wait(5)  # the first batch goes out once every event is queued
        published.append(batch)
        if sum(len(b) for b in published) == 6:
            done.set()

    ses = SimulatedSes(FakeSesClient(), publish=publish, delay_seconds=0)
    for address in ("complaint@simulator.amazonses.com", "ooto@simulator.amazonses.com"):
        ses.send_email(
            FromEmailAddress="noreply@example.com",
            Destination={"ToAddresses": [address]},
            Content={"Simple": {"Subject": {"Data": "Hi"}, "Body": {"Text": {"Data": "x"}}}},
        )
    queued.set()
    assert done.wait(5)
    kinds = [json.loads(m)["eventType"] for batch in published for m in batch]
    assert kinds == ["Send", "Delivery", "Complaint", "Send", "Delivery", "Bounce"]
    assert len(published) <= 2  # whatever the first batch took, the rest went out together


class SlowSns(FakeSns):
    """PublishBatch that waits until ``go`` is set, or fails while ``down``."""

    def __init__(self) -> None:
        super().__init__()
        self.go = threading.Event()
        self.down = False

    def publish_batch(self, **request: Any) -> dict[str, Any]:
        self.go.wait(5)
        if self.down:
            raise ConnectionError("the emulator is not answering")
        return super().publish_batch(**request)


def published(sns: FakeSns, count: int) -> list[str]:
    deadline = time.monotonic() + 5
    while sum(len(b) for b in sns.batches) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return [m for batch in sns.batches for m in batch]


def test_a_submitted_message_is_buffered_at_once_and_published_once_in_batches_in_order() -> None:
    sns = SlowSns()
    publisher = BatchingPublisher(sns, "arn:topic", linger_seconds=0)
    messages = [f"m{i}" for i in range(25)]
    for message in messages:
        publisher.submit(message)  # returns while the topic has published nothing
    assert sns.batches == []
    sns.go.set()
    # Two threads drain the buffer: each batch in the order submitted, the batches in any order.
    assert sorted(published(sns, 25), key=messages.index) == messages
    assert all(len(batch) <= MAX_BATCH for batch in sns.batches)
    assert all(batch == sorted(batch, key=messages.index) for batch in sns.batches)
    assert len(sns.batches) <= 5  # what waited went out together (the first two may have gone alone)


def test_while_the_topic_refuses_batches_a_submit_waits_for_its_own_and_raises_its_error() -> None:
    sns = SlowSns()
    sns.go.set()
    sns.down = True
    publisher = BatchingPublisher(sns, "arn:topic", linger_seconds=0)
    publisher.submit("lost")  # buffered: its batch fails later (logged)
    deadline = time.monotonic() + 5
    while True:  # once the failure is known, a submit learns the outcome of its own batch
        try:
            publisher.submit("probe")
        except ConnectionError:
            break
        assert time.monotonic() < deadline
        time.sleep(0.01)
    sns.down = False
    publisher.submit("back")  # goes through: the topic is taking batches again
    publisher.submit("buffered")
    assert sorted(published(sns, 2)[-2:]) == ["back", "buffered"]
