"""Invoke the Lambda handlers the way the SQS event source mapping does.

Each poller gathers up to ``batch_size`` messages (several ReceiveMessage calls within a short
batching window), hands the handler a Lambda-shaped SQS event, deletes the records the handler
did not report in ``batchItemFailures``, and leaves the failed ones to reappear after the queue's
visibility timeout; the queue's redrive policy moves them to the DLQ after the same maximum
receive count as in AWS.

A batch starts with a long poll (``POLL_WAIT_SECONDS``; the emulator parks it without holding
anything, ``local.emulator_long_polls``), as Lambda's pollers long-poll: an idle queue costs one
receive a second, not five, and a message is picked up when it arrives, not after a sleep.

As Lambda's pollers gather batches apart from the function's invocations, one thread gathers the
next batch while another invokes the handler with the current one (one batch ahead at most):
the emulator serves the receives while local mode runs the handler, instead of each waiting for
the other.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from local.emulator import REGION
from local.lambda_runtime import LambdaContext, sqs_lambda_record_of

log = logging.getLogger("local.pollers")

Handler = Callable[[dict[str, Any], Any], Any]
# A batch's first receive waits this long for a message (SQS counts whole seconds); short, so that
# a stop never waits long for a poll to return.
POLL_WAIT_SECONDS = 1


@dataclass
class QueuePoller:
    name: str
    queue_url: str
    handler: Handler
    batch_size: int = 100
    batching_window_seconds: float = 0.3
    idle_sleep_seconds: float = 0.2
    # Batches handled at once, as the mapping's maximum concurrency lets Lambda run several.
    concurrency: int = 1
    invocations: int = 0
    failures: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    # A gathered batch waiting for the handler, and the right to gather one more.
    _ready: queue.Queue[list[dict[str, Any]]] = field(default_factory=lambda: queue.Queue(maxsize=1))
    _ahead: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(1))
    _idle: threading.Event = field(default_factory=threading.Event)  # an invoker waits for a batch
    _waiting: int = 0  # invokers waiting for a batch
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, client: Any | None = None) -> None:
        self._client = client or boto3.client("sqs", region_name=REGION)
        self._queue_arn = self._client.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        self._threads = [
            threading.Thread(target=self._gather, name=f"poller-{self.name}", daemon=True),
            *(
                threading.Thread(target=self._run, name=f"invoker-{self.name}-{n}", daemon=True)
                for n in range(self.concurrency)
            ),
        ]
        for thread in self._threads:
            thread.start()

    def request_stop(self) -> None:
        """Take no further batch; the one in flight finishes (one gathered and not yet handed
        over stays in flight in the queue, to be delivered again after its visibility timeout)."""
        self._stop.set()

    def stop(self, timeout: float = 3.0) -> None:
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def _receive(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + self.batching_window_seconds
        while len(messages) < self.batch_size and not self._stop.is_set():
            got: list[Any] = self._client.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(10, self.batch_size - len(messages)),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                # The batch's first receive waits for a message; the window's, not at all.
                WaitTimeSeconds=0 if messages else POLL_WAIT_SECONDS,
            ).get("Messages", [])
            messages.extend(got)
            late = time.monotonic() > deadline
            # Past its window a batch goes to the handler, unless the handler is still busy with
            # the one before: it could not take it, and it may as well fill up meanwhile.
            if not messages or (late and self._idle.is_set()):
                break
            if not got:
                # As Lambda's batching window does, a started batch waits for more messages (to
                # its size or the window's end, then one more poll): under load a batch carries
                # more events per recipient write, and at most one poll per batch comes back empty.
                if late:
                    self._idle.wait(self.idle_sleep_seconds)
                else:
                    self._stop.wait(max(0.0, deadline - time.monotonic()))
        return messages

    def _gather(self) -> None:
        """Gather batches, one ahead of the handler at most."""
        while not self._stop.is_set():
            if not self._ahead.acquire(timeout=0.2):
                continue  # the handler has not taken the last one yet
            asked = time.monotonic()
            try:
                messages = self._receive()
            except Exception:  # a poller must survive anything the emulator does
                log.exception("poller %s could not receive; retrying", self.name)
                self._ahead.release()
                self._stop.wait(1.0)
                continue
            if messages:
                self._ready.put(messages)
            else:
                self._ahead.release()
                # The long poll waited; a client that does not wait (no long polls) is not
                # asked again at once.
                self._stop.wait(max(0.0, self.idle_sleep_seconds - (time.monotonic() - asked)))

    def _count_waiting(self, change: int) -> None:
        with self._lock:
            self._waiting += change
            if self._waiting:
                self._idle.set()
            else:
                self._idle.clear()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._count_waiting(1)
            try:
                messages = self._ready.get(timeout=0.2)
            except queue.Empty:
                continue
            finally:
                self._count_waiting(-1)
            self._ahead.release()  # the next batch may be gathered while this one is handled
            try:
                self._invoke(messages)
            except Exception:  # a poller must survive anything a handler or the emulator does
                log.exception("poller %s failed; retrying", self.name)
                self._stop.wait(1.0)

    def _invoke(self, messages: list[dict[str, Any]]) -> None:
        event = {"Records": [sqs_lambda_record_of(m, self._queue_arn) for m in messages]}
        with self._lock:
            self.invocations += 1
        try:
            response = self.handler(event, LambdaContext(function_name=f"local-{self.name}"))
            failed = {f["itemIdentifier"] for f in (response or {}).get("batchItemFailures", [])}
        except Exception:
            log.exception("%s handler raised: the whole batch will be retried", self.name)
            failed = {m["MessageId"] for m in messages}
        with self._lock:
            self.failures += len(failed)
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self._client.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(done[start : start + 10])
                ],
            )
