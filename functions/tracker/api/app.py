"""The HTTP API: one Powertools resolver, routers per concern, errors mapped in one place.

One app definition, built three ways: the whole API (local mode's gateway, the tests), or the part
one deployed function serves, the read routes or the send and suppression routes (API Gateway
sends each route to its function, infra/api_routes.py). Each part imports only its own routes, so
its cold start does not pay for the other's models and collaborators; what it must know of the
whole API (the methods a path allows, for 405 answers, and the OpenAPI document) it learns from
the whole app, built on the first request that needs it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from tracker.api.auth import caller_from_event, is_public
from tracker.api.errors import register_error_handlers
from tracker.api.openapi import DOCS_PATH, openapi_response, swagger_response
from tracker.api.resolver import TrackerResolver

if TYPE_CHECKING:
    from tracker.api import read_routes, send_routes
    from tracker.logic.exports import ExportService

# Builds the export service of a function (its store, queue or bucket) on the first export request.
Exports = Callable[[], "ExportService"]


def require_caller(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[object]:
    """Every route but health needs a verified tenant (API Gateway's authorizer already ran in AWS;
    this also guards local mode and any misconfigured route)."""
    if not is_public(app.current_event.path):
        app.append_context(caller=caller_from_event(app.current_event.raw_event))
    return next_middleware(app)


class PartialResolver(TrackerResolver):
    """The part of the API one function serves; ``whole`` builds the whole app (once, when a
    request needs it: a 404/405 answer or the API's documentation)."""

    def __init__(self, whole: Callable[[], TrackerResolver], allowed_origin: str | None = None) -> None:
        super().__init__(allowed_origin)
        self.whole = functools.cache(whole)

    def allowed_methods(self, path: str) -> list[str]:
        return self.whole().allowed_methods(path)


def _prepare(app: TrackerResolver) -> TrackerResolver:
    register_error_handlers(app)
    app.use(middlewares=[require_caller])
    return app


def _add_health(app: TrackerResolver, ready: Callable[[], bool]) -> None:
    @app.get("/health", summary="Liveness (no authentication)")
    def health() -> dict[str, str]:
        return {"status": "ok" if ready() else "starting"}


def _add_docs(app: TrackerResolver, documented: Callable[[], TrackerResolver]) -> None:
    # Built when asked for (tracker.api.openapi): no other route needs Powertools' OpenAPI models.
    @app.get(DOCS_PATH, include_in_schema=False)
    def swagger_ui() -> Response[str]:
        return swagger_response(app, documented())

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_document() -> Response[str]:
        return openapi_response(documented())


def build_app(
    read: read_routes.Dependencies,
    send: Callable[[], send_routes.Dependencies],
    ready: Callable[[], bool] = lambda: True,
    allowed_origin: str | None = None,
    exports: Exports | None = None,
) -> TrackerResolver:
    """The resolver with every route. ``send`` builds the send routes' collaborators; it is called
    (once) when a send or suppression route is first used."""
    from tracker.api import (
        attention_routes,
        draft_routes,
        export_routes,
        insight_routes,
        read_routes,
        resend_routes,
        send_routes,
        stats_routes,
        unsubscribe_routes,
        webhook_routes,
    )

    app = _prepare(TrackerResolver(allowed_origin))
    _add_health(app, ready)
    app.include_router(read_routes.router(read))
    app.include_router(attention_routes.read_router(lambda: read_routes.attention(read)))
    app.include_router(stats_routes.read_router(lambda: read_routes.stats(read)))
    send_deps = functools.cache(send)
    app.include_router(send_routes.router(send_deps))
    app.include_router(resend_routes.router(send_deps))
    app.include_router(draft_routes.router(send_deps))
    app.include_router(unsubscribe_routes.router(send_deps))
    app.include_router(unsubscribe_routes.resubscribe_router(send_deps))
    app.include_router(webhook_routes.router(send_deps))
    app.include_router(insight_routes.router(lambda: read_routes.insights(read)))
    export_service = functools.cache(exports or _no_exports)
    app.include_router(export_routes.read_router(export_service))
    app.include_router(export_routes.send_router(export_service))
    _add_docs(app, lambda: app)
    return app


def _no_exports() -> ExportService:
    raise RuntimeError("this app was built without exports")


def build_read_app(
    read: read_routes.Dependencies,
    whole: Callable[[], TrackerResolver],
    ready: Callable[[], bool] = lambda: True,
    allowed_origin: str | None = None,
    exports: Exports | None = None,
) -> PartialResolver:
    """The read routes, health and the documentation (of the whole API)."""
    from tracker.api import attention_routes, export_routes, insight_routes, read_routes, stats_routes

    app = PartialResolver(whole, allowed_origin)
    _prepare(app)
    _add_health(app, ready)
    app.include_router(read_routes.router(read))
    app.include_router(attention_routes.read_router(lambda: read_routes.attention(read)))
    app.include_router(stats_routes.read_router(lambda: read_routes.stats(read)))
    app.include_router(insight_routes.router(lambda: read_routes.insights(read)))
    app.include_router(export_routes.read_router(functools.cache(exports or _no_exports)))
    _add_docs(app, app.whole)
    return app


def build_send_app(
    send: Callable[[], send_routes.Dependencies],
    whole: Callable[[], TrackerResolver],
    allowed_origin: str | None = None,
    exports: Exports | None = None,
) -> PartialResolver:
    """POST /messages, POST /exports, the suppression, unsubscribe and webhook routes."""
    from tracker.api import (
        draft_routes,
        export_routes,
        resend_routes,
        send_routes,
        unsubscribe_routes,
        webhook_routes,
    )

    app = PartialResolver(whole, allowed_origin)
    _prepare(app)
    send_deps = functools.cache(send)
    app.include_router(send_routes.router(send_deps))
    app.include_router(resend_routes.router(send_deps))
    app.include_router(draft_routes.router(send_deps))
    app.include_router(unsubscribe_routes.router(send_deps))
    app.include_router(unsubscribe_routes.resubscribe_router(send_deps))
    app.include_router(webhook_routes.router(send_deps))
    app.include_router(export_routes.send_router(functools.cache(exports or _no_exports)))
    return app
