"""Send routes: POST /messages, the suppression list (GET, GET one, DELETE = lift), and the
erasure of a customer's personal data (DELETE /customers/{id}): the routes that write.

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
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import ConfigDict, TypeAdapter, ValidationError

from tracker.api.auth import Caller
from tracker.api.body import MAX_REQUEST_BYTES
from tracker.api.cursors import LazyCursorCodec
from tracker.api.params import (
    DEFAULT_LIMIT,
    UNAUTHENTICATED,
    UNAVAILABLE,
    AddressParam,
    Cursor,
    CustomerId,
    Limit,
    current_caller,
    error_doc,
)
from tracker.domain.errors import InvalidRequestError
from tracker.domain.suppression import SuppressionState
from tracker.models.send import (
    EmailAddress,
    ErasureOut,
    HistoryOut,
    SendMessageRequest,
    SendMessageResponse,
    SuppressionDetail,
    SuppressionOut,
    SuppressionPage,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from tracker.logic.creation import MessageService
    from tracker.logic.drafts import DraftService
    from tracker.logic.erasure import ErasureService
    from tracker.logic.ports import IdempotencyGuard
    from tracker.logic.resending import RecipientActionService
    from tracker.logic.suppression import SuppressionService
    from tracker.logic.unsubscribe import UnsubscribeService
    from tracker.logic.webhooks import WebhookService


IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # printable ASCII, e.g. a UUID

# Built when a suppression route first validates an address (email-validator is loaded then): the
# other routes never need it.
_EMAIL = TypeAdapter(EmailAddress, config=ConfigDict(defer_build=True))


@dataclass(frozen=True)
class Dependencies:
    messages: MessageService
    suppressions: SuppressionService
    idempotency: IdempotencyGuard
    cursors: LazyCursorCodec
    erasure: ErasureService
    actions: RecipientActionService | None = None  # resend and dismiss
    unsubscribe: UnsubscribeService | None = None  # one-click unsubscribe, resubscribe
    webhooks: WebhookService | None = None  # tracker.api.webhook_routes
    drafts: DraftService | None = None  # large messages in steps (tracker.api.draft_routes)


def current_lambda_context() -> LambdaContext | None:
    """The invocation's context, which the resolver keeps on its routers while it resolves."""
    context = getattr(BaseRouter, "lambda_context", None)
    return context if hasattr(context, "get_remaining_time_in_millis") else None


def json_response(status: int, body: dict[str, Any]) -> Response[dict[str, Any]]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


def address_of(raw: str) -> str:
    try:
        return _EMAIL.validate_python(unquote(raw))
    except ValidationError as error:
        detail = error.errors()[0].get("msg", "not an email address") if error.errors() else "invalid"
        raise InvalidRequestError(f"email: {detail}", field="email") from error


def address_responses(ok: str, not_found: str) -> dict[int, OpenAPIResponse]:
    """The answers of a route on one suppressed or unsubscribed address."""
    return {
        200: {"description": ok},
        400: error_doc("Not an email address"),
        401: error_doc(UNAUTHENTICATED),
        404: error_doc(not_found),
        503: error_doc(UNAVAILABLE),
    }


def router(dependencies: Callable[[], Dependencies]) -> Router:
    """The routes, which call ``dependencies()`` (cached by the caller) when they first need them."""
    router = Router()
    _send_routes(router, dependencies)
    _suppression_routes(router, dependencies)
    _erasure_routes(router, dependencies)
    return router


def _send_routes(router: Router, deps: Callable[[], Dependencies]) -> None:
    def caller() -> Caller:
        return current_caller(router)

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
            400: error_doc("Invalid body or header (the error names the field)"),
            401: error_doc(UNAUTHENTICATED),
            409: error_doc("A request with this Idempotency-Key is still in progress"),
            413: error_doc(f"The body is larger than {MAX_REQUEST_BYTES} bytes"),
            415: error_doc("The body is not JSON: send `application/json` (or a `+json` type) in UTF-8"),
            422: error_doc("This Idempotency-Key was used with a different body"),
            503: error_doc("The data store is unavailable; retry with the same Idempotency-Key"),
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
            return json_response(202, create())
        body = deps().idempotency.run(who.tenant_id, idempotency_key, request.model_dump(mode="json"), create)
        return json_response(202, body)


def _suppression_routes(router: Router, deps: Callable[[], Dependencies]) -> None:
    """The suppression list: list, one address with its history, and lift (audited)."""

    def caller() -> Caller:
        return current_caller(router)

    @router.get(
        "/suppressions",
        summary="Suppressed addresses (active by default), newest first",
        tags=["suppressions"],
        responses={
            200: {"description": "One page of suppressions"},
            400: error_doc("Invalid parameter or cursor"),
            401: error_doc(UNAUTHENTICATED),
            503: error_doc(UNAVAILABLE),
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
        scope = ("suppressions", state.value)
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
        responses=address_responses("The suppression record", "This address was never suppressed"),
    )
    def get_suppression(email: AddressParam) -> SuppressionDetail:
        record, history = deps().suppressions.get(caller().tenant_id, address_of(email))
        base = SuppressionOut.of(record)
        return SuppressionDetail(**dict(base), history=[HistoryOut.of(entry) for entry in history])

    @router.delete(
        "/suppressions/<email>",
        summary="Lift a suppression (audited: who and when); sending to the address works again",
        tags=["suppressions"],
        responses=address_responses("The lifted record (kept as history)", "This address is not suppressed"),
    )
    def lift_suppression(email: AddressParam) -> SuppressionOut:
        who = caller()
        actor = who.subject or "unknown"
        return SuppressionOut.of(deps().suppressions.lift(who.tenant_id, address_of(email), actor))


def _erasure_routes(router: Router, deps: Callable[[], Dependencies]) -> None:
    @router.delete(
        "/customers/<customer_id>",
        summary="Erase a customer's personal data across this tenant's messages (audited, idempotent)",
        description=(
            "Removes the customer's addresses, names and event details (user agents, IP addresses, "
            "links, bounce diagnostics) from every message sent to them; statuses and counts stay. "
            "A suppressed address stays suppressed, kept only as a hash. Repeating the call erases "
            "what was sent since, or, when nothing is left, answers the latest erasure unchanged."
        ),
        tags=["customers"],
        responses={
            200: {"description": "The erasure's audit entry"},
            400: error_doc("Invalid customer id"),
            401: error_doc(UNAUTHENTICATED),
            404: error_doc("This tenant never sent to this customer"),
            503: error_doc("The data store is unavailable; repeat the call (it resumes)"),
        },
    )
    def erase_customer(customer_id: CustomerId) -> ErasureOut:
        who = current_caller(router)
        record = deps().erasure.erase(who.tenant_id, customer_id, who.subject or "unknown")
        return ErasureOut.of(record)
