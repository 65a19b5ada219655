"""Large messages in steps (docs/sending.md): ``POST /drafts``, ``PUT /drafts/{id}/batches/{n}``,
``GET /drafts/{id}``, ``POST /drafts/{id}/send`` and ``DELETE /drafts/{id}``; each idempotent.

A batch is accepted whole or not at all: a batch with a bad row answers 400 with every bad row
(``{row, field, message}``) and stores nothing, so a client fixes the rows and puts the same batch
number again. The send runs while the invocation has time; ``state: "sending"`` asks for another
call, which continues where this one stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from tracker.api.body import MAX_REQUEST_BYTES
from tracker.api.params import UNAUTHENTICATED, UNAVAILABLE, current_caller, error_doc
from tracker.api.send_routes import IDEMPOTENCY_KEY_PATTERN, current_lambda_context, json_response
from tracker.domain.errors import NotFoundError
from tracker.models.api import ID_PATTERN
from tracker.models.drafts import BatchRejected, BatchRequest, DraftOut, DraftRequest, RowErrorOut, check_rows

if TYPE_CHECKING:
    from tracker.api.send_routes import Dependencies
    from tracker.logic.drafts import DraftService

DraftId = Annotated[str, Path(pattern=ID_PATTERN, description="The draft's message id.")]
# The send stops with this much of the invocation left (the API's own timeout is shorter still).
SEND_RESERVE_MS = 8_000


def _answers(ok: int, what: str, **more: OpenAPIResponse) -> dict[int, OpenAPIResponse]:
    answers: dict[int, OpenAPIResponse] = {
        ok: {"description": what, "content": {"application/json": {"model": DraftOut}}},
        400: error_doc("Invalid body or parameter (the error names the field)"),
        401: error_doc(UNAUTHENTICATED),
        404: error_doc("No draft with this id for this tenant"),
        503: error_doc(UNAVAILABLE),
    }
    answers.update({int(k.removeprefix("s")): v for k, v in more.items()})
    return answers


def _body_answers(ok: int, what: str, **more: OpenAPIResponse) -> dict[int, OpenAPIResponse]:
    answers = _answers(ok, what, **more)
    answers[413] = error_doc(f"The body is larger than {MAX_REQUEST_BYTES} bytes")
    answers[415] = error_doc("The body is not JSON: send `application/json` in UTF-8")
    return answers


def _time_left() -> bool:
    context = current_lambda_context()
    return context is None or context.get_remaining_time_in_millis() > SEND_RESERVE_MS


def router(dependencies: Callable[[], Dependencies]) -> Router:
    router = Router()

    def drafts() -> DraftService:
        service = dependencies().drafts
        if service is None:
            raise NotFoundError("drafts are not enabled")
        return service

    _create_route(router, dependencies, drafts)
    _batch_route(router, drafts)
    _state_routes(router, drafts)
    return router


def _create_route(
    router: Router, deps: Callable[[], Dependencies], drafts: Callable[[], DraftService]
) -> None:
    @router.post(
        "/drafts",
        summary="Start a large message (up to 100,000 recipients): a draft, nothing sent",
        tags=["sending"],
        responses=_body_answers(
            201,
            "The draft",
            s409=error_doc("Too many open drafts, or this Idempotency-Key is still in progress"),
            s422=error_doc("This Idempotency-Key was used with a different body"),
        ),
    )
    def create_draft(
        request: Annotated[DraftRequest, Body()],
        idempotency_key: Annotated[
            str | None, Header(alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY_PATTERN)
        ] = None,
    ) -> Response[dict[str, Any]]:
        who = current_caller(router)

        def create() -> dict[str, Any]:
            draft = drafts().create(
                who.tenant_id,
                who.subject,
                request.kind,
                request.content(),
                request.invoice_id,
                request.payment_id,
            )
            return DraftOut.of(draft).model_dump(mode="json")

        if idempotency_key is None:
            return json_response(201, create())
        return json_response(
            201,
            deps().idempotency.run(who.tenant_id, idempotency_key, request.model_dump(mode="json"), create),
        )


def _batch_route(router: Router, drafts: Callable[[], DraftService]) -> None:
    @router.put(
        "/drafts/<message_id>/batches/<number>",
        summary="Add or replace one batch of up to 1,000 recipients (idempotent by batch number)",
        tags=["sending"],
        responses=_body_answers(
            200,
            "The draft with this batch accepted",
            s409=error_doc("The draft is being sent: its batches can no longer change"),
        )
        | {
            400: {
                "description": "Bad rows (nothing stored)",
                "content": {"application/json": {"model": BatchRejected}},
            }
        },
    )
    def put_batch(
        message_id: DraftId,
        number: Annotated[int, Path(ge=1, le=100_000, description="1, 2, ...")],
        request: Annotated[BatchRequest, Body()],
    ) -> Response[dict[str, Any]]:
        rows, errors = check_rows(request.recipients)
        if errors:
            body = BatchRejected(
                error={
                    "code": "invalid_rows",
                    "message": f"{len(errors)} bad rows: nothing stored",
                    "field": "recipients",
                },
                rows=[RowErrorOut(row=e.row, field=e.field, message=e.message) for e in errors],
            )
            return json_response(400, body.model_dump(mode="json"))
        draft = drafts().put_batch(current_caller(router).tenant_id, message_id, number, rows)
        return json_response(200, DraftOut.of(draft).model_dump(mode="json"))


def _state_routes(router: Router, drafts: Callable[[], DraftService]) -> None:
    @router.get(
        "/drafts/<message_id>",
        summary="A draft: its batches, rows and send progress",
        tags=["sending"],
        responses=_answers(200, "The draft"),
    )
    def get_draft(message_id: DraftId) -> DraftOut:
        return DraftOut.of(drafts().get(current_caller(router).tenant_id, message_id))

    @router.post(
        "/drafts/<message_id>/send",
        summary="Send the draft (idempotent, resumable: call again while `state` is `sending`)",
        tags=["sending"],
        responses=_answers(
            202, "Sending or sent", s409=error_doc("Another call changed the draft meanwhile")
        ),
    )
    def send_draft(message_id: DraftId) -> Response[dict[str, Any]]:
        draft = drafts().send(current_caller(router).tenant_id, message_id, _time_left)
        return json_response(202, DraftOut.of(draft).model_dump(mode="json"))

    @router.delete(
        "/drafts/<message_id>",
        summary="Discard a draft that is not being sent (its batches are deleted)",
        tags=["sending"],
        responses=_answers(200, "Discarded", s409=error_doc("The draft is being sent or was sent"))
        | {200: {"description": 'Discarded: `{message_id, state: "discarded"}`'}},
    )
    def discard_draft(message_id: DraftId) -> dict[str, str]:
        drafts().discard(current_caller(router).tenant_id, message_id)
        return {"message_id": message_id, "state": "discarded"}
