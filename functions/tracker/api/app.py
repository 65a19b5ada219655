"""The HTTP API: one Powertools resolver, routers per concern, errors mapped in one place."""

from __future__ import annotations

import functools
from collections.abc import Callable

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from tracker.api import read_routes, send_routes
from tracker.api.auth import PUBLIC_PATHS, caller_from_event
from tracker.api.errors import register_error_handlers
from tracker.api.openapi import DOCS_PATH, openapi_response, swagger_response
from tracker.api.resolver import TrackerResolver


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

    # Built when asked for (tracker.api.openapi): no other route needs Powertools' OpenAPI models.
    @app.get(DOCS_PATH, include_in_schema=False)
    def swagger_ui() -> Response[str]:
        return swagger_response(app)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_document() -> Response[str]:
        return openapi_response(app)

    return app
