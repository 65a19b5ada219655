"""A hosted dashboard calls the API from another origin (CloudFront's): API Gateway answers the
preflight, but the browser also needs ``Access-Control-Allow-Origin`` on every answer of the
functions themselves, for ALLOWED_ORIGIN only, or it hides the answer from the page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.apigw import api_event
from tests.lambda_context import FakeLambdaContext
from tracker import constants
from tracker.api.resolver import TrackerResolver
from tracker.bootstrap import api as bootstrap

pytestmark = pytest.mark.usefixtures("table")

ORIGIN = "https://d111111abcdef8.cloudfront.net"


def _answer(app: TrackerResolver, method: str, path: str, origin: str) -> dict[str, Any]:
    event = api_event(method, path, headers={"Origin": origin}, body={} if method == "POST" else None)
    response: dict[str, Any] = app.resolve(event, FakeLambdaContext())
    return response


def _allowed(response: dict[str, Any]) -> Any:
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    multi = {k.lower(): v for k, v in (response.get("multiValueHeaders") or {}).items()}
    return (
        headers.get("access-control-allow-origin") or (multi.get("access-control-allow-origin") or [None])[0]
    )


@pytest.fixture
def apps(monkeypatch: pytest.MonkeyPatch) -> dict[str, TrackerResolver]:
    monkeypatch.setenv("CURSOR_SECRET", "api-cors-test-cursor-secret-0123456789")
    monkeypatch.setenv(constants.ENV_ALLOWED_ORIGIN, ORIGIN)
    return {"read": bootstrap.read_app(), "send": bootstrap.send_app()}


@pytest.mark.parametrize(
    ("function", "method", "path"),
    [
        ("read", "GET", "/messages"),  # 200
        ("read", "GET", "/messages/no-such-message"),  # 404, an error answer
        ("send", "POST", "/messages"),  # 400, a validation error
    ],
)
def test_each_function_allows_the_dashboards_origin_on_its_own_answers(
    apps: dict[str, TrackerResolver], function: str, method: str, path: str
) -> None:
    assert _allowed(_answer(apps[function], method, path, ORIGIN)) == ORIGIN


def test_another_origin_is_not_allowed(apps: dict[str, TrackerResolver]) -> None:
    assert _allowed(_answer(apps["read"], "GET", "/messages", "https://evil.example")) is None


def test_no_allowed_origin_means_no_cors_header(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CURSOR_SECRET", "api-cors-test-cursor-secret-0123456789")
    monkeypatch.delenv(constants.ENV_ALLOWED_ORIGIN, raising=False)
    assert _allowed(_answer(bootstrap.read_app(), "GET", "/messages", ORIGIN)) is None
