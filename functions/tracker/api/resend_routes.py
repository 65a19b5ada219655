"""The owner's two actions on a recipient of the attention queue, resend and dismiss (send routes:
they write). Each validates its input and makes one call into tracker.logic; the tenant and the
actor come only from the verified claims."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Header

from tracker.api.body import MAX_REQUEST_BYTES
from tracker.api.params import (
    UNAUTHENTICATED,
    UNAVAILABLE,
    MessageId,
    RecipientId,
    current_caller,
    error_doc,
)
from tracker.api.send_routes import IDEMPOTENCY_KEY_PATTERN, json_response
from tracker.models.resend import DismissResponse, ResendRequest, ResendResponse

if TYPE_CHECKING:
    from tracker.api.send_routes import Dependencies
    from tracker.logic.resending import RecipientActionService

_RECIPIENT_PATH = "/messages/<message_id>/recipients/<recipient_id>"


def _actions(deps: Dependencies) -> RecipientActionService:
    if deps.actions is None:
        raise TypeError("the send routes' dependencies have no recipient actions")
    return deps.actions


def router(deps: Callable[[], Dependencies]) -> Router:
    router = Router()

    @router.post(
        f"{_RECIPIENT_PATH}/resend",
        summary="Resend to a recipient (optionally at a corrected address): a new message, linked",
        description=(
            "A new message of the same kind, content and invoice or payment id, to this customer "
            "alone, at `email` or the old address; the old recipient gets `resent_as`, the new "
            "message `resent_from`, and it leaves the attention queue. With an `Idempotency-Key` "
            "a repeat returns the first answer and sends nothing new."
        ),
        tags=["attention"],
        responses={
            201: {
                "description": "The new message",
                "content": {"application/json": {"model": ResendResponse}},
            },
            400: error_doc("Invalid body or header"),
            401: error_doc(UNAUTHENTICATED),
            404: error_doc("No such recipient"),
            409: error_doc(
                "`address_suppressed` (lift it with DELETE /suppressions/{email} or use another "
                "address), `already_resent`, `content_expired` (the content's retention has passed: "
                "send a new message), or a request with this Idempotency-Key in progress"
            ),
            413: error_doc(f"The body is larger than {MAX_REQUEST_BYTES} bytes"),
            415: error_doc("The body is not JSON"),
            422: error_doc("This Idempotency-Key was used with a different request"),
            503: error_doc(UNAVAILABLE),
        },
    )
    def resend(
        message_id: MessageId,
        recipient_id: RecipientId,
        request: Annotated[ResendRequest | None, Body()] = None,
        idempotency_key: Annotated[
            str | None, Header(alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY_PATTERN)
        ] = None,
    ) -> Response[dict[str, Any]]:
        who = current_caller(router)
        email = request.email if request is not None else None

        def run() -> dict[str, Any]:
            created = _actions(deps()).resend(
                who.tenant_id, who.subject or "unknown", message_id, recipient_id, email
            )
            return ResendResponse.of(created, message_id, recipient_id).model_dump(mode="json")

        if idempotency_key is None:
            return json_response(201, run())
        payload = {"resend": [message_id, recipient_id], "email": email}
        return json_response(201, deps().idempotency.run(who.tenant_id, idempotency_key, payload, run))

    @router.post(
        f"{_RECIPIENT_PATH}/dismiss",
        summary="Dismiss a recipient from the attention queue without resending (audited)",
        tags=["attention"],
        responses={
            200: {"description": "The dismissal (the first one, when repeated)"},
            400: error_doc("Invalid message or recipient id"),
            401: error_doc(UNAUTHENTICATED),
            404: error_doc("No such recipient"),
            503: error_doc(UNAVAILABLE),
        },
    )
    def dismiss(message_id: MessageId, recipient_id: RecipientId) -> DismissResponse:
        who = current_caller(router)
        dismissal = _actions(deps()).dismiss(
            who.tenant_id, who.subject or "unknown", message_id, recipient_id
        )
        return DismissResponse.of(dismissal)

    return router
