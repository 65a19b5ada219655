"""``one_attribute_per_send`` (local/moto_queue_shortcuts.py) against plain moto: sends to FIFO
queues with and without content-based de-duplication, and to a standard queue, are accepted,
refused and de-duplicated the same, and the queues hold and describe the same messages."""

from __future__ import annotations

import functools
from typing import Any

from tests.integration.test_moto_shortcuts import answer, client, emulators

__all__ = ["emulators"]  # the module's fixture: both emulators, started once


def queue_script(sqs: Any) -> list[Any]:
    log: list[Any] = []
    urls = {
        "deduplicated.fifo": {"FifoQueue": "true", "ContentBasedDeduplication": "true"},
        "by-id.fifo": {"FifoQueue": "true"},
        "standard": {},
    }
    for name, attributes in urls.items():
        urls[name] = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    sends: list[tuple[str, dict[str, Any]]] = [
        ("deduplicated.fifo", {"MessageBody": "one", "MessageGroupId": "g"}),
        ("deduplicated.fifo", {"MessageBody": "one", "MessageGroupId": "g"}),  # a duplicate
        ("deduplicated.fifo", {"MessageBody": "two", "MessageGroupId": "g", "MessageDeduplicationId": "d"}),
        ("by-id.fifo", {"MessageBody": "one", "MessageGroupId": "g"}),  # no id, no content rule: refused
        ("by-id.fifo", {"MessageBody": "one", "MessageGroupId": "g", "MessageDeduplicationId": "d"}),
        ("by-id.fifo", {"MessageBody": "other", "MessageGroupId": "g", "MessageDeduplicationId": "d"}),
        ("standard", {"MessageBody": "one"}),
        ("standard", {"MessageBody": "one", "DelaySeconds": 1}),
        ("standard", {"MessageBody": "one", "MessageGroupId": "g"}),
    ]
    for name, send in sends:
        log.append(answer(functools.partial(sqs.send_message, QueueUrl=urls[name], **send)))
    for url in urls.values():
        log.append(answer(functools.partial(sqs.get_queue_attributes, QueueUrl=url, AttributeNames=["All"])))
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
        log.append(sorted(m["Body"] for m in received.get("Messages", [])))
    return log


def test_sends_are_accepted_refused_and_deduplicated_the_same_with_the_shortcuts(emulators: Any) -> None:
    plain, fast = (queue_script(client(emulators[name], "sqs")) for name in ("plain", "shortcuts"))
    for step, (expected, got) in enumerate(zip(plain, fast, strict=True)):
        assert got == expected, f"request {step} answered differently"
    assert plain[3].get("error")  # the refused send is exercised
    assert plain[-5] == ["one", "two"]  # the duplicate dropped
