"""schemathesis against every operation of the API's OpenAPI document, in-process: requests become
API Gateway events (the authorizer's claims when they carry a token), the real app answers, moto
stores. No answer may be a 5xx, and every answer must be what the document says: a documented
status, content type, headers and body schema; 405 with ``Allow`` for an undocumented method;
and a request the document calls invalid is refused.

Per operation: schemathesis' coverage cases (boundary values, missing and mistyped parameters,
unexpected methods and media types; deterministic by construction), then generated cases:
positive, negative, and positive with ids that exist (so the 200 answers are reached too), each
``derandomize``d, so every run sends the same requests and a failure is reproducible.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from unittest import mock

import boto3
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.strategies import SearchStrategy
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from tests.apigw import api_event, json_body
from tests.factories import attention_queries, insight_queries, stats_queries
from tests.integration.test_openapi import DOCUMENTED_STATUSES
from tests.integration.test_read_api import SECRET, A, seeded_world
from tests.integration.test_send_support import UNSUBSCRIBE_KEY, SendWorld, complain, make_world
from tests.lambda_context import FakeLambdaContext
from tracker import constants
from tracker.api.cursors import CursorCodec
from tracker.api.read_routes import Dependencies
from tracker.dal.queries import DynamoReadStore
from tracker.dal.unsubscriptions import DynamoUnsubscriptionStore
from tracker.domain.records import RecipientKey
from tracker.domain.suppression import Address
from tracker.domain.unsubscribe import sign
from tracker.logic.queries import ReadQueries

# The read API's seeded world plus the send stack, kept together on one xdist worker.
pytestmark = pytest.mark.xdist_group("api-fuzz")

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    unsupported_method,
    allow_header_conformance,
    negative_data_rejection,
]
EXAMPLES_PER_STRATEGY = 25
SUPPRESSED = "ann@example.com"
# Ids that exist in the world, so generated requests also reach the 200 answers.
KNOWN_IDS = {
    "message_id": "news",
    "recipient_id": "r0",
    "invoice_id": "INV-1",
    "customer_id": "cust-ana",
    "email": SUPPRESSED,
    # A link the world's emails could carry (a recipient of the seeded "news" message).
    "token": sign(UNSUBSCRIBE_KEY, RecipientKey(A, "news", "r0")),
    "export_id": "exp-00000000000000000000",  # none exists: an export id is made by POST /exports
    "number": "1",  # a recipient batch of a draft
}
OPERATIONS = sorted(f"{method.upper()} {path}" for method, path in DOCUMENTED_STATUSES)
# What each operation's deterministic run sends at least (coverage + generated cases; a strategy
# whose inputs are few ends early: /health has none). Together at least 500.
REQUESTS_AT_LEAST = {
    "GET /health": 10,
    "GET /messages": 110,
    "POST /messages": 160,
    "GET /messages/{message_id}": 75,
    "GET /messages/{message_id}/recipients": 120,
    "GET /messages/{message_id}/recipients/{recipient_id}/events": 100,
    "GET /invoices/{invoice_id}/logs": 100,
    "GET /customers/{customer_id}/messages": 110,
    "GET /suppressions": 90,
    "GET /suppressions/{email}": 75,
    "DELETE /suppressions/{email}": 70,
    "DELETE /customers/{customer_id}": 70,
    "GET /attention": 10,
    "GET /attention/count": 10,
    "GET /stats": 50,
    "GET /stats/health": 5,
    "POST /messages/{message_id}/recipients/{recipient_id}/resend": 10,
    "POST /messages/{message_id}/recipients/{recipient_id}/dismiss": 10,
    "GET /unsubscribe/{token}": 55,
    "POST /unsubscribe/{token}": 50,
    "GET /suppressions/{email}/unsubscription": 75,
    "DELETE /suppressions/{email}/unsubscription": 80,
    "PUT /webhook": 100,
    "GET /webhook": 50,
    "DELETE /webhook": 50,
    "POST /webhook/test": 50,
    "GET /webhook/deliveries": 50,
    "GET /messages/{message_id}/links": 10,
    "GET /messages/{message_id}/providers": 10,
    "POST /exports": 10,
    "GET /exports/{export_id}": 10,
    "POST /drafts": 10,
    "PUT /drafts/{message_id}/batches/{number}": 10,
    "GET /drafts/{message_id}": 10,
    "POST /drafts/{message_id}/send": 10,
    "DELETE /drafts/{message_id}": 10,
}


# A resend copies its message's content: the seeded messages are written without any (as the read
# tests write them), so every resend here is a 404; test_attention.py covers its 201.
# An export's id is made by POST /exports, so no generated GET names one (test_exports.py covers it).
NO_SUCCESS_IN_THIS_WORLD = frozenset(
    {
        "POST /messages/{message_id}/recipients/{recipient_id}/resend",
        "GET /exports/{export_id}",
        # A draft's id is made by POST /drafts (test_send_drafts.py covers these routes' successes).
        "PUT /drafts/{message_id}/batches/{number}",
        "GET /drafts/{message_id}",
        "POST /drafts/{message_id}/send",
        "DELETE /drafts/{message_id}",
    }
)


@dataclass
class Gateway:
    """A WSGI stand-in for API Gateway in front of the app: the request becomes a REST proxy event
    (path decoded, body base64 when it is not UTF-8), with tenant A's claims when it carries an
    Authorization header (API Gateway's Cognito authorizer refuses the others before the
    function; here the app's own check answers them)."""

    world: SendWorld
    statuses: Counter[int] = field(default_factory=Counter)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        headers = {
            name[5:].replace("_", "-").title(): value
            for name, value in environ.items()
            if name.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw: bytes = environ["wsgi.input"].read(length) if length else b""
        # WSGI hands the path over as latin-1; API Gateway decodes it as UTF-8, and keeps it whole.
        path = environ.get("PATH_INFO", "/").encode("latin-1").decode("utf-8", "replace")
        event = api_event(
            environ["REQUEST_METHOD"],
            path,
            tenant_id=A if "Authorization" in headers else None,
            headers=headers,
            query_string=environ.get("QUERY_STRING") or "",
        )
        event["headers"], event["multiValueHeaders"] = headers, {k: [v] for k, v in headers.items()}
        try:
            event["body"] = raw.decode("utf-8") if raw else None
        except UnicodeDecodeError:
            event["body"], event["isBase64Encoded"] = base64.b64encode(raw).decode(), True
        response = self.world.app.resolve(event, FakeLambdaContext())
        status = HTTPStatus(response["statusCode"])
        self.statuses[status.value] += 1
        answer = dict(response.get("headers") or {})
        for name, values in (response.get("multiValueHeaders") or {}).items():
            answer[name] = ", ".join(values)
        start_response(f"{status.value} {status.phrase}", list(answer.items()))
        return [(response.get("body") or "").encode()]


# The webhook routes' SSRF check resolves the URL's host: here every name is a public address
# (tests/integration/test_webhooks.py covers the refusals), and no request leaves the machine.
def public_host(_host: str, _port: int) -> list[str]:
    return ["93.184.216.34"]


def ensure_webhook(world: SendWorld) -> None:
    """The webhook routes answer 404 without one: set one, so their fuzzing reaches successes too."""
    body = {"url": "https://hooks.example.com/tracker"}
    response = world.app.resolve(api_event("PUT", "/webhook", tenant_id=A, body=body), FakeLambdaContext())
    assert response["statusCode"] == 200, response


@pytest.fixture(scope="module")
def world() -> Iterator[SendWorld]:
    with seeded_world(), mock.patch("tracker.bootstrap.webhooks.resolve_host", public_host):
        boto3.client("events", region_name="us-east-1").create_event_bus(Name=constants.EVENT_BUS_NAME)
        world = make_world(
            read=Dependencies(
                ReadQueries(DynamoReadStore(), CursorCodec(SECRET)),
                attention_queries(SECRET),
                stats_queries(),
                insight_queries(),
            )
        )
        complain(SUPPRESSED, tenant_id=A)
        # Unsubscribed too, so that resubscribing it can succeed.
        DynamoUnsubscriptionStore().unsubscribe(
            Address(A, SUPPRESSED), datetime.now(UTC), "one_click", None, None
        )
        yield world


@pytest.fixture(scope="module")
def schema(world: SendWorld) -> Any:
    response = world.app.resolve(api_event("GET", "/openapi.json", tenant_id=A), FakeLambdaContext())
    return schemathesis.openapi.from_dict(json_body(response))


def strategies(operation: Any) -> list[SearchStrategy[schemathesis.Case]]:
    found = [operation.as_strategy(schemathesis.GenerationMode.POSITIVE)]
    if any((operation.path_parameters, operation.query, operation.headers, operation.body)):
        found.append(operation.as_strategy(schemathesis.GenerationMode.NEGATIVE))
    names = [parameter.name for parameter in operation.path_parameters]
    if names:
        known = {name: KNOWN_IDS[name] for name in names}
        found.append(operation.as_strategy(schemathesis.GenerationMode.POSITIVE, path_parameters=known))
    return found


def test_every_operation_is_fuzzed_and_the_runs_add_up_to_500_requests() -> None:
    assert set(REQUESTS_AT_LEAST) == set(OPERATIONS)
    assert sum(REQUESTS_AT_LEAST.values()) >= 500


@pytest.mark.parametrize("label", OPERATIONS)
def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    world: SendWorld, schema: Any, label: str
) -> None:
    method, path = label.split(" ", 1)
    operation = schema[path][method]
    gateway = Gateway(world)
    if path.startswith("/webhook"):
        ensure_webhook(world)

    def call(case: schemathesis.Case) -> None:
        case.validate_response(case.call(app=gateway), checks=CHECKS)

    modes = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
    generation = schema.config.generation_for(operation=operation)
    for case in schema.iter_coverage_cases(operation, generation_modes=modes, generation_config=generation):
        call(case)
    for strategy in strategies(operation):

        @settings(
            max_examples=EXAMPLES_PER_STRATEGY,
            deadline=None,
            database=None,
            derandomize=True,  # the same requests on every run
            suppress_health_check=[
                HealthCheck.too_slow,
                HealthCheck.filter_too_much,
                HealthCheck.data_too_large,
            ],
        )
        @given(case=strategy)
        def generated(case: schemathesis.Case) -> None:
            call(case)

        generated()

    requests = sum(gateway.statuses.values())
    print(f"{label}: {requests} requests, statuses {dict(sorted(gateway.statuses.items()))}")
    assert requests >= REQUESTS_AT_LEAST[label], requests
    if label not in NO_SUCCESS_IN_THIS_WORLD:
        assert any(200 <= status < 300 for status in gateway.statuses), "the run never reached a success"
