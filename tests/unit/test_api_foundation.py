"""Cursor signing, caller extraction and the shared error mapping."""

from __future__ import annotations

from typing import Any, cast

import pytest

from tests.apigw import api_event, json_body
from tests.lambda_context import FakeLambdaContext
from tracker.api import send_routes
from tracker.api.auth import caller_from_event
from tracker.api.cursors import CursorCodec
from tracker.bootstrap import api as bootstrap
from tracker.domain.errors import InvalidCursorError, UnauthenticatedError

SECRET = b"0123456789abcdef0123456789abcdef"


def test_cursor_round_trips_for_the_same_tenant_and_list() -> None:
    codec = CursorCodec(SECRET)
    position = {"pk": {"S": "T#a#M#1"}, "sk": {"S": "R#7"}}
    cursor = codec.encode("tenant-a", ("recipients", "1"), position)
    assert cursor is not None
    assert "T#a" not in cursor or cursor.count(".") == 1
    assert codec.decode(cursor, "tenant-a", ("recipients", "1")) == position


@pytest.mark.parametrize(
    ("tenant", "scope"),
    [("tenant-b", ("recipients", "1")), ("tenant-a", ("recipients", "2")), ("tenant-a", ("messages",))],
)
def test_cursor_from_another_tenant_or_list_is_rejected(tenant: str, scope: tuple[str, ...]) -> None:
    codec = CursorCodec(SECRET)
    cursor = codec.encode("tenant-a", ("recipients", "1"), {"pk": {"S": "x"}})
    with pytest.raises(InvalidCursorError):
        codec.decode(cursor, tenant, scope)


@pytest.mark.parametrize("forged", ["abc", "abc.def", "....", "eyJ0IjoidGVuYW50LWEifQ.AAAA", "%%%.%%%"])
def test_forged_cursor_is_rejected(forged: str) -> None:
    with pytest.raises(InvalidCursorError):
        CursorCodec(SECRET).decode(forged, "tenant-a", ("messages",))


def test_a_cursor_signed_with_another_key_is_rejected() -> None:
    cursor = CursorCodec(b"another-secret-of-enough-length").encode(
        "tenant-a", ("messages",), {"pk": {"S": "x"}}
    )
    with pytest.raises(InvalidCursorError):
        CursorCodec(SECRET).decode(cursor, "tenant-a", ("messages",))


def test_no_position_means_no_cursor() -> None:
    assert CursorCodec(SECRET).encode("tenant-a", ("messages",), None) is None
    assert CursorCodec(SECRET).decode(None, "tenant-a", ("messages",)) is None


def test_caller_comes_from_authorizer_claims_only() -> None:
    caller = caller_from_event(api_event("GET", "/messages?tenant_id=evil", tenant_id="tenant-a"))
    assert caller.tenant_id == "tenant-a"
    with pytest.raises(UnauthenticatedError):
        caller_from_event(api_event("GET", "/messages", tenant_id=None))
    with pytest.raises(UnauthenticatedError):
        caller_from_event(api_event("GET", "/messages", claims={"sub": "x", "custom:tenant_id": "a#b"}))


def test_health_needs_no_token_and_everything_else_does() -> None:
    app = bootstrap.api_app()
    health = app.resolve(api_event("GET", "/health", tenant_id=None), FakeLambdaContext())
    assert health["statusCode"] == 200
    assert json_body(health) == {"status": "ok"}
    denied = app.resolve(api_event("GET", "/openapi.json", tenant_id=None), FakeLambdaContext())
    assert denied["statusCode"] == 401
    assert json_body(denied)["error"]["code"] == "unauthenticated"


def test_unknown_route_is_a_json_404() -> None:
    response = bootstrap.api_app().resolve(api_event("GET", "/nowhere"), FakeLambdaContext())
    assert response["statusCode"] == 404
    assert json_body(response) == {"error": {"code": "not_found", "message": "no such route"}}


class _FakeSuppressions:
    def list_page(
        self, tenant_id: str, state: object, limit: int, position: object
    ) -> tuple[list[object], None]:
        return [], None


class _FakeCursors:
    def decode(self, cursor: str | None, tenant_id: str, scope: object) -> None:
        return None

    def encode(self, tenant_id: str, scope: object, position: object) -> None:
        return None


def test_the_send_stack_is_built_on_the_first_send_route_only(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[send_routes.Dependencies] = []

    def send_dependencies() -> send_routes.Dependencies:
        deps = send_routes.Dependencies(
            messages=cast(Any, None),
            suppressions=cast(Any, _FakeSuppressions()),
            idempotency=cast(Any, None),
            cursors=cast(Any, _FakeCursors()),
            erasure=cast(Any, None),
        )
        built.append(deps)
        return deps

    monkeypatch.setattr(bootstrap, "send_dependencies", send_dependencies)
    app = bootstrap.api_app()
    assert app.resolve(api_event("GET", "/health", tenant_id=None), FakeLambdaContext())["statusCode"] == 200
    assert app.resolve(api_event("GET", "/nowhere"), FakeLambdaContext())["statusCode"] == 404
    assert built == []  # a cold start serving other routes never builds it

    for _ in range(2):
        page = app.resolve(api_event("GET", "/suppressions"), FakeLambdaContext())
        assert page["statusCode"] == 200
        assert json_body(page) == {"items": [], "next_cursor": None}
    assert len(built) == 1  # built once, then reused
