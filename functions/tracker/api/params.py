"""What every route shares: paging limits and parameters, path ids, the caller, and the OpenAPI
description of error answers."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from tracker.api.auth import Caller
from tracker.api.cursors import MAX_CURSOR_LENGTH
from tracker.domain.errors import UnauthenticatedError
from tracker.models.api import ID_PATTERN, ErrorResponse, MessageKind

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

Limit = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"Page size (default {DEFAULT_LIMIT}, at most {MAX_LIMIT}).")
]
Cursor = Annotated[
    str | None,
    Query(max_length=MAX_CURSOR_LENGTH, description="The `next_cursor` of the previous page."),
]
Kind = Annotated[MessageKind | None, Query(description="Only messages of this kind.")]

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _not_a_number(value: Any) -> Any:
    # pydantic would read "0" as 1970-01-01 (seconds since the epoch); the API takes ISO-8601 only.
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        raise PydanticCustomError(
            "datetime_not_iso", "an ISO-8601 time is required, e.g. 2026-11-01T09:00:00Z"
        )
    return value


not_a_number = _not_a_number  # for other routes' time parameters (tracker.api.stats_routes)

# Query times: ISO-8601 (``2026-11-01T09:00:00Z``; without an offset they are UTC).
Since = Annotated[
    datetime | None, BeforeValidator(_not_a_number), Query(description="Sent at or after (ISO-8601).")
]
Until = Annotated[
    datetime | None, BeforeValidator(_not_a_number), Query(description="Sent before (ISO-8601).")
]

MessageId = Annotated[str, Path(pattern=ID_PATTERN, description="A message id.")]
RecipientId = Annotated[str, Path(pattern=ID_PATTERN, description="A recipient id.")]
InvoiceId = Annotated[str, Path(pattern=ID_PATTERN, description="An invoice id.")]
CustomerId = Annotated[str, Path(pattern=ID_PATTERN, description="A customer id.")]
AddressParam = Annotated[str, Path(min_length=3, max_length=320, description="The address (URL-encoded).")]

UNAUTHENTICATED = "No verified token with a tenant"
UNAVAILABLE = "The data store is unavailable; retry"


def error_doc(description: str) -> OpenAPIResponse:
    """An error answer in the OpenAPI document: ``{"error": {"code", "message", "field"}}``."""
    return {"description": description, "content": {"application/json": {"model": ErrorResponse}}}


def read_responses(ok: str, *, not_found: str | None = None) -> dict[int, OpenAPIResponse]:
    responses: dict[int, OpenAPIResponse] = {
        200: {"description": ok},
        400: error_doc("Invalid parameter or cursor"),
        401: error_doc(UNAUTHENTICATED),
        503: error_doc(UNAVAILABLE),
    }
    if not_found:
        responses[404] = error_doc(not_found)
    return responses


def current_caller(router: Router) -> Caller:
    """The verified caller the app's middleware put into the context (every route but /health)."""
    caller = router.context.get("caller")
    if not isinstance(caller, Caller):
        raise UnauthenticatedError("a verified token with a tenant_id claim is required")
    return caller
