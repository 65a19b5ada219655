"""Read routes: the messages list with rates, a message, its Recipients tab and a recipient's
timeline, an invoice's Logs tab and a customer's Messages tab.

Routes only validate their input (Powertools + pydantic, documented in the OpenAPI document) and
make one call into tracker.logic.queries; the tenant comes from the verified claims that the
app's middleware put into the context.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from tracker import settings
from tracker.api.auth import Caller
from tracker.api.cursors import CursorCodec
from tracker.dal.models import bind_table
from tracker.dal.queries import DynamoReadStore
from tracker.domain.errors import UnauthenticatedError
from tracker.domain.status import Status
from tracker.logic.queries import ReadQueries, ReadStore
from tracker.models.api import (
    ID_PATTERN,
    CustomerMessagePage,
    ErrorResponse,
    InvoiceLogPage,
    Message,
    MessageKind,
    MessagePage,
    RecipientPage,
    TimelinePage,
)

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_CURSOR_LENGTH = 4096

Limit = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"Page size (default {DEFAULT_LIMIT}, at most {MAX_LIMIT}).")
]
Cursor = Annotated[
    str | None,
    Query(max_length=MAX_CURSOR_LENGTH, description="The `next_cursor` of the previous page."),
]
Kind = Annotated[MessageKind | None, Query(description="Only messages of this kind.")]
MessageId = Annotated[str, Path(pattern=ID_PATTERN, description="A message id.")]
RecipientId = Annotated[str, Path(pattern=ID_PATTERN, description="A recipient id.")]
InvoiceId = Annotated[str, Path(pattern=ID_PATTERN, description="An invoice id.")]
CustomerId = Annotated[str, Path(pattern=ID_PATTERN, description="A customer id.")]


def _error(description: str) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": ErrorResponse}}}


def _responses(ok: str, *, not_found: str | None = None) -> dict[int, OpenAPIResponse]:
    responses: dict[int, OpenAPIResponse] = {
        200: {"description": ok},
        400: _error("Invalid parameter or cursor"),
        401: _error("No verified token with a tenant"),
        503: _error("The data store is unavailable; retry"),
    }
    if not_found:
        responses[404] = _error(not_found)
    return responses


class LazyCursorCodec:
    """A CursorCodec whose secret is loaded on first use (once per container), so building the
    app never needs the secret (or network) and a missing secret fails only cursor-using routes."""

    def __init__(self, load_secret: Callable[[], bytes]) -> None:
        self._load_secret = load_secret
        self._codec: CursorCodec | None = None
        self._lock = threading.Lock()

    def _get(self) -> CursorCodec:
        if self._codec is None:
            with self._lock:
                if self._codec is None:
                    self._codec = CursorCodec(self._load_secret())
        return self._codec

    def encode(self, tenant_id: str, scope: str, position: dict[str, Any] | None) -> str | None:
        return self._get().encode(tenant_id, scope, position)

    def decode(self, cursor: str | None, tenant_id: str, scope: str) -> dict[str, Any] | None:
        return self._get().decode(cursor, tenant_id, scope)


@dataclass(frozen=True)
class Dependencies:
    queries: ReadQueries

    @classmethod
    def build(cls, store: ReadStore, cursor_secret: bytes) -> Dependencies:
        return cls(ReadQueries(store, CursorCodec(cursor_secret)))


def default_dependencies() -> Dependencies:
    """Production collaborators, built once per cold start."""
    config = settings.Settings.from_env()
    bind_table(config.table_name, region=config.region, host=config.dynamodb_endpoint)
    return Dependencies(ReadQueries(DynamoReadStore(), LazyCursorCodec(settings.cursor_secret)))


def router(dependencies: Dependencies) -> Router:
    router = Router()
    queries = dependencies.queries

    def tenant() -> str:
        caller = router.context.get("caller")
        if not isinstance(caller, Caller):  # the app's middleware sets it for every route but /health
            raise UnauthenticatedError("a verified token with a tenant_id claim is required")
        return caller.tenant_id

    @router.get(
        "/messages",
        summary="Messages list, newest first, with rates",
        description=(
            "Every sent message with its counts per status and its rates (counts as last folded; "
            "the single-message route also adds changes not folded yet). `since` is inclusive, "
            "`until` exclusive; times without an offset are UTC."
        ),
        tags=["messages"],
        responses=_responses("One page of messages"),
    )
    def list_messages(
        kind: Kind = None,
        since: Annotated[datetime | None, Query(description="Sent at or after (ISO-8601).")] = None,
        until: Annotated[datetime | None, Query(description="Sent before (ISO-8601).")] = None,
        cursor: Cursor = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> MessagePage:
        return queries.list_messages(
            tenant(), kind=kind, since=since, until=until, limit=limit, cursor=cursor
        )

    @router.get(
        "/messages/<message_id>",
        summary="One message with exact counts and rates",
        tags=["messages"],
        responses=_responses("The message", not_found="No such message"),
    )
    def get_message(message_id: MessageId) -> Message:
        return queries.get_message(tenant(), message_id)

    @router.get(
        "/messages/<message_id>/recipients",
        summary="Recipients tab: each recipient's status, opens, bounce reason",
        description=(
            "In recipient id order. With `status`, a page can hold fewer than `limit` recipients "
            "(even none) while `next_cursor` is set: keep paging until it is `null`."
        ),
        tags=["messages"],
        responses=_responses("One page of recipients", not_found="No such message"),
    )
    def list_recipients(
        message_id: MessageId,
        status: Annotated[Status | None, Query(description="Only recipients in this status.")] = None,
        cursor: Cursor = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> RecipientPage:
        return queries.list_recipients(tenant(), message_id, status=status, limit=limit, cursor=cursor)

    @router.get(
        "/messages/<message_id>/recipients/<recipient_id>/events",
        summary="A recipient's timeline: SES events, oldest first",
        tags=["messages"],
        responses=_responses("One page of events", not_found="No such recipient"),
    )
    def list_recipient_events(
        message_id: MessageId,
        recipient_id: RecipientId,
        cursor: Cursor = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> TimelinePage:
        return queries.recipient_timeline(tenant(), message_id, recipient_id, limit=limit, cursor=cursor)

    @router.get(
        "/invoices/<invoice_id>/logs",
        summary="Invoice Logs tab: messages → recipients → events, with current statuses",
        description=(
            "`limit` counts stored entries (a message, a recipient or an event), so a page can end "
            "inside a message: the next page continues it under the same `message_id` and "
            "`recipient_id`; merge by id."
        ),
        tags=["invoices"],
        responses=_responses("One page of the invoice's log", not_found="No such invoice"),
    )
    def invoice_logs(
        invoice_id: InvoiceId, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
    ) -> InvoiceLogPage:
        return queries.invoice_logs(tenant(), invoice_id, limit=limit, cursor=cursor)

    @router.get(
        "/customers/<customer_id>/messages",
        summary="Customer Messages tab: emails, invoices and receipts sent to the customer, newest first",
        description=(
            "With `kind`, a page can hold fewer than `limit` messages (even none) while "
            "`next_cursor` is set: keep paging until it is `null`."
        ),
        tags=["customers"],
        responses=_responses("One page of the customer's messages", not_found="No such customer"),
    )
    def customer_messages(
        customer_id: CustomerId, kind: Kind = None, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
    ) -> CustomerMessagePage:
        return queries.customer_messages(tenant(), customer_id, kind=kind, limit=limit, cursor=cursor)

    return router
