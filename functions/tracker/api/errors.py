"""The one place where exceptions become HTTP responses: `{"error": {"code", "message"}}`."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from tracker.domain import errors
from tracker.domain.text import has_control_characters

if TYPE_CHECKING:
    from tracker.api.resolver import TrackerResolver

logger = Logger(child=True)

# Where Python's phrases are RFC 7231's and RFC 9110 renamed the status.
_RFC9110_NAMES = {HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "Content Too Large"}


class ProtocolError(Exception):
    """A request refused at the HTTP level, before a route reads it: 405, 413, 415. The code is
    the status's RFC 9110 name (``unsupported_media_type``, ``content_too_large``); ``headers`` go
    into the answer (``Allow``, ``Accept``)."""

    def __init__(self, status: HTTPStatus, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = _RFC9110_NAMES.get(status, status.phrase).lower().replace(" ", "_")
        self.headers = dict(headers or {})


_DOMAIN_STATUS: tuple[tuple[type[errors.TrackerError], HTTPStatus, str], ...] = (
    (errors.InvalidCursorError, HTTPStatus.BAD_REQUEST, "invalid_cursor"),
    (errors.WebhookTargetRefusedError, HTTPStatus.BAD_REQUEST, "webhook_target_refused"),
    (errors.InvalidRequestError, HTTPStatus.BAD_REQUEST, "invalid_request"),
    (errors.UnauthenticatedError, HTTPStatus.UNAUTHORIZED, "unauthenticated"),
    (errors.PermissionDeniedError, HTTPStatus.FORBIDDEN, "forbidden"),
    (errors.NotFoundError, HTTPStatus.NOT_FOUND, "not_found"),
    (errors.AddressSuppressedError, HTTPStatus.CONFLICT, "address_suppressed"),
    (errors.AlreadyResentError, HTTPStatus.CONFLICT, "already_resent"),
    (errors.ContentExpiredError, HTTPStatus.CONFLICT, "content_expired"),
    (errors.ConflictError, HTTPStatus.CONFLICT, "conflict"),
    (errors.RequestMismatchError, HTTPStatus.UNPROCESSABLE_ENTITY, "idempotency_key_reused"),
    (errors.RateLimitedError, HTTPStatus.TOO_MANY_REQUESTS, "rate_limited"),
    (errors.TransientStoreError, HTTPStatus.SERVICE_UNAVAILABLE, "unavailable"),
)


def error_response(status: HTTPStatus, code: str, message: str, **extra: Any) -> Response[dict[str, Any]]:
    error: dict[str, Any] = {"code": code, "message": message}
    error.update({key: value for key, value in extra.items() if value is not None})
    return Response(
        status_code=status.value, content_type=content_types.APPLICATION_JSON, body={"error": error}
    )


def protocol_response(error: ProtocolError) -> Response[dict[str, Any]]:
    response = error_response(error.status, error.code, str(error))
    response.headers.update(error.headers)
    return response


def _location(loc: tuple[Any, ...]) -> str:
    # Powertools reports ("body", "recipients", 0, "email"); the client wants "recipients[0].email".
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or ".".join(str(p) for p in loc)


def register_error_handlers(app: TrackerResolver) -> None:
    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response[dict[str, Any]]:
        first = error.errors()[0] if error.errors() else {"loc": (), "msg": "invalid request"}
        field = _location(tuple(first.get("loc", ())))
        message = f"{field}: {first.get('msg', 'invalid value')}" if field else str(first.get("msg"))
        return error_response(HTTPStatus.BAD_REQUEST, "invalid_request", message, field=field or None)

    @app.exception_handler(errors.TrackerError)
    def domain_error(error: errors.TrackerError) -> Response[dict[str, Any]]:
        for error_type, status, code in _DOMAIN_STATUS:
            if isinstance(error, error_type):
                field = getattr(error, "field", None)
                if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
                    logger.warning("service unavailable", extra={"error": str(error)})
                return error_response(status, code, str(error), field=field)
        logger.exception("unmapped domain error")
        return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "internal error")

    @app.exception_handler(ProtocolError)
    def protocol_error(error: ProtocolError) -> Response[dict[str, Any]]:
        return protocol_response(error)

    @app.exception_handler(ServiceError)
    def powertools_error(error: ServiceError) -> Response[dict[str, Any]]:
        status = HTTPStatus(error.status_code)
        return error_response(status, status.phrase.lower().replace(" ", "_"), str(error.msg))

    @app.not_found
    def route_not_found(_: Exception) -> Response[dict[str, Any]]:
        method, path = app.current_event.http_method.upper(), app.current_event.path
        if has_control_characters(path):
            # Never another resource: no route pattern matches a control character.
            return error_response(
                HTTPStatus.BAD_REQUEST, "invalid_request", "the path contains control characters"
            )
        allowed = app.allowed_methods(path)
        if allowed:
            refusal = ProtocolError(
                HTTPStatus.METHOD_NOT_ALLOWED,
                f"{method[:16]} is not allowed here; allowed: {', '.join(allowed)}",
                headers={"Allow": ", ".join(allowed)},
            )
            return protocol_response(refusal)
        return error_response(HTTPStatus.NOT_FOUND, "not_found", "no such route")

    @app.exception_handler(Exception)
    def unexpected(_: Exception) -> Response[dict[str, Any]]:
        logger.exception("unhandled error")  # the trace goes to the log, never to the client
        return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "internal error")
