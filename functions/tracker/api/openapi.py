"""The OpenAPI document (``/openapi.json``) and the Swagger UI (``/docs``), built when asked for.

Powertools generates the document from the routes and models. It also lists a 422
``HTTPValidationError`` on every operation, its own answer to a request that fails validation;
ours is a 400 ``ErrorResponse`` (``tracker.api.errors``), which each route documents with the
other errors it really answers. ``document`` takes those 422s out, keeping a route's own (the
send route's reused Idempotency-Key), and Powertools' error schemas with them; and it says that
the public paths (``/health``) need no token, which the document-wide bearer requirement denies.

Powertools' OpenAPI models (pydantic models of the whole specification) are imported by these two
routes only, not on every cold start: no other route, nor request validation, needs them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response, content_types

from tracker.api.auth import is_public

if TYPE_CHECKING:
    from tracker.api.resolver import TrackerResolver

API_TITLE = "Delivery tracker API"
API_VERSION = "1.0.0"
DOCS_PATH = "/docs"

_POWERTOOLS_VALIDATION_ERROR = "#/components/schemas/HTTPValidationError"
# Powertools' answers to validation errors (requests, and responses that fail their own model):
# ours are ErrorResponse, and no operation refers to these once its generic 422 is gone.
_POWERTOOLS_ERROR_SCHEMAS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


def _security() -> dict[str, Any]:
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    return {
        "security_schemes": {"bearer": HTTPBearer(bearerFormat="JWT")},
        "security": [{"bearer": []}],
    }


def document(app: TrackerResolver, *, base_path: str | None = None) -> dict[str, Any]:
    """The document as the API behaves: Powertools' generic 422 answers taken out."""
    servers: dict[str, Any] = {}
    if base_path is not None:
        from aws_lambda_powertools.event_handler.openapi.models import Server

        servers = {"servers": [Server(url=base_path)]}
    generated: dict[str, Any] = json.loads(
        app.get_openapi_json_schema(title=API_TITLE, version=API_VERSION, **_security(), **servers)
    )
    for path, operations in generated.get("paths", {}).items():
        for operation in operations.values():
            if is_public(path):
                operation["security"] = []  # the document's bearer requirement does not apply
            responses = operation.get("responses", {})
            if _POWERTOOLS_VALIDATION_ERROR in json.dumps(responses.get("422", {})):
                del responses["422"]
    schemas = generated.get("components", {}).get("schemas", {})
    for name in _POWERTOOLS_ERROR_SCHEMAS:
        schemas.pop(name, None)
    return generated


def openapi_response(documented: TrackerResolver) -> Response[str]:
    body = json.dumps(document(documented), indent=2)
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=body)


def swagger_response(app: TrackerResolver, documented: TrackerResolver | None = None) -> Response[str]:
    """What ``app.enable_swagger(path=DOCS_PATH, ...)`` answers (Powertools' own page, with the
    same options), showing the document of ``documented`` (the whole API; default ``app``), with
    its imports done on the request."""
    import aws_lambda_powertools.event_handler as event_handler
    from aws_lambda_powertools.event_handler.openapi.swagger_ui import (
        generate_oauth2_redirect_html,
        generate_swagger_html,
    )

    query_params = app.current_event.query_string_parameters or {}
    if query_params.get("format") == "oauth2-redirect":
        return Response(status_code=200, content_type="text/html", body=generate_oauth2_redirect_html())
    assets = Path(event_handler.__file__).parent / "openapi" / "swagger_ui"
    swagger_js = (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    swagger_css = (assets / "swagger-ui.min.css").read_text(encoding="utf-8")
    spec = document(documented or app, base_path=app._get_base_path() or "/")
    # Escaping "</" keeps the JSON from closing the page's <script> element.
    escaped_spec = json.dumps(spec, indent=2).replace("</", "<\\/")
    if query_params.get("format") == "json":
        return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=escaped_spec)
    body = generate_swagger_html(escaped_spec, swagger_js, swagger_css, None, None, False)  # type: ignore[arg-type]
    return Response(status_code=200, content_type="text/html", body=body)
