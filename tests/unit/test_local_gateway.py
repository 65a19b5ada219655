"""The local gateway answers every request, with JSON, and never just closes the connection.

``Gateway.handle`` is tested directly, and the HTTP server in front of it over a real socket
(what a client sees: a status, JSON and an open connection), with a stand-in API handler and topic.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from local.emulator import free_port
from local.gateway import MAX_SNS_MESSAGE_BYTES, Gateway
from local.tokens import LocalTokens
from tests import ses_builders as b


class StubApi:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.fail = False

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        if self.fail:
            raise RuntimeError("the handler broke")
        self.events.append(event)
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": '{"ok": true}'}


class StubTopic:
    def __init__(self) -> None:
        self.messages: list[str] = []
        self.down = False

    def __call__(self, message: str) -> str:
        if self.down:
            raise ConnectionError("the emulator is not answering")
        self.messages.append(message)
        return f"message-{len(self.messages)}"


@pytest.fixture
def parts() -> tuple[Gateway, StubApi, StubTopic, str]:
    tokens = LocalTokens("test-secret-0123456789abcdef0123456789")
    api, topic = StubApi(), StubTopic()
    gateway = Gateway(api, tokens, topic)
    gateway.ready.set()
    return gateway, api, topic, f"Bearer {tokens.issue('acme')}"


@pytest.fixture
def served(parts: tuple[Gateway, StubApi, StubTopic, str]) -> Iterator[tuple[int, str]]:
    gateway, _, _, token = parts
    port = free_port()
    server = gateway.serve(port)
    try:
        yield port, token
    finally:
        server.shutdown()
        server.server_close()


def ses_event(size: int = 0) -> dict[str, Any]:
    event = b.delivery_event("0100018f-ses-id", "ana@example.com", tags=b.tags_for("acme", "m1", "r1"))
    if size:
        event["delivery"]["smtpResponse"] = "2" * size
    return event


def decoded(answer: tuple[int, dict[str, str], bytes]) -> tuple[int, dict[str, str], dict[str, Any]]:
    status, headers, payload = answer
    assert headers["Content-Type"] == "application/json"
    return status, headers, json.loads(payload)


def test_an_ses_event_is_published_as_posted(parts: tuple[Gateway, StubApi, StubTopic, str]) -> None:
    gateway, _, topic, token = parts
    event = ses_event()
    status, _, body = decoded(
        gateway.handle("POST", "/local/ses-events", {"Authorization": token}, json.dumps(event).encode(), "x")
    )
    assert (status, body) == (202, {"message_id": "message-1"})
    assert [json.loads(m) for m in topic.messages] == [event]


def test_an_ses_event_over_sns_message_limit_is_413(parts: tuple[Gateway, StubApi, StubTopic, str]) -> None:
    gateway, _, topic, token = parts
    body = json.dumps(ses_event(size=MAX_SNS_MESSAGE_BYTES)).encode()
    status, _, answer = decoded(
        gateway.handle("POST", "/local/ses-events", {"Authorization": token}, body, "x")
    )
    assert status == 413
    assert answer["error"]["code"] == "payload_too_large"
    assert topic.messages == []
    just_under = json.dumps(ses_event(size=MAX_SNS_MESSAGE_BYTES - 2_000)).encode()
    assert gateway.handle("POST", "/local/ses-events", {"Authorization": token}, just_under, "x")[0] == 202


@pytest.mark.parametrize("path", ["/local/token", "/local/ses-events"])
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "FOO"])
def test_local_routes_answer_other_methods_with_405_and_allow(
    parts: tuple[Gateway, StubApi, StubTopic, str], path: str, method: str
) -> None:
    gateway, api, _, token = parts
    status, headers, body = decoded(gateway.handle(method, path, {"Authorization": token}, b"", "x"))
    assert status == 405
    assert headers["Allow"] == "POST"
    assert body["error"]["code"] == "method_not_allowed"
    assert api.events == []


def test_a_body_that_is_not_utf8_is_400_before_the_api(
    parts: tuple[Gateway, StubApi, StubTopic, str],
) -> None:
    gateway, api, topic, token = parts
    latin1 = '{"subject": "caf\xe9"}'.encode("latin-1")
    status, _, body = decoded(gateway.handle("POST", "/messages", {"Authorization": token}, latin1, "x"))
    assert (status, body["error"]["code"]) == (400, "invalid_request")
    assert api.events == []
    status, _, body = decoded(
        gateway.handle("POST", "/local/ses-events", {"Authorization": token}, latin1, "x")
    )
    assert (status, body["error"]["code"]) == (400, "invalid_request")
    status, _, body = decoded(gateway.handle("POST", "/local/token", {}, b"\xff\xfe\x00", "x"))
    assert status == 400
    assert topic.messages == []


def test_a_failing_api_handler_is_a_json_500(parts: tuple[Gateway, StubApi, StubTopic, str]) -> None:
    gateway, api, _, token = parts
    api.fail = True
    status, _, body = decoded(gateway.handle("GET", "/messages", {"Authorization": token}, b"", "x"))
    assert (status, body["error"]["code"]) == (500, "internal_error")


def test_an_unreachable_topic_is_a_json_502(parts: tuple[Gateway, StubApi, StubTopic, str]) -> None:
    gateway, _, topic, token = parts
    topic.down = True
    body = json.dumps(ses_event()).encode()
    status, _, answer = decoded(
        gateway.handle("POST", "/local/ses-events", {"Authorization": token}, body, "x")
    )
    assert (status, answer["error"]["code"]) == (502, "bad_gateway")


def request(port: int, method: str, path: str, body: bytes, headers: dict[str, str]) -> Any:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, path, body=body, headers=headers)
    return connection, connection.getresponse()


def test_over_http_errors_are_json_and_the_connection_stays_open(served: tuple[int, str]) -> None:
    port, token = served
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Authorization": token, "Content-Type": "application/json"}
    for method, path, body, expected in [
        ("POST", "/messages", b"\xc3\x28 not utf-8", 400),
        ("FOO", "/local/ses-events", b"", 405),
        ("GET", "/local/token", b"", 405),
        ("POST", "/local/ses-events", json.dumps(ses_event(size=MAX_SNS_MESSAGE_BYTES)).encode(), 413),
        ("POST", "/local/ses-events", json.dumps(ses_event()).encode(), 202),
        ("GET", "/messages", b"", 200),
    ]:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        payload = json.loads(response.read())
        assert response.status == expected, (method, path, payload)
        assert response.getheader("Content-Type") == "application/json"
        if expected == 405:
            assert response.getheader("Allow") == "POST"
    connection.close()


def test_over_http_a_body_over_10_mb_is_413_without_reading_it(served: tuple[int, str]) -> None:
    port, token = served
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(
            f"POST /messages HTTP/1.1\r\nHost: x\r\nAuthorization: {token}\r\n"
            f"Content-Length: {11 * 1024 * 1024}\r\n\r\n".encode()
        )
        answer = b""
        while chunk := raw.recv(65536):
            answer += chunk
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert b"Connection: close" in head
    assert json.loads(payload)["error"]["code"] == "payload_too_large"


def test_over_http_a_malformed_request_line_is_answered_in_json(served: tuple[int, str]) -> None:
    port, _ = served
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(b"THIS IS NOT HTTP\r\n\r\n")
        answer = b""
        while chunk := raw.recv(65536):
            answer += chunk
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.split()[1] == b"400"
    assert json.loads(payload)["error"]["code"] == "bad_request"


def test_over_http_a_failing_handler_is_500_not_a_closed_connection(
    served: tuple[int, str], parts: tuple[Gateway, StubApi, StubTopic, str]
) -> None:
    port, token = served
    parts[1].fail = True
    connection, response = request(port, "GET", "/messages", b"", {"Authorization": token})
    assert response.status == 500
    assert json.loads(response.read())["error"]["code"] == "internal_error"
    connection.request("GET", "/health", headers={"Authorization": token})
    assert connection.getresponse().status == 500  # the same connection still answers
    connection.close()


@pytest.mark.parametrize(
    "path",
    ["/attention", "/attention/count?kind=email", "/messages/m-1/recipients", "/stats", "/stats/health"],
)
def test_api_routes_reach_the_handler_when_the_dashboard_is_served(
    parts: tuple[Gateway, StubApi, StubTopic, str], tmp_path: Any, path: str
) -> None:
    """With web/ served, a GET the gateway does not know as the API's would get the app's
    index.html (the single-page fallback) instead of the API's JSON."""
    _, api, topic, token = parts
    (tmp_path / "index.html").write_text("<!doctype html>")
    gateway = Gateway(api, LocalTokens("test-secret-0123456789abcdef0123456789"), topic, static_root=tmp_path)
    gateway.ready.set()
    status, headers, body = gateway.handle("GET", path, {"Authorization": token}, b"", "127.0.0.1")
    assert (status, headers.get("Content-Type"), json.loads(body)) == (200, "application/json", {"ok": True})
    assert api.events[-1]["path"] == path.split("?")[0]


