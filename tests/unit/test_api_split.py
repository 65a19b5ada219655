"""The deployed API is two functions built from one app definition (tracker.api.app): API Gateway
sends each route to the function that registers it (infra/api_routes.py), each function registers
only its own routes, and what a function tells of the API (the methods a path allows, the OpenAPI
document) is the whole API's."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from infra.api_routes import ApiFunction, function_for
from tests.apigw import api_event
from tests.integration.test_api_protocol import header
from tests.lambda_context import FakeLambdaContext
from tracker.api.resolver import TrackerResolver
from tracker.bootstrap import api as bootstrap

pytestmark = pytest.mark.usefixtures("table")

# The route patterns of the whole API with a value for each path parameter.
SAMPLE_VALUES = {"email": "person%40example.com"}


def sample_path(path: str) -> str:
    return re.sub(r"<(\w+)>", lambda m: SAMPLE_VALUES.get(m.group(1), f"x-{m.group(1)}"), path)


def routes(app: TrackerResolver) -> set[tuple[str, str]]:
    return {(route.method, route.path) for route in app._static_routes + app._dynamic_routes}


@pytest.fixture
def apps(monkeypatch: pytest.MonkeyPatch) -> dict[str, TrackerResolver]:
    monkeypatch.setenv("CURSOR_SECRET", "api-split-test-cursor-secret-0123456789")
    return {"whole": bootstrap.api_app(), "read": bootstrap.read_app(), "send": bootstrap.send_app()}


def test_the_two_functions_register_every_route_once_between_them(apps: dict[str, TrackerResolver]) -> None:
    whole, read, send = routes(apps["whole"]), routes(apps["read"]), routes(apps["send"])
    assert read | send == whole
    assert read & send == set()
    assert ("POST", "/messages") in send
    assert ("GET", "/messages") in read


def test_api_gateway_sends_every_route_to_the_function_that_registers_it(
    apps: dict[str, TrackerResolver],
) -> None:
    for method, path in routes(apps["whole"]):
        if path == "/health":
            continue  # answered by API Gateway itself (a MOCK integration)
        function = function_for(method, sample_path(path))
        assert function is not None, (method, path)
        assert (method, path) in routes(apps[function.value]), (method, path, function)


def call(app: TrackerResolver, method: str, path: str) -> dict[str, Any]:
    response: dict[str, Any] = app.resolve(api_event(method, path), FakeLambdaContext())
    return response


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [("PUT", "/messages", "GET, POST"), ("PATCH", "/suppressions/a%40b.example", "DELETE, GET")],
)
def test_a_method_no_route_has_is_refused_with_the_whole_apis_allowed_methods(
    apps: dict[str, TrackerResolver], method: str, path: str, allowed: str
) -> None:
    function = function_for(method, path)
    assert function is not None
    answer = call(apps[function.value], method, path)
    assert answer["statusCode"] == 405
    assert header(answer, "Allow") == allowed
    assert call(apps["whole"], method, path)["statusCode"] == 405


def test_an_unknown_path_is_not_found_in_the_function_that_gets_it(apps: dict[str, TrackerResolver]) -> None:
    assert function_for("GET", "/nowhere/at/all") is ApiFunction.READ
    assert call(apps["read"], "GET", "/nowhere/at/all")["statusCode"] == 404


def test_the_read_function_documents_the_whole_api(apps: dict[str, TrackerResolver]) -> None:
    assert function_for("GET", "/openapi.json") is ApiFunction.READ
    answer = call(apps["read"], "GET", "/openapi.json")
    assert answer["statusCode"] == 200
    paths = json.loads(str(answer["body"]))["paths"]
    whole = json.loads(str(call(apps["whole"], "GET", "/openapi.json")["body"]))["paths"]
    assert paths == whole
    assert "post" in paths["/messages"]
    assert "get" in paths["/messages"]
