"""Publishing SES events to the local SNS topic, several per request.

Everything local mode publishes (the events posted to ``/local/ses-events`` and those of the SES
simulator) goes through one publisher thread that sends whatever is waiting in one
``PublishBatch`` (up to 10 messages, 256 KB in all, SNS's limits) as soon as the previous batch is
answered: a group commit, with no waiting for a batch to fill. The emulator serves one request at a
time, so one request for several messages instead of one each is what lets the events posted by
concurrent clients through faster. Each message still becomes its own SNS notification, with its
own message id and signature, exactly as ``Publish`` makes it.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from typing import Any

log = logging.getLogger("local.topic")

MAX_BATCH_ENTRIES = 10  # SNS PublishBatch
MAX_BATCH_BYTES = 256 * 1024  # SNS: all the messages of one PublishBatch together


class PublishRefusedError(Exception):
    """SNS did not take a message (it answered the batch with a failure for it)."""


class BatchingPublisher:
    def __init__(self, sns: Any, topic_arn: str) -> None:
        self._sns = sns
        self._topic_arn = topic_arn
        self._pending: queue.Queue[tuple[str, Future[str]] | None] = queue.Queue()
        self._carried: tuple[str, Future[str]] | None = None  # did not fit in the last batch
        self._thread = threading.Thread(target=self._run, name="topic-publisher", daemon=True)
        self._thread.start()

    def submit(self, message: str) -> Future[str]:
        """Queue a message; the future holds its SNS message id once published."""
        future: Future[str] = Future()
        self._pending.put((message, future))
        return future

    def publish(self, message: str, timeout: float = 60.0) -> str:
        """Publish a message and wait for it: its SNS message id (raises what the publish raised)."""
        return self.submit(message).result(timeout=timeout)

    def stop(self, timeout: float = 2.0) -> None:
        self._pending.put(None)
        self._thread.join(timeout=timeout)

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            try:
                self._send(batch)
            except Exception as error:  # the emulator refused or is gone: each waiter learns it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)

    def _next_batch(self) -> list[tuple[str, Future[str]]] | None:
        """The first message (waiting for one), then whatever else is already waiting, within limits."""
        first = self._carried or self._pending.get()
        self._carried = None
        if first is None:
            return None
        batch, size = [first], len(first[0].encode("utf-8"))
        while len(batch) < MAX_BATCH_ENTRIES:
            try:
                entry = self._pending.get_nowait()
            except queue.Empty:
                break
            if entry is None:
                self._pending.put(None)  # stop after this batch
                break
            entry_size = len(entry[0].encode("utf-8"))
            if size + entry_size > MAX_BATCH_BYTES:
                self._carried = entry
                break
            batch.append(entry)
            size += entry_size
        return batch

    def _send(self, batch: list[tuple[str, Future[str]]]) -> None:
        answer = self._sns.publish_batch(
            TopicArn=self._topic_arn,
            PublishBatchRequestEntries=[{"Id": str(n), "Message": m} for n, (m, _) in enumerate(batch)],
        )
        published = {entry["Id"]: entry["MessageId"] for entry in answer.get("Successful", [])}
        refused = {entry["Id"]: entry for entry in answer.get("Failed", [])}
        for n, (_, future) in enumerate(batch):
            if str(n) in published:
                future.set_result(published[str(n)])
            else:
                reason = refused.get(str(n), {}).get("Message") or "SNS answered neither success nor failure"
                future.set_exception(PublishRefusedError(reason))
