"""The HTTP API: one Powertools resolver, routers per concern, errors mapped in one place."""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

from tracker.api import read_routes, send_routes
from tracker.api.auth import caller_from_event
from tracker.api.errors import register_error_handlers

PUBLIC_PATHS = frozenset({"/health"})
API_TITLE = "Delivery tracker API"
API_VERSION = "1.0.0"


def require_caller(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[object]:
    """Every route but health needs a verified tenant (API Gateway's authorizer already ran in AWS;
    this also guards local mode and any misconfigured route)."""
    if app.current_event.path not in PUBLIC_PATHS:
        app.append_context(caller=caller_from_event(app.current_event.raw_event))
    return next_middleware(app)


def build_app(
    read: read_routes.Dependencies | None = None,
    send: send_routes.Dependencies | None = None,
    ready: Callable[[], bool] = lambda: True,
) -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True)
    register_error_handlers(app)
    app.use(middlewares=[require_caller])

    @app.get("/health", summary="Liveness (no authentication)")
    def health() -> dict[str, str]:
        return {"status": "ok" if ready() else "starting"}

    app.include_router(read_routes.router(read or read_routes.default_dependencies()))
    app.include_router(send_routes.router(send or send_routes.default_dependencies()))
    app.enable_swagger(
        path="/docs",
        title=API_TITLE,
        version=API_VERSION,
        security_schemes={"bearer": HTTPBearer(bearerFormat="JWT")},
        security=[{"bearer": []}],
    )

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_document() -> Response[str]:
        return Response(
            status_code=200,
            content_type=content_types.APPLICATION_JSON,
            body=app.get_openapi_json_schema(
                title=API_TITLE,
                version=API_VERSION,
                security_schemes={"bearer": HTTPBearer(bearerFormat="JWT")},
                security=[{"bearer": []}],
            ),
        )

    return app
