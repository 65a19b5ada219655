"""Send routes: POST /messages, and the suppression list (GET, GET one, DELETE = lift).

Routes validate their input (Powertools + pydantic: request validation errors become 400s naming
the field in the app's one error mapping) and make one call into tracker.logic; the tenant comes
only from the verified claims the app's middleware put into the context.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter, Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import ConfigDict, TypeAdapter, ValidationError

from tracker import settings
from tracker.api.auth import Caller
from tracker.api.read_routes import LazyCursorCodec
from tracker.dal.models import bind_table
from tracker.domain.errors import InvalidRequestError, UnauthenticatedError
from tracker.logic.suppression import SuppressionState
from tracker.models.api import ErrorResponse
from tracker.models.send import (
    MAX_JOB_RECIPIENTS,
    EmailAddress,
    HistoryOut,
    SendMessageRequest,
    SendMessageResponse,
    SuppressionDetail,
    SuppressionOut,
    SuppressionPage,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from tracker.logic.sending import IdempotencyGuard, MessageService
    from tracker.logic.suppression import SuppressionService


DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_CURSOR_LENGTH = 2048
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # printable ASCII, e.g. a UUID

Limit = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"Page size (default {DEFAULT_LIMIT}, at most {MAX_LIMIT}).")
]
Cursor = Annotated[
    str | None, Query(max_length=MAX_CURSOR_LENGTH, description="The `next_cursor` of the previous page.")
]
AddressParam = Annotated[str, Path(min_length=3, max_length=320, description="The address (URL-encoded).")]
# Built when a suppression route first validates an address (email-validator is loaded then): the
# other routes never need it.
_EMAIL = TypeAdapter(EmailAddress, config=ConfigDict(defer_build=True))


@dataclass(frozen=True)
class Dependencies:
    messages: MessageService
    suppressions: SuppressionService
    idempotency: IdempotencyGuard
    cursors: LazyCursorCodec


def _current_lambda_context() -> LambdaContext | None:
    """The invocation's context, which the resolver keeps on its routers while it resolves."""
    context = getattr(BaseRouter, "lambda_context", None)
    return context if hasattr(context, "get_remaining_time_in_millis") else None


def build_dependencies(
    config: settings.Settings,
    send: settings.SendSettings,
    sqs_client: Any,
    dynamodb_client: Any,
    cursor_secret: Callable[[], bytes],
    lambda_context: Callable[[], LambdaContext | None] = _current_lambda_context,
) -> Dependencies:
    """The collaborators on the given clients (the models must already be bound to the table).

    The send stack (its stores, the SQS client, Powertools idempotency) is imported here, when a
    send or suppression route is first called, so a cold start that serves a read route (most of
    them) neither imports nor builds it."""
    from tracker.dal.idempotency import PowertoolsIdempotency
    from tracker.dal.ingest_store import DynamoIngestStore
    from tracker.dal.messages import DynamoMessageStore
    from tracker.dal.outbound import SqsJobQueue
    from tracker.dal.sending import DynamoSendStore
    from tracker.dal.suppressions import DynamoSuppressionStore
    from tracker.logic.sending import MessageService, OutcomeRecorder
    from tracker.logic.suppression import SuppressionRules, SuppressionService

    suppressions = SuppressionService(
        DynamoSuppressionStore(config.event_log_retention), SuppressionRules.from_settings(send)
    )
    send_store = DynamoSendStore(DynamoIngestStore(config.event_log_retention))
    messages = MessageService(
        store=DynamoMessageStore(),
        queue=SqsJobQueue(sqs_client, send.send_queue_url),
        suppressions=suppressions,
        outcomes=OutcomeRecorder(send_store),
        chunk_size=max(1, min(send.chunk_size, MAX_JOB_RECIPIENTS)),
    )
    return Dependencies(
        messages=messages,
        suppressions=suppressions,
        idempotency=PowertoolsIdempotency(config.table_name, dynamodb_client, lambda_context),
        cursors=LazyCursorCodec(cursor_secret),
    )


def default_dependencies() -> Dependencies:
    """Production collaborators, built once per container on first use (no network until then)."""
    import boto3  # see build_dependencies

    config = settings.Settings.from_env()
    bind_table(config.table_name, region=config.region, host=config.dynamodb_endpoint)
    return build_dependencies(
        config,
        settings.SendSettings.from_env(),
        sqs_client=boto3.client("sqs", region_name=config.region),
        dynamodb_client=boto3.client(
            "dynamodb", region_name=config.region, endpoint_url=config.dynamodb_endpoint
        ),
        cursor_secret=settings.cursor_secret,
    )


def _error(description: str) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": ErrorResponse}}}


