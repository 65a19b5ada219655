"""SQS long polls in local mode's emulator (local/emulator_long_polls.py): a receive that waits
holds its own connection only, gets the message sent while it waits, and answers empty at the end
of its wait when nothing came, as SQS does."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from local.emulator import Emulator, start_emulator
from local.emulator_long_polls import found_nothing, long_poll_of
from tests.integration.test_moto_shortcuts import client

pytestmark = pytest.mark.xdist_group("e2e")


@pytest.fixture(autouse=True)
def one_request_at_a_time_in_the_emulator() -> None:
    """Not here: the requests go to the emulator's process, which takes them one at a time itself
    (the suite's lock would hold the second client behind the waiting one)."""


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    started = start_emulator()
    try:
        yield started
    finally:
        started.stop()


def receive_in_thread(sqs: Any, url: str, wait: int) -> tuple[threading.Thread, list[Any]]:
    got: list[Any] = []
    thread = threading.Thread(
        target=lambda: got.append(
            sqs.receive_message(QueueUrl=url, WaitTimeSeconds=wait).get("Messages", [])
        ),
        daemon=True,
    )
    thread.start()
    return thread, got


def test_a_waiting_receive_holds_only_its_connection_and_gets_what_is_sent_meanwhile(
    emulator: Emulator,
) -> None:
    waiting, other = client(emulator, "sqs"), client(emulator, "sqs")
    url = other.create_queue(QueueName="long-poll")["QueueUrl"]
    thread, got = receive_in_thread(waiting, url, wait=20)
    # Answered while the receive waits (moto's own wait would hold the only serving thread for 20 s).
    assert other.list_queues()["QueueUrls"] == [url]
    assert thread.is_alive()
    other.send_message(QueueUrl=url, MessageBody="hello")
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert [message["Body"] for message in got[0]] == ["hello"]
    assert other.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []) == []  # in flight


def test_a_receive_that_finds_nothing_answers_empty_after_its_wait(emulator: Emulator) -> None:
    sqs = client(emulator, "sqs")
    url = sqs.create_queue(QueueName="long-poll-empty")["QueueUrl"]
    thread, got = receive_in_thread(sqs, url, wait=1)
    thread.join(timeout=30)
    assert got == [[]]


def test_only_receives_that_ask_to_wait_are_parked() -> None:
    url = "http://127.0.0.1:1/000000000000/jobs"
    assert long_poll_of(
        "AmazonSQS.ReceiveMessage", b'{"QueueUrl": "%s", "WaitTimeSeconds": 3}' % url.encode()
    ) == (
        "jobs",
        b'{"QueueUrl": "%s", "WaitTimeSeconds": 0}' % url.encode(),
        3.0,
    )
    assert long_poll_of("AmazonSQS.ReceiveMessage", b'{"QueueUrl": "x", "WaitTimeSeconds": 0}') is None
    assert (
        long_poll_of("AmazonSQS.ReceiveMessage", b'{"QueueUrl": "x", "WaitTimeSeconds": 21}') is None
    )  # moto refuses it
    assert long_poll_of("AmazonSQS.SendMessage", b'{"QueueUrl": "x", "WaitTimeSeconds": 3}') is None
    assert found_nothing(b"HTTP/1.1 200 OK\r\nContent-Type: x\r\n\r\n{}")
    assert not found_nothing(b'HTTP/1.1 200 OK\r\n\r\n{"Messages": [{"Body": "b"}]}')
    assert not found_nothing(b"HTTP/1.1 400 Bad Request\r\n\r\n{}")