def test_the_dashboard_is_served_beside_the_api(
    parts: tuple[Gateway, StubApi, StubTopic, str], tmp_path: Any
) -> None:
    _, api, topic, _ = parts
    (tmp_path / "index.html").write_text("<!doctype html>")
    gateway = Gateway(api, LocalTokens("test-secret-0123456789abcdef0123456789"), topic, static_root=tmp_path)
    gateway.ready.set()
    status, headers, body = gateway.handle("GET", "/", {}, b"", "127.0.0.1")
    assert (status, headers["Content-Type"], body) == (200, "text/html", b"<!doctype html>")


def test_an_unsubscribe_link_reaches_the_api_without_a_token_and_nothing_else_does(
    parts: tuple[Gateway, StubApi, StubTopic, str],
) -> None:
    """As in AWS: mail clients POST an email's signed link with no token of ours."""
    gateway, api, _, _ = parts
    body = b"List-Unsubscribe=One-Click"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _, _ = gateway.handle("POST", "/unsubscribe/acme.m1.r1.sig", headers, body, "x")
    assert status == 200
    (event,) = api.events
    assert event["path"] == "/unsubscribe/acme.m1.r1.sig"
    status, _, answer = decoded(gateway.handle("GET", "/messages", {}, b"", "x"))
    assert (status, answer["error"]["code"]) == (401, "unauthenticated")
    assert len(api.events) == 1
