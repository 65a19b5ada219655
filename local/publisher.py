"""Publishing SES events to the topic in batches, for local mode's gateway and SES simulator.

Every SES event reaches the ingest queue through the topic, as in AWS. One ``Publish`` per event
made the topic the costliest hop under load: each request pays the SDK's and the emulator's
fixed cost (serialising, HTTP, moto's dispatch) for one message. ``PublishBatch`` carries up to
ten messages, and moto publishes each entry exactly as a ``Publish`` (the same notification in
the queue).

The gateway hands its events to ``submit``, which returns once the event is in the buffer: SES
publishes its events to the topic asynchronously too, and a poster that waited for the topic
waited for every request ahead of its batch at the emulator (a post took ~25 ms under load; the
client's posts, not local mode, set the pace). Two threads drain the buffer in batches (one
batch's request waits for the emulator while the other's is built; SNS does not keep the order of
separate publishes either): whatever arrived while a batch was in flight, or within a few
milliseconds of the first, goes out in the next batch. The buffer is bounded (a poster faster than the topic waits for room), and what it
holds lives in memory like everything local mode keeps: Ctrl+C ends it with the rest. Should the
topic refuse a batch (the emulator unreachable), the error is logged, and the posts that follow
are answered with it until a batch goes through again.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("local.publisher")

MAX_BATCH = 10  # SNS PublishBatch's limits: entries, and bytes of all the messages together
MAX_BATCH_BYTES = 256 * 1024
LINGER_SECONDS = 0.004
BUFFERED = 2000  # events submitted and not yet published, at most (~10 s of load: a few MB)
SUBMIT_TIMEOUT_SECONDS = 60.0  # a submit waits this long for room in a full buffer
DRAINING_THREADS = 2  # one drained at ~50 ms a batch under load: the topic was the slowest hop


class PublishRefusedError(Exception):
    """The topic refused one message of a batch."""


@dataclass
class _Pending:
    message: str
    done: threading.Event | None = field(default_factory=threading.Event)  # None: nobody waits
    message_id: str | None = None
    error: BaseException | None = None


class BatchingPublisher:
    def __init__(self, sns: Any, topic_arn: str, linger_seconds: float = LINGER_SECONDS) -> None:
        self.linger_seconds = linger_seconds
        self._sns = sns
        self._topic_arn = topic_arn
        self._waiting: queue.Queue[_Pending] = queue.Queue(maxsize=BUFFERED)
        self._failing: BaseException | None = None  # the last batch's error, until one goes through
        self._threads = [
            threading.Thread(target=self._run, name=f"sns-publisher-{n}", daemon=True)
            for n in range(DRAINING_THREADS)
        ]
        for thread in self._threads:
            thread.start()

    def publish_batch(self, messages: Sequence[str]) -> list[str]:
        """Publish ``messages`` in order, in as few requests as the limit allows: their ids."""
        ids: list[str] = []
        for chunk in _chunks(messages):
            answer = self._sns.publish_batch(
                TopicArn=self._topic_arn,
                PublishBatchRequestEntries=[
                    {"Id": str(index), "Message": message} for index, message in enumerate(chunk)
                ],
            )
            if answer.get("Failed"):
                raise PublishRefusedError(str(answer["Failed"]))
            by_entry = {entry["Id"]: str(entry["MessageId"]) for entry in answer.get("Successful", [])}
            ids += [by_entry[str(index)] for index in range(len(chunk))]
        return ids

    def submit(self, message: str) -> None:
        """Buffer one message for the next batch (from any thread); it returns before the topic
        has it. While the topic refuses batches, it waits for its message's batch instead, and
        raises its error (the gateway: a 502): a poster learns that its event went nowhere."""
        if self._failing is not None:
            self.publish(message)
            return
        try:
            self._waiting.put(_Pending(message, done=None), timeout=SUBMIT_TIMEOUT_SECONDS)
        except queue.Full:
            raise PublishRefusedError(
                f"the topic took nothing for {SUBMIT_TIMEOUT_SECONDS:.0f} s: {BUFFERED} events wait"
            ) from None

    def publish(self, message: str) -> str:
        """Publish one message and wait for its id (from any thread, sharing a batch with the others)."""
        pending = _Pending(message)
        assert pending.done is not None
        self._waiting.put(pending)
        pending.done.wait()
        if pending.error is not None:
            raise pending.error
        assert pending.message_id is not None
        return pending.message_id

    def _run(self) -> None:
        while True:
            batch = [self._waiting.get()]
            if self._waiting.qsize() < MAX_BATCH - 1:
                # A moment for the requests arriving together to join (a few ms on a request
                # that takes a few ms anyway): concurrent posters then share one request.
                time.sleep(self.linger_seconds)
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._waiting.get_nowait())
                except queue.Empty:
                    break
            try:
                ids = self.publish_batch([pending.message for pending in batch])
                for pending, message_id in zip(batch, ids, strict=True):
                    pending.message_id = message_id
                self._failing = None
            except Exception as error:  # each waiting request answers it (the gateway: a 502)
                for pending in batch:
                    pending.error = error
                self._failing = error
                unanswered = sum(1 for pending in batch if pending.done is None)
                if unanswered:
                    log.error("the topic refused %d submitted SES events: %s", unanswered, error)
            for pending in batch:
                if pending.done is not None:
                    pending.done.set()


def _chunks(messages: Sequence[str]) -> list[list[str]]:
    """``messages`` in order, in batches within PublishBatch's limits (a message alone may use all)."""
    chunks: list[list[str]] = []
    size = 0
    for message in messages:
        length = len(message.encode("utf-8"))
        if not chunks or len(chunks[-1]) == MAX_BATCH or size + length > MAX_BATCH_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(message)
        size += length
    return chunks
