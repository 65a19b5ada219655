"""The OpenAPI document: valid OpenAPI 3, every route with its parameters, response schemas and the
errors it really answers, and a request schema that states the rules the models apply. (schemathesis
runs against the app in tests/integration/test_api_fuzz.py.)"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import jsonschema
import pydantic
import pytest
import schemathesis
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from tests.apigw import api_event, json_body
from tests.integration.test_read_api import A, make_app, seeded_world
from tests.lambda_context import FakeLambdaContext
from tracker.api.openapi import API_TITLE, API_VERSION
from tracker.models.send import SendMessageRequest

# Uses the read-API tests' world (seeded once for the module, kept together on one xdist worker).
pytestmark = pytest.mark.xdist_group("read-api-openapi")

READ_ROUTES = {
    "/messages": "MessagePage",
    "/messages/{message_id}": "Message",
    "/messages/{message_id}/recipients": "RecipientPage",
    "/messages/{message_id}/recipients/{recipient_id}/events": "TimelinePage",
    "/invoices/{invoice_id}/logs": "InvoiceLogPage",
    "/customers/{customer_id}/messages": "CustomerMessagePage",
}


@pytest.fixture(scope="module")
def app() -> Iterator[APIGatewayRestResolver]:
    with seeded_world():
        yield make_app()


@pytest.fixture(scope="module")
def document(app: APIGatewayRestResolver) -> dict[str, Any]:
    response = app.resolve(api_event("GET", "/openapi.json", tenant_id=A), FakeLambdaContext())
    assert response["statusCode"] == 200
    body: dict[str, Any] = json_body(response)
    return body


def refs(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


# --- the document ---------------------------------------------------------------------------------


def test_the_document_is_valid_openapi_3(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.")
    assert (document["info"]["title"], document["info"]["version"]) == (API_TITLE, API_VERSION)
    # Schemathesis validates against the OpenAPI initiative's meta-schema for the document's version.
    schemathesis.openapi.from_dict(json.loads(json.dumps(document))).validate()
    # Every reference resolves.
    schemas = document["components"]["schemas"]
    for ref in set(refs(document)):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/") in schemas, ref


def test_every_read_route_is_listed_with_its_response_and_error_schemas(document: dict[str, Any]) -> None:
    paths = document["paths"]
    assert "/health" in paths
    for path, model in READ_ROUTES.items():
        operation = paths[path]["get"]
        responses = operation["responses"]
        ok_schema = responses["200"]["content"]["application/json"]["schema"]
        assert ok_schema == {"$ref": f"#/components/schemas/{model}"}, path
        for status in ("400", "401"):
            error = responses[status]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/ErrorResponse"}, (path, status)
        if "{" in path:
            assert "404" in responses, path
        assert operation.get("summary"), path


# Every operation's documented answers: the errors it really gives, and no other.
DOCUMENTED_STATUSES = {
    ("get", "/health"): {"200"},
    ("get", "/messages"): {"200", "400", "401", "503"},
    ("post", "/messages"): {"202", "400", "401", "409", "413", "415", "422", "503"},
    ("get", "/messages/{message_id}"): {"200", "400", "401", "404", "503"},
    ("get", "/messages/{message_id}/recipients"): {"200", "400", "401", "404", "503"},
    ("get", "/messages/{message_id}/recipients/{recipient_id}/events"): {"200", "400", "401", "404", "503"},
    ("get", "/invoices/{invoice_id}/logs"): {"200", "400", "401", "404", "503"},
    ("get", "/customers/{customer_id}/messages"): {"200", "400", "401", "404", "503"},
    ("get", "/suppressions"): {"200", "400", "401", "503"},
    ("get", "/suppressions/{email}"): {"200", "400", "401", "404", "503"},
    ("delete", "/suppressions/{email}"): {"200", "400", "401", "404", "503"},
    ("delete", "/customers/{customer_id}"): {"200", "400", "401", "404", "503"},
    ("get", "/attention"): {"200", "400", "401", "503"},
    ("get", "/attention/count"): {"200", "400", "401", "503"},
    ("get", "/stats"): {"200", "400", "401", "503"},
    ("get", "/stats/health"): {"200", "400", "401", "503"},
    ("post", "/messages/{message_id}/recipients/{recipient_id}/resend"): {
        *("201", "400", "401", "404", "409", "413", "415", "422", "503"),
    },
    ("post", "/messages/{message_id}/recipients/{recipient_id}/dismiss"): {"200", "400", "401", "404", "503"},
    # The public one-click unsubscribe link (no token: no 401) and resubscribing.
    ("get", "/unsubscribe/{token}"): {"200", "400", "404", "503"},
    ("post", "/unsubscribe/{token}"): {"200", "400", "404", "503"},
    ("get", "/suppressions/{email}/unsubscription"): {"200", "400", "401", "404", "503"},
    ("delete", "/suppressions/{email}/unsubscription"): {"200", "400", "401", "404", "503"},
    ("put", "/webhook"): {"200", "400", "401", "413", "415", "503"},
    ("get", "/webhook"): {"200", "401", "404", "503"},
    ("delete", "/webhook"): {"200", "401", "404", "503"},
    ("post", "/webhook/test"): {"202", "401", "404", "503"},
    ("get", "/webhook/deliveries"): {"200", "401", "503"},
    ("get", "/messages/{message_id}/links"): {"200", "400", "401", "404", "503"},
    ("get", "/messages/{message_id}/providers"): {"200", "400", "401", "404", "503"},
    ("post", "/exports"): {"202", "400", "401", "404", "413", "415", "503"},
    ("get", "/exports/{export_id}"): {"200", "400", "401", "404", "503"},
    ("post", "/drafts"): {"201", "400", "401", "404", "409", "413", "415", "422", "503"},
    ("put", "/drafts/{message_id}/batches/{number}"): {
        "200",
        "400",
        "401",
        "404",
        "409",
        "413",
        "415",
        "503",
    },
    ("get", "/drafts/{message_id}"): {"200", "400", "401", "404", "503"},
    ("post", "/drafts/{message_id}/send"): {"202", "400", "401", "404", "409", "503"},
    ("delete", "/drafts/{message_id}"): {"200", "400", "401", "404", "409", "503"},
}
# The unsubscribe link answers a person: its pages, an unknown link's too, are HTML (a path that is
# no token at all gets the API's JSON 404 as well).
HTML_ANSWERS = {
    ("get", "/unsubscribe/{token}"): {"200": {"text/html"}, "404": {"text/html", "application/json"}},
    ("post", "/unsubscribe/{token}"): {"200": {"text/html"}, "404": {"text/html", "application/json"}},
}
PUBLIC = {"/health", "/unsubscribe/{token}"}
# A recipient batch's 400 is the error body plus every bad row (docs/sending.md).
ROW_ERRORS = {("put", "/drafts/{message_id}/batches/{number}", "400"): "BatchRejected"}


def test_every_operation_documents_the_errors_it_answers_with_the_error_body(
    document: dict[str, Any],
) -> None:
    operations = {
        (method, path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    assert set(operations) == set(DOCUMENTED_STATUSES)
    for key, operation in operations.items():
        responses = operation["responses"]
        assert set(responses) == DOCUMENTED_STATUSES[key], key
        for status, response in responses.items():
            if status in HTML_ANSWERS.get(key, {}):
                assert set(response["content"]) == HTML_ANSWERS[key][status], (key, status)
            elif status.startswith(("4", "5")):
                schema = response["content"]["application/json"]["schema"]
                expected = ROW_ERRORS.get((*key, status), "ErrorResponse")
                assert schema == {"$ref": f"#/components/schemas/{expected}"}, (key, status)
    # Powertools' own validation answer (a 422 HTTPValidationError) is never ours.
    assert "HTTPValidationError" not in json.dumps(document)
    assert "ValidationError" not in document["components"]["schemas"]


def test_every_operation_needs_a_bearer_token_but_health_and_the_unsubscribe_link(
    document: dict[str, Any],
) -> None:
    assert document["security"] == [{"bearer": []}]
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert operation.get("security") == ([] if path in PUBLIC else None), (method, path)


def test_parameters_are_documented_with_their_constraints(document: dict[str, Any]) -> None:
    paths = document["paths"]
    for path in READ_ROUTES:
        parameters = {p["name"]: p for p in paths[path]["get"].get("parameters", [])}
        for name in [segment.strip("{}") for segment in path.split("/") if segment.startswith("{")]:
            assert parameters[name]["in"] == "path"
            assert parameters[name]["required"] is True
            assert parameters[name]["schema"]["pattern"] == "^[A-Za-z0-9_.:-]{1,128}$"
        if path != "/messages/{message_id}":
            limit = parameters["limit"]["schema"]
            assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 200, 50), path
            assert parameters["cursor"]["in"] == "query"
    listing = {p["name"] for p in paths["/messages"]["get"]["parameters"]}
    assert listing == {"kind", "since", "until", "cursor", "limit"}
    customer = {p["name"] for p in paths["/customers/{customer_id}/messages"]["get"]["parameters"]}
    assert "kind" in customer
    status = next(
        p for p in paths["/messages/{message_id}/recipients"]["get"]["parameters"] if p["name"] == "status"
    )
    status_schema = document["components"]["schemas"]["Status"]
    assert {"$ref": "#/components/schemas/Status"} in status["schema"]["anyOf"]
    assert status_schema["enum"] == [
        "queued",
        "sent",
        "delayed",
        "delivered",
        "opened",
        "clicked",
        "bounced",
        "dropped",
        "complaint",
        "rejected",
        "failed",
    ]


def test_response_models_use_the_api_conventions(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    counts = schemas["StatusCounts"]
    # Every status, and the engagement tallies beside them (docs/engagement.md).
    assert set(counts["required"]) == set(schemas["Status"]["enum"]) | {"machine_opened", "machine_clicked"}
    message = schemas["Message"]["properties"]
    for rate in (
        "delivery_rate",
        "open_rate",
        "open_rate_all",
        "click_rate",
        "click_rate_all",
        "bounce_rate",
        "complaint_rate",
    ):
        assert {"type": "null"} in message[rate]["anyOf"], rate
    assert message["sent_at"]["format"] == "date-time"
    for page in ("MessagePage", "RecipientPage", "TimelinePage", "InvoiceLogPage", "CustomerMessagePage"):
        properties = schemas[page]["properties"]
        assert properties["items"]["type"] == "array", page
        assert {"type": "null"} in properties["next_cursor"]["anyOf"], page


def request_schema_validator(document: dict[str, Any]) -> jsonschema.Draft202012Validator:
    """JSON Schema 2020-12 (OpenAPI 3.1's dialect) on the request body's schema, with the
    document's components for its references."""
    schema = {"$ref": "#/components/schemas/SendMessageRequest", "components": document["components"]}
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def message_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "email",
        "subject": "Spring term",
        "text": "Hello",
        "recipients": [{"customer_id": "c-1", "email": "ann@example.com", "name": "Ann"}],
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not ...}


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        (message_body(), True),
        (message_body(text=..., html="<p>Hi</p>"), True),
        (message_body(text="", html="<p>Hi</p>"), True),
        (message_body(text=...), False),
        (message_body(text=None, html=None), False),
        (message_body(text="", html=""), False),
        (message_body(kind="invoice", invoice_id="INV-1"), True),
        (message_body(kind="invoice"), False),
        (message_body(kind="invoice", invoice_id=None), False),
        (message_body(kind="invoice", invoice_id="INV-1", payment_id="PAY-1"), False),
        (message_body(invoice_id="INV-1"), False),
        (message_body(invoice_id=None, payment_id=None), True),
        (message_body(kind="receipt", payment_id="PAY-1"), True),
        (message_body(kind="receipt"), False),
        (message_body(kind="receipt", payment_id="PAY-1", invoice_id="INV-1"), False),
        (message_body(payment_id="PAY-1"), False),
        (message_body(subject="Spring\tterm"), False),
        (message_body(subject="Spring\u2028term"), False),
        (message_body(subject="   "), False),
        (message_body(subject="Spring \u200fterm"), True),
        (
            message_body(recipients=[{"customer_id": "c-1", "email": "ann@example.com", "name": "A\x85B"}]),
            False,
        ),
    ],
)
def test_the_request_schema_states_the_rules_the_api_applies(
    document: dict[str, Any], body: dict[str, Any], valid: bool
) -> None:
    """A generated client learns the cross-field rules (text and/or html; invoice_id only and
    always for an invoice, payment_id for a receipt) and the control-character rule from the
    document, and the document says what the model does."""
    schema_errors = list(request_schema_validator(document).iter_errors(body))
    assert (schema_errors == []) is valid, [e.message for e in schema_errors]
    try:
        SendMessageRequest.model_validate(body)
        model_valid = True
    except pydantic.ValidationError:
        model_valid = False
    assert model_valid is valid
