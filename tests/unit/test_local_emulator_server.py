"""The emulator's one-thread HTTP front (local/emulator_server.py): what an SDK client sends is
answered with the WSGI app's answer, whatever the pieces it arrives in, and anything else is
answered with an error before the connection closes (never a hang or a silent close)."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from local.emulator_server import EmulatorServer


def echo_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Answers with what it was asked: method, path, query, body, and the headers it saw."""
    body = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"] or 0))
    answer = {
        "method": environ["REQUEST_METHOD"],
        "path": environ["PATH_INFO"],
        "query": environ["QUERY_STRING"],
        "body": body.decode(),
        "type": environ["CONTENT_TYPE"],
        "target": environ.get("HTTP_X_AMZ_TARGET"),
        "repeated": environ.get("HTTP_X_REPEATED"),
    }
    payload = json.dumps(answer).encode()
    start_response("201 Created", [("Content-Type", "application/json"), ("Connection", "keep-alive")])
    return [payload]


@pytest.fixture
def server() -> Iterator[tuple[str, int]]:
    served = EmulatorServer(("127.0.0.1", 0), echo_app)
    thread = threading.Thread(target=served.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", int(served.server_address[1])
    finally:
        served.shutdown()
        thread.join(timeout=5)
        served.server_close()


def raw_exchange(address: tuple[str, int], pieces: list[bytes]) -> bytes:
    """Send ``pieces`` one by one, then read until the server closes the connection."""
    with socket.create_connection(address, timeout=5) as sock:
        for piece in pieces:
            sock.sendall(piece)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


def test_requests_on_one_kept_alive_connection_get_the_apps_answers(server: tuple[str, int]) -> None:
    connection = http.client.HTTPConnection(*server, timeout=5)
    for n in range(3):
        body = json.dumps({"n": n})
        connection.request(
            "POST",
            f"/a%20path?x={n}",
            body=body,
            headers={
                "X-Amz-Target": "DynamoDB_20120810.PutItem",
                "Content-Type": "application/x-amz-json-1.0",
            },
        )
        response = connection.getresponse()
        answer = json.loads(response.read())
        assert response.status == 201
        assert response.getheader("Connection") is None  # hop-by-hop: the server's own, not the app's
        assert answer == {
            "method": "POST",
            "path": "/a path",
            "query": f"x={n}",
            "body": body,
            "type": "application/x-amz-json-1.0",
            "target": "DynamoDB_20120810.PutItem",
            "repeated": None,
        }
    connection.close()


def test_a_request_in_pieces_and_pipelined_requests_are_each_answered(server: tuple[str, int]) -> None:
    one = b"POST /one HTTP/1.1\r\nHost: x\r\nX-Repeated: a\r\nX-Repeated: b\r\nContent-Length: 5\r\n\r\nhello"
    two = b"GET /two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    pieces = [one[i : i + 7] for i in range(0, len(one), 7)] + [two]
    received = raw_exchange(server, pieces)
    answers = [json.loads(part.split(b"\r\n\r\n", 1)[1]) for part in received.split(b"HTTP/1.1 ")[1:]]
    assert [(a["path"], a["body"], a["repeated"]) for a in answers] == [
        ("/one", "hello", "a,b"),
        ("/two", "", None),
    ]
    assert received.count(b"Connection: close") == 1  # the second asked for it


def test_a_client_that_expects_100_continue_is_told_to_go_on(server: tuple[str, int]) -> None:
    head = b"PUT /object HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\nConnection: close\r\n\r\n"
    with socket.create_connection(server, timeout=5) as sock:
        sock.sendall(head)
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"data")
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received.startswith(b"HTTP/1.1 201 Created\r\n")
    assert json.loads(received.split(b"\r\n\r\n", 1)[1])["body"] == "data"


def test_a_head_request_gets_the_headers_of_the_answer_without_its_body(server: tuple[str, int]) -> None:
    received = raw_exchange(server, [b"HEAD /thing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"])
    head, _, body = received.partition(b"\r\n\r\n")
    assert body == b""
    assert b"Content-Length: " in head
    assert b"Content-Length: 0" not in head


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 411),
        (b"POST / HTTP/1.1\r\nContent-Length: many\r\n\r\n", 400),
        (b"NONSENSE\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nX-Big: " + b"x" * 70_000, 431),
    ],
)
def test_what_it_cannot_serve_is_answered_with_an_error_then_closed(
    server: tuple[str, int], request_bytes: bytes, status: int
) -> None:
    received = raw_exchange(server, [request_bytes])
    assert received.startswith(f"HTTP/1.1 {status} ".encode())
    assert b"Connection: close" in received


def test_an_app_that_raises_is_a_500_and_the_server_goes_on() -> None:
    calls = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        calls.append(environ["PATH_INFO"])
        if environ["PATH_INFO"] == "/broken":
            raise RuntimeError("the app broke")
        start_response("200 OK", [])
        return [b"fine"]

    served = EmulatorServer(("127.0.0.1", 0), app)
    threading.Thread(target=served.serve_forever, daemon=True).start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", served.server_address[1], timeout=5)
        connection.request("GET", "/broken")
        broken = connection.getresponse()
        assert broken.status == 500
        broken.read()
        connection.request("GET", "/fine")  # the same connection: it stays open
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, b"fine")
        assert calls == ["/broken", "/fine"]
        connection.close()
    finally:
        served.shutdown()
        served.server_close()


def test_the_tally_counts_each_answered_request_under_its_operation(server: tuple[str, int]) -> None:
    connection = http.client.HTTPConnection(*server, timeout=5)
    requests = [
        ({"X-Amz-Target": "DynamoDB_20120810.UpdateItem"}, "/", b"{}"),
        ({"X-Amz-Target": "DynamoDB_20120810.UpdateItem"}, "/", b"{}"),
        ({"X-Amz-Target": "AmazonSQS.ReceiveMessage"}, "/", b"{}"),
        ({"Content-Type": "application/x-www-form-urlencoded"}, "/", b"Action=PublishBatch&TopicArn=x"),
        ({}, "/v2/email/outbound-emails?x=1", b"{}"),
    ]
    for headers, path, body in requests:
        connection.request("POST", path, body=body, headers=headers)
        connection.getresponse().read()
    connection.request("GET", "/_local/tally")
    tally = json.loads(connection.getresponse().read())
    assert {op: entry["requests"] for op, entry in tally.items()} == {
        "DynamoDB.UpdateItem": 2,
        "SQS.ReceiveMessage": 1,
        "Query.PublishBatch": 1,
        "POST /v2/email/outbound-emails": 1,
    }
    assert all(entry["cpu_seconds"] >= 0 for entry in tally.values())
