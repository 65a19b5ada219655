"""Export routes: POST /exports starts a CSV export (the send function: it writes and queues),
GET /exports/{id} tells how far it is and, once done, gives a presigned download URL (the read
function). docs/exports.md."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from tracker.api.params import UNAUTHENTICATED, UNAVAILABLE, current_caller, error_doc, read_responses
from tracker.domain.exports import ExportStatus
from tracker.models.api import ID_PATTERN
from tracker.models.exports import ExportOut, ExportRequest

if TYPE_CHECKING:
    from tracker.logic.exports import ExportService

ExportId = Annotated[str, Path(pattern=ID_PATTERN, description="An export id (from POST /exports).")]


def read_router(service: Callable[[], ExportService]) -> Router:
    router = Router()

    @router.get(
        "/exports/<export_id>",
        summary="An export's state and progress; once done, a download URL that expires",
        tags=["exports"],
        responses=read_responses("The export", not_found="No such export"),
    )
    def get_export(export_id: ExportId) -> ExportOut:
        return ExportOut.of(service().status(current_caller(router).tenant_id, export_id))

    return router


def send_router(service: Callable[[], ExportService]) -> Router:
    router = Router()

    @router.post(
        "/exports",
        summary="Start a CSV export of a message's recipients or of an invoice's logs",
        description=(
            "Runs in the background: poll `GET /exports/{export_id}` for its progress and, once "
            "`done`, its download URL. Cells a spreadsheet would read as a formula (starting with "
            "`=`, `+`, `-`, `@`, a tab or a carriage return) are prefixed with `'`."
        ),
        tags=["exports"],
        responses={
            202: {"description": "Export started", "content": {"application/json": {"model": ExportOut}}},
            400: error_doc("Invalid body (the error names the field)"),
            401: error_doc(UNAUTHENTICATED),
            404: error_doc("No such message or invoice"),
            413: error_doc("The body is too large"),
            415: error_doc("The body is not JSON"),
            503: error_doc(UNAVAILABLE),
        },
    )
    def create_export(request: Annotated[ExportRequest, Body()]) -> Response[dict[str, Any]]:
        job = service().start(current_caller(router).tenant_id, request.target())
        return Response(
            status_code=202,
            content_type=content_types.APPLICATION_JSON,
            body=ExportOut.of(ExportStatus(job)).model_dump(mode="json"),
        )

    return router
