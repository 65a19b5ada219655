"""What the API answers at the HTTP level, before any route looks at a request: media types (415),
body size and encoding (413, 400), methods (405 with ``Allow``), paths with control characters
(400). Each answer is the project's error body, and none is a 5xx or an ERROR log."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from moto import mock_aws

from tests.apigw import api_event, claims_for, json_body
from tests.conftest import TEST_TABLE
from tests.factories import attention_queries, stats_queries
from tests.integration.test_send_support import SECRET, SendWorld, email_body, make_world, messages_of
from tests.lambda_context import FakeLambdaContext
from tracker.api.body import MAX_REQUEST_BYTES
from tracker.api.cursors import CursorCodec
from tracker.api.read_routes import Dependencies
from tracker.dal.models import bind_table, table_schema
from tracker.dal.queries import DynamoReadStore
from tracker.logic.queries import ReadQueries


@pytest.fixture(scope="module")
def protocol_world() -> Iterator[SendWorld]:
    with mock_aws():
        bind_table(TEST_TABLE, region="us-east-1")
        boto3.client("dynamodb", region_name="us-east-1").create_table(**table_schema())
        yield make_world(
            read=Dependencies(
                ReadQueries(DynamoReadStore(), CursorCodec(SECRET)),
                attention_queries(SECRET),
                stats_queries(),
            )
        )


def send(
    world: SendWorld,
    body: str | None,
    content_type: str | None = "application/json",
    *,
    base64_encoded: bool = False,
    method: str = "POST",
    path: str = "/messages",
    query: str = "",
) -> dict[str, Any]:
    # The path as API Gateway hands it over (decoded), never split as a URL (which drops CR, LF, TAB).
    event = api_event(method, path, body=body, claims=claims_for("tenant-a"), query_string=query)
    headers = {k: v for k, v in event["headers"].items() if k.lower() != "content-type"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    event["headers"] = headers
    event["multiValueHeaders"] = {key: [value] for key, value in headers.items()}
    event["isBase64Encoded"] = base64_encoded
    return world.app.resolve(event, FakeLambdaContext())


def header(response: dict[str, Any], name: str) -> str | None:
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    for key, values in (response.get("multiValueHeaders") or {}).items():
        headers[key.lower()] = ", ".join(values)
    return headers.get(name.lower())


def error_of(response: dict[str, Any]) -> dict[str, Any]:
    body = json_body(response)
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert {"code", "message"} <= set(error), error
    return error


@pytest.fixture
def no_error_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    with caplog.at_level(logging.ERROR):
        yield
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


# --- media types -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/xml",
        "text/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/octet-stream",
        "application/json; charset=iso-8859-1",
        "json",
    ],
)
def test_a_body_that_is_not_json_is_a_415_naming_what_is_accepted(
    protocol_world: SendWorld, content_type: str, no_error_logs: None
) -> None:
    response = send(protocol_world, json.dumps(email_body(1)), content_type)
    assert response["statusCode"] == 415, response["body"]
    error = error_of(response)
    assert error["code"] == "unsupported_media_type"
    assert "application/json" in error["message"]
    assert header(response, "Accept") == "application/json"
    assert messages_of("tenant-a") == []


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "APPLICATION/JSON",
        "Application/Json; Charset=UTF-8",
        "application/json;charset=utf-8",
        'application/json; charset="utf-8"',
        "application/merge-patch+json",
        "application/vnd.acme.message+json; charset=utf-8",
        None,  # no Content-Type: the body is examined, as RFC 9110 8.3 allows
    ],
)
def test_json_and_json_suffixed_media_types_are_read_as_json(
    protocol_world: SendWorld, content_type: str | None
) -> None:
    response = send(protocol_world, json.dumps(email_body(1)), content_type)
    assert response["statusCode"] == 202, response["body"]
    assert json_body(response)["recipients"][0]["status"] == "queued"


def test_a_route_without_a_body_ignores_the_content_type(protocol_world: SendWorld) -> None:
    response = send(protocol_world, None, "text/plain", method="GET", path="/suppressions")
    assert response["statusCode"] == 200, response["body"]


# --- size and encoding -----------------------------------------------------------------------------


def test_a_body_over_the_limit_is_a_413(protocol_world: SendWorld, no_error_logs: None) -> None:
    body = json.dumps(email_body(1, text="x" * MAX_REQUEST_BYTES))
    response = send(protocol_world, body)
    assert response["statusCode"] == 413, response["body"]
    error = error_of(response)
    assert error["code"] == "content_too_large"
    assert str(MAX_REQUEST_BYTES) in error["message"]


def test_the_limit_counts_bytes_not_characters(protocol_world: SendWorld) -> None:
    # Half the limit in characters, but each is two bytes in UTF-8: over the limit.
    body = json.dumps(email_body(1, text="é" * (MAX_REQUEST_BYTES // 2 + 1)), ensure_ascii=False)
    assert len(body) < MAX_REQUEST_BYTES < len(body.encode())
    assert send(protocol_world, body)["statusCode"] == 413


def test_a_base64_body_is_measured_decoded_and_must_be_utf8(
    protocol_world: SendWorld, no_error_logs: None
) -> None:
    good = base64.b64encode(json.dumps(email_body(1)).encode()).decode()
    assert send(protocol_world, good, base64_encoded=True)["statusCode"] == 202
    latin1 = base64.b64encode(
        json.dumps(email_body(1, subject="Caf\u00e9"), ensure_ascii=False).encode("latin-1")
    ).decode()
    response = send(protocol_world, latin1, base64_encoded=True)
    assert response["statusCode"] == 400, response["body"]
    assert error_of(response)["code"] == "invalid_request"
    assert "UTF-8" in error_of(response)["message"]
    garbage = send(protocol_world, "not base64 at all!", base64_encoded=True)
    assert garbage["statusCode"] == 400, garbage["body"]


# --- methods ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/messages", "GET, POST"),
        ("DELETE", "/messages", "GET, POST"),
        ("PATCH", "/messages/m1", "GET"),
        ("POST", "/messages/m1/recipients", "GET"),
        ("PUT", "/suppressions/a@example.com", "DELETE, GET"),
        ("POST", "/health", "GET"),
        ("OPTIONS", "/invoices/INV-1/logs", "GET"),
    ],
)
def test_an_unknown_method_on_a_known_path_is_a_405_with_allow(
    protocol_world: SendWorld, method: str, path: str, allowed: str, no_error_logs: None
) -> None:
    response = send(protocol_world, None, None, method=method, path=path)
    assert response["statusCode"] == 405, response["body"]
    assert error_of(response)["code"] == "method_not_allowed"
    assert header(response, "Allow") == allowed


def test_a_405_is_answered_before_the_body_is_read(protocol_world: SendWorld) -> None:
    response = send(protocol_world, "<xml/>", "application/xml", method="PUT", path="/messages")
    assert response["statusCode"] == 405


@pytest.mark.parametrize("path", ["/nowhere", "/messages/m1/elsewhere", "/messages/m1/recipients/r1"])
def test_an_unknown_path_stays_a_404(protocol_world: SendWorld, path: str) -> None:
    response = send(protocol_world, None, None, method="GET", path=path)
    assert response["statusCode"] == 404
    assert error_of(response)["code"] == "not_found"


# --- paths -----------------------------------------------------------------------------------------


def test_a_trailing_slash_is_still_the_same_route(protocol_world: SendWorld) -> None:
    assert send(protocol_world, None, None, method="GET", path="/suppressions/")["statusCode"] == 200


@pytest.mark.parametrize(
    "path",
    [
        "/messages/\n",  # API Gateway hands over /messages/%0A decoded
        "/messages\n",
        "/messages/x\n",
        "/messages/x\r",
        "/messages/x\x00",
        "/messages/\tx",
        "/messages/x\u2028",
        "/messages/x\x85/recipients",
        "/invoices/INV-1\n/logs",
    ],
)
def test_a_path_with_control_characters_is_a_400_never_another_resource(
    protocol_world: SendWorld, path: str, no_error_logs: None
) -> None:
    response = send(protocol_world, None, None, method="GET", path=path)
    assert response["statusCode"] == 400, response["body"]
    error = error_of(response)
    assert error["code"] == "invalid_request"
    assert "control character" in error["message"]


# --- query parameters ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "1796158927", "-1.5", "2026-11-01 09:00 tomorrow"])
def test_times_in_the_query_are_iso_8601_never_epoch_numbers(protocol_world: SendWorld, value: str) -> None:
    """The document says `date-time`; pydantic's lax mode would also read a number as seconds
    since 1970, so `since=0` listed every message instead of being refused."""
    for name in ("since", "until"):
        response = send(
            protocol_world, None, None, method="GET", path="/messages", query=f"{name}={quote(value)}"
        )
        assert response["statusCode"] == 400, (name, value, response["body"])
        assert error_of(response)["field"] == name


@pytest.mark.parametrize(
    "value", ["2026-11-01T09:00:00Z", "2026-11-01T09:00:00+02:00", "2026-11-01T09:00:00"]
)
def test_iso_8601_times_are_read(protocol_world: SendWorld, value: str) -> None:
    response = send(protocol_world, None, None, method="GET", path="/messages", query=f"since={quote(value)}")
    assert response["statusCode"] == 200, response["body"]