def _json(status: int, body: dict[str, Any]) -> Response[dict[str, Any]]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


def _address(raw: str) -> str:
    try:
        return _EMAIL.validate_python(unquote(raw))
    except ValidationError as error:
        detail = error.errors()[0].get("msg", "not an email address") if error.errors() else "invalid"
        raise InvalidRequestError(f"email: {detail}", field="email") from error


def router(dependencies: Callable[[], Dependencies]) -> Router:
    """The routes, which call ``dependencies()`` (cached by the caller) when they first need them."""
    router = Router()
    deps = dependencies

    def caller() -> Caller:
        value = router.context.get("caller")
        if not isinstance(value, Caller):  # the app's middleware sets it for every route but /health
            raise UnauthenticatedError("a verified token with a tenant_id claim is required")
        return value

    @router.post(
        "/messages",
        summary="Send an email, invoice or payment receipt to up to 500 recipients",
        description=(
            "Writes the message and every recipient (`queued`, or `dropped` when the address is "
            "suppressed for this tenant), then queues the sends: one SES message per recipient. "
            "With an `Idempotency-Key` header a retried request returns the first answer and "
            "sends nothing new; the same key with a different body is a 422."
        ),
        tags=["sending"],
        responses={
            202: {
                "description": "Accepted for sending",
                "content": {"application/json": {"model": SendMessageResponse}},
            },
            400: _error("Invalid body or header (the error names the field)"),
            401: _error("No verified token with a tenant"),
            409: _error("A request with this Idempotency-Key is still in progress"),
            422: _error("This Idempotency-Key was used with a different body"),
            503: _error("The data store is unavailable; retry with the same Idempotency-Key"),
        },
    )
    def create_message(
        request: Annotated[SendMessageRequest, Body()],
        idempotency_key: Annotated[
            str | None,
            Header(
                alias="Idempotency-Key",
                pattern=IDEMPOTENCY_KEY_PATTERN,
                description="Makes retries safe: printable ASCII, up to 255 characters (e.g. a UUID).",
            ),
        ] = None,
    ) -> Response[dict[str, Any]]:
        who = caller()

        def create() -> dict[str, Any]:
            created = deps().messages.create(who.tenant_id, who.subject, request.to_draft())
            return SendMessageResponse.of(created).model_dump(mode="json")

        if idempotency_key is None:
            return _json(202, create())
        body = deps().idempotency.run(who.tenant_id, idempotency_key, request.model_dump(mode="json"), create)
        return _json(202, body)

    @router.get(
        "/suppressions",
        summary="Suppressed addresses (active by default), newest first",
        tags=["suppressions"],
        responses={
            200: {"description": "One page of suppressions"},
            400: _error("Invalid parameter or cursor"),
            401: _error("No verified token with a tenant"),
        },
    )
    def list_suppressions(
        state: Annotated[
            SuppressionState, Query(description="`active` (default) or `lifted` (kept as history).")
        ] = SuppressionState.ACTIVE,
        cursor: Cursor = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> SuppressionPage:
        tenant_id = caller().tenant_id
        scope = f"suppressions:{state.value}"
        position = deps().cursors.decode(cursor, tenant_id, scope)
        records, next_position = deps().suppressions.list_page(tenant_id, state, limit, position)
        return SuppressionPage(
            items=[SuppressionOut.of(r) for r in records],
            next_cursor=deps().cursors.encode(tenant_id, scope, next_position),
        )

    @router.get(
        "/suppressions/<email>",
        summary="One address's suppression with its evidence and audit history",
        tags=["suppressions"],
        responses={
            200: {"description": "The suppression record"},
            400: _error("Not an email address"),
            401: _error("No verified token with a tenant"),
            404: _error("This address was never suppressed"),
        },
    )
    def get_suppression(email: AddressParam) -> SuppressionDetail:
        record, history = deps().suppressions.get(caller().tenant_id, _address(email))
        base = SuppressionOut.of(record)
        return SuppressionDetail(**dict(base), history=[HistoryOut.of(entry) for entry in history])

    @router.delete(
        "/suppressions/<email>",
        summary="Lift a suppression (audited: who and when); sending to the address works again",
        tags=["suppressions"],
        responses={
            200: {"description": "The lifted record (kept as history)"},
            400: _error("Not an email address"),
            401: _error("No verified token with a tenant"),
            404: _error("This address is not suppressed"),
        },
    )
    def lift_suppression(email: AddressParam) -> SuppressionOut:
        who = caller()
        actor = who.subject or "unknown"
        return SuppressionOut.of(deps().suppressions.lift(who.tenant_id, _address(email), actor))

    return router
