"""Local mode's SQS pollers (local/pollers.py) hand every message to the handler once, delete
what it handled, and gather the next batch while the handler runs, never more than one ahead."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from local.pollers import QueuePoller


class FakeSqs:
    """ReceiveMessage and DeleteMessageBatch over a list, with in-flight messages set aside."""

    def __init__(self, count: int) -> None:
        self.visible = [
            {"MessageId": f"m{i}", "ReceiptHandle": f"h{i}", "Body": str(i)} for i in range(count)
        ]
        self.in_flight: dict[str, dict[str, Any]] = {}
        self.deleted: list[str] = []
        self.most_in_flight = 0
        self.lock = threading.Lock()

    def get_queue_attributes(self, **_: Any) -> dict[str, Any]:
        return {"Attributes": {"QueueArn": "arn:aws:sqs:us-east-1:000000000000:q"}}

    def receive_message(self, MaxNumberOfMessages: int, **_: Any) -> dict[str, Any]:  # noqa: N803 - the SDK's name
        with self.lock:
            taken, self.visible = self.visible[:MaxNumberOfMessages], self.visible[MaxNumberOfMessages:]
            self.in_flight.update({m["ReceiptHandle"]: m for m in taken})
            self.most_in_flight = max(self.most_in_flight, len(self.in_flight))
        return {"Messages": taken}

    def delete_message_batch(self, Entries: list[dict[str, str]], **_: Any) -> dict[str, Any]:  # noqa: N803
        with self.lock:
            for entry in Entries:
                self.deleted.append(self.in_flight.pop(entry["ReceiptHandle"])["MessageId"])
        return {"Successful": [{"Id": entry["Id"]} for entry in Entries]}


def wait_for(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 5
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def poller(handler: Callable[[dict[str, Any], Any], Any], sqs: FakeSqs) -> QueuePoller:
    started = QueuePoller("test", "http://queue", handler, batch_size=10, batching_window_seconds=0)
    started.start(client=sqs)
    return started


def test_every_message_reaches_the_handler_once_and_the_handled_ones_are_deleted() -> None:
    sqs = FakeSqs(25)
    seen: list[str] = []

    def handler(event: dict[str, Any], _: Any) -> dict[str, Any]:
        ids = [record["messageId"] for record in event["Records"]]
        seen.extend(ids)
        return {"batchItemFailures": [{"itemIdentifier": i} for i in ids if i == "m7"]}

    running = poller(handler, sqs)
    try:
        wait_for(lambda: len(sqs.deleted) == 24)
    finally:
        running.stop()
    assert sorted(seen) == sorted(f"m{i}" for i in range(25))
    assert "m7" not in sqs.deleted  # reported failed: left to reappear after its visibility timeout
    assert list(sqs.in_flight) == ["h7"]


def test_the_next_batch_is_gathered_while_the_handler_runs_and_no_more() -> None:
    sqs = FakeSqs(50)
    release = threading.Event()
    batches: list[int] = []

    def handler(event: dict[str, Any], _: Any) -> None:
        batches.append(len(event["Records"]))
        release.wait(5)

    running = poller(handler, sqs)
    try:
        wait_for(lambda: len(sqs.in_flight) == 20)  # the batch in the handler, and the next
        time.sleep(0.3)  # long enough for a third receive, were one allowed
        assert sqs.most_in_flight == 20
        release.set()
        wait_for(lambda: len(sqs.deleted) == 50)
    finally:
        release.set()
        running.stop()
    assert batches == [10] * 5


def test_with_a_concurrency_of_two_two_batches_are_handled_at_once_and_one_gathered_ahead() -> None:
    sqs = FakeSqs(60)
    release = threading.Event()
    lock = threading.Lock()
    running_now: list[int] = [0, 0]  # handlers running now, most at once

    def handler(event: dict[str, Any], _: Any) -> None:
        with lock:
            running_now[0] += 1
            running_now[1] = max(running_now[1], running_now[0])
        release.wait(5)
        with lock:
            running_now[0] -= 1

    started = QueuePoller(
        "test", "http://queue", handler, batch_size=10, batching_window_seconds=0, concurrency=2
    )
    started.start(client=sqs)
    try:
        wait_for(lambda: len(sqs.in_flight) == 30)  # two batches in handlers, and the next
        time.sleep(0.3)  # long enough for a fourth receive, were one allowed
        assert sqs.most_in_flight == 30
        assert running_now[1] == 2
        release.set()
        wait_for(lambda: len(sqs.deleted) == 60)
    finally:
        release.set()
        started.stop()
    assert sorted(sqs.deleted) == sorted(f"m{i}" for i in range(60))
    assert started.invocations == 6
