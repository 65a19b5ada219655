"""The HTTP API: one Powertools resolver, routers per concern, errors mapped in one place."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from tracker.api import read_routes, send_routes
from tracker.api.auth import caller_from_event
from tracker.api.errors import register_error_handlers
from tracker.api.resolver import TrackerResolver

PUBLIC_PATHS = frozenset({"/health"})
API_TITLE = "Delivery tracker API"
API_VERSION = "1.0.0"
DOCS_PATH = "/docs"


def require_caller(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[object]:
    """Every route but health needs a verified tenant (API Gateway's authorizer already ran in AWS;
    this also guards local mode and any misconfigured route)."""
    if app.current_event.path not in PUBLIC_PATHS:
        app.append_context(caller=caller_from_event(app.current_event.raw_event))
    return next_middleware(app)


def build_app(
    read: read_routes.Dependencies,
    send: Callable[[], send_routes.Dependencies],
    ready: Callable[[], bool] = lambda: True,
) -> TrackerResolver:
    """The resolver with every route. ``send`` builds the send routes' collaborators; it is called
    (once) when a send or suppression route is first used."""
    app = TrackerResolver()
    register_error_handlers(app)
    app.use(middlewares=[require_caller])

    @app.get("/health", summary="Liveness (no authentication)")
    def health() -> dict[str, str]:
        return {"status": "ok" if ready() else "starting"}

    app.include_router(read_routes.router(read))
    app.include_router(send_routes.router(functools.cache(send)))

    # The OpenAPI document and the Swagger UI are built when asked for. Powertools' OpenAPI models
    # (pydantic models of the whole OpenAPI specification) are imported by those two routes only,
    # not on every cold start: no other route, nor request validation, needs them.
    @app.get(DOCS_PATH, include_in_schema=False)
    def swagger_ui() -> Response[str]:
        return swagger_response(app)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_document() -> Response[str]:
        return Response(
            status_code=200,
            content_type=content_types.APPLICATION_JSON,
            body=app.get_openapi_json_schema(title=API_TITLE, version=API_VERSION, **_security()),
        )

    return app


def _security() -> dict[str, Any]:
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    return {
        "security_schemes": {"bearer": HTTPBearer(bearerFormat="JWT")},
        "security": [{"bearer": []}],
    }


def swagger_response(app: APIGatewayRestResolver) -> Response[str]:
    """What ``app.enable_swagger(path=DOCS_PATH, ...)`` answers (Powertools' own handler, with the
    same options), with its imports done on the request instead of when the app is built."""
    import aws_lambda_powertools.event_handler as event_handler
    from aws_lambda_powertools.event_handler.openapi.compat import model_json
    from aws_lambda_powertools.event_handler.openapi.models import Server
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
    spec = app.get_openapi_schema(
        title=API_TITLE,
        version=API_VERSION,
        servers=[Server(url=(app._get_base_path() or "/"))],
        **_security(),
    )
    # Escaping "</" keeps the JSON from closing the page's <script> element.
    escaped_spec = model_json(spec, by_alias=True, exclude_none=True, indent=2).replace("</", "<\\/")
    if query_params.get("format") == "json":
        return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=escaped_spec)
    body = generate_swagger_html(escaped_spec, swagger_js, swagger_css, None, None, False)  # type: ignore[arg-type]
    return Response(status_code=200, content_type="text/html", body=body)
