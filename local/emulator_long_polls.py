"""SQS long polls in the emulator's one serving thread, without holding it.

moto answers a ``ReceiveMessage`` with ``WaitTimeSeconds`` by sleeping in its own loop until a
message comes or the time is up: in the emulator, which serves one request at a time, that would
stop every other request (the sends that would end the wait included). So local mode's pollers
polled with ``WaitTimeSeconds=0`` and slept between empty polls: ~5 empty receives a second per
idle poller, each a full request for both processes, and up to a sleep's delay before a job or an
event was picked up.

Here the server asks moto with ``WaitTimeSeconds=0``; an empty answer is *parked* instead of sent,
and the request is asked again when its queue receives a message (moto's ``Queue.add_message``,
watched), every ``RETRY_SECONDS`` (a message whose visibility timeout or delay ran out arrives
without a send), and at its deadline, when whatever moto answers then is sent: empty, as SQS
answers a long poll that found nothing. A parked request holds its connection (an SDK client
waits for the answer before it sends the next request on it), not the server.
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

RECEIVE_TARGET = "AmazonSQS.ReceiveMessage"
RETRY_SECONDS = 1.0


@dataclass
class Parked:
    key: Any  # what the server answers to (its connection)
    queue: str
    retry: Callable[[bytes], bytes]  # the request asked again with the short body: the answer
    body: bytes  # the request's body with WaitTimeSeconds 0
    deadline: float
    due: float  # the next periodic retry


def long_poll_of(target: str | None, body: bytes) -> tuple[str, bytes, float] | None:
    """For a JSON-protocol ReceiveMessage that asks to wait: its queue's name, the body asking
    moto not to wait, and the seconds to wait. None for anything else."""
    if target != RECEIVE_TARGET or b"WaitTimeSeconds" not in body:
        return None
    try:
        request = json.loads(body)
        wait = float(request.get("WaitTimeSeconds") or 0)
        queue = str(request["QueueUrl"]).rstrip("/").rsplit("/", 1)[-1]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None  # moto answers it (with its error)
    if not 0 < wait <= 20:
        return None
    request["WaitTimeSeconds"] = 0
    return queue, json.dumps(request).encode(), wait


def found_nothing(answer: bytes) -> bool:
    """Whether a ReceiveMessage answer (HTTP status line, headers, JSON body) is a 200 without
    messages: the only answer a long poll waits after."""
    head, _, payload = answer.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        return False
    try:
        return not json.loads(payload or b"{}").get("Messages")
    except (ValueError, AttributeError):
        return False


class LongPolls:
    """The parked receives and the queues that received messages since they were last asked."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._parked: list[Parked] = []
        self.arrivals: set[str] = set()

    def park(self, key: Any, queue: str, retry: Callable[[bytes], bytes], body: bytes, wait: float) -> None:
        now = self._clock()
        self._parked.append(Parked(key, queue, retry, body, now + wait, now + min(wait, RETRY_SECONDS)))

    def forget(self, key: Any) -> None:
        """A parked request's connection is gone: nothing to answer."""
        self._parked = [parked for parked in self._parked if parked.key is not key]

    def seconds_to_next(self, longest: float) -> float:
        if not self._parked:
            return longest
        return max(0.0, min(longest, min(p.due for p in self._parked) - self._clock()))

    def ready(self) -> list[tuple[Any, bytes]]:
        """The parked requests to answer now, and their answers: those whose queue received a
        message and found it, and those at their deadline. The others wait on."""
        arrived, self.arrivals = self.arrivals, set()
        now = self._clock()
        parked, self._parked = self._parked, []
        answers = []
        for waiting in parked:
            if waiting.queue in arrived or now >= waiting.due:
                answer = waiting.retry(waiting.body)
                if not found_nothing(answer) or now >= waiting.deadline:
                    answers.append((waiting.key, answer))
                    continue
                waiting.due = min(waiting.deadline, now + RETRY_SECONDS)
            self._parked.append(waiting)
        return answers

    def __len__(self) -> int:
        return len(self._parked)


@contextmanager
def watched_queues(polls: LongPolls) -> Iterator[None]:
    """moto's SQS, telling ``polls`` the name of every queue a message is added to."""
    queue_class: Any = importlib.import_module("moto.sqs.models").Queue
    original = queue_class.add_message

    def add_message(queue: Any, message: Any) -> None:
        original(queue, message)
        polls.arrivals.add(queue.name)

    queue_class.add_message = add_message
    try:
        yield
    finally:
        queue_class.add_message = original
