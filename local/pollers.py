"""Invoke the Lambda handlers the way the SQS event source mapping does.

Each poller gathers up to ``batch_size`` messages (several ReceiveMessage calls within a short
batching window), hands the handler a Lambda-shaped SQS event, deletes the records the handler
did not report in ``batchItemFailures``, and leaves the failed ones to reappear after the queue's
visibility timeout; the queue's redrive policy moves them to the DLQ after the same maximum
receive count as in AWS.
"""

from __future__ import annotations

import logging
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


@dataclass
class QueuePoller:
    name: str
    queue_url: str
    handler: Handler
    batch_size: int = 100
    batching_window_seconds: float = 0.3
    idle_sleep_seconds: float = 0.2
    invocations: int = 0
    failures: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._client = boto3.client("sqs", region_name=REGION)
        self._queue_arn = self._client.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        self._thread = threading.Thread(target=self._run, name=f"poller-{self.name}", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        """Take no further batch; the one in flight finishes."""
        self._stop.set()

    def stop(self, timeout: float = 3.0) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=timeout)

    def _receive(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + self.batching_window_seconds
        while len(messages) < self.batch_size and not self._stop.is_set():
            got: list[Any] = self._client.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(10, self.batch_size - len(messages)),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,  # the emulator serves one request at a time: never long-poll
            ).get("Messages", [])
            messages.extend(got)
            if not messages or time.monotonic() > deadline:
                break
            if not got:
                # As Lambda's batching window does, a started batch waits for more messages (to
                # its size or the window's end, then one more poll): under load a batch carries
                # more events per recipient write, and at most one poll per batch comes back empty.
                self._stop.wait(max(0.0, deadline - time.monotonic()))
        return messages

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                messages = self._receive()
                if not messages:
                    self._stop.wait(self.idle_sleep_seconds)
                    continue
                self._invoke(messages)
            except Exception:  # a poller must survive anything a handler or the emulator does
                log.exception("poller %s failed; retrying", self.name)
                self._stop.wait(1.0)

    def _invoke(self, messages: list[dict[str, Any]]) -> None:
        event = {"Records": [sqs_lambda_record_of(m, self._queue_arn) for m in messages]}
        self.invocations += 1
        try:
            response = self.handler(event, LambdaContext(function_name=f"local-{self.name}"))
            failed = {f["itemIdentifier"] for f in (response or {}).get("batchItemFailures", [])}
        except Exception:
            log.exception("%s handler raised: the whole batch will be retried", self.name)
            failed = {m["MessageId"] for m in messages}
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
