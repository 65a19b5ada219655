"""The tenant's webhook (send routes: they change EventBridge resources): set it, read it, remove
it, send a test event, and list the deliveries EventBridge gave up on. The tenant comes only from
the verified claims."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from tracker.api.body import MAX_REQUEST_BYTES
from tracker.api.params import UNAUTHENTICATED, UNAVAILABLE, current_caller, error_doc
from tracker.api.send_routes import json_response
from tracker.models.webhooks import (
    DeliveryFailureOut,
    DeliveryFailurePage,
    WebhookOut,
    WebhookRequest,
    WebhookSetResponse,
    WebhookTestResponse,
)

if TYPE_CHECKING:
    from tracker.api.send_routes import Dependencies
    from tracker.logic.webhooks import WebhookService

NO_WEBHOOK = "No webhook is set"


def _webhooks(deps: Dependencies) -> WebhookService:
    if deps.webhooks is None:
        raise TypeError("the send routes' dependencies have no webhooks")
    return deps.webhooks


def router(deps: Callable[[], Dependencies]) -> Router:
    router = Router()

    def tenant() -> str:
        return current_caller(router).tenant_id

    @router.put(
        "/webhook",
        summary="Set the webhook: status events POSTed to an HTTPS URL with a secret header",
        description=(
            "Every recipient status change (docs/events.md) whose new status is in `statuses` is "
            "POSTed as JSON to `url`, with the secret in the `X-Tracker-Webhook-Secret` header; "
            "EventBridge retries for 24 hours, then lists the event in GET /webhook/deliveries. "
            "The secret is answered once, when the webhook is created or `rotate_secret` is true. "
            "Only https:// URLs of public hosts are accepted."
        ),
        tags=["webhooks"],
        responses={
            200: {
                "description": "The webhook (with its secret when created or rotated)",
                "content": {"application/json": {"model": WebhookSetResponse}},
            },
            400: error_doc("Invalid body, or a URL refused (not https, or a non-public host)"),
            401: error_doc(UNAUTHENTICATED),
            413: error_doc(f"The body is larger than {MAX_REQUEST_BYTES} bytes"),
            415: error_doc("The body is not JSON"),
            503: error_doc(UNAVAILABLE),
        },
    )
    def put_webhook(request: Annotated[WebhookRequest, Body()]) -> Response[dict[str, Any]]:
        statuses = [s.value for s in request.statuses] if request.statuses is not None else None
        result = _webhooks(deps()).put(tenant(), request.url, statuses, request.rotate_secret)
        body = WebhookSetResponse(**dict(WebhookOut.of(result.webhook)), secret=result.secret)
        return json_response(200, body.model_dump(mode="json"))

    @router.get(
        "/webhook",
        summary="The webhook (never its secret)",
        tags=["webhooks"],
        responses={
            200: {"description": "The webhook"},
            401: error_doc(UNAUTHENTICATED),
            404: error_doc(NO_WEBHOOK),
            503: error_doc(UNAVAILABLE),
        },
    )
    def get_webhook() -> WebhookOut:
        return WebhookOut.of(_webhooks(deps()).get(tenant()))

    @router.delete(
        "/webhook",
        summary="Remove the webhook (its rule, destination, connection and secret)",
        tags=["webhooks"],
        responses={
            200: {"description": "The removed webhook"},
            401: error_doc(UNAUTHENTICATED),
            404: error_doc(NO_WEBHOOK),
            503: error_doc(UNAVAILABLE),
        },
    )
    def delete_webhook() -> WebhookOut:
        return WebhookOut.of(_webhooks(deps()).delete(tenant()))

    @router.post(
        "/webhook/test",
        summary="Send a test event (`test` true) through the webhook's rule",
        tags=["webhooks"],
        responses={
            202: {
                "description": "Put on the event bus; delivered like any event",
                "content": {"application/json": {"model": WebhookTestResponse}},
            },
            401: error_doc(UNAUTHENTICATED),
            404: error_doc(NO_WEBHOOK),
            503: error_doc(UNAVAILABLE),
        },
    )
    def test_webhook() -> Response[dict[str, Any]]:
        event_id = _webhooks(deps()).send_test(tenant())
        return json_response(202, WebhookTestResponse(event_id=event_id).model_dump(mode="json"))

    @router.get(
        "/webhook/deliveries",
        summary="Recent failed deliveries (given up after the retries, kept 30 days), newest first",
        tags=["webhooks"],
        responses={
            200: {"description": "The failures"},
            401: error_doc(UNAUTHENTICATED),
            503: error_doc(UNAVAILABLE),
        },
    )
    def list_deliveries() -> DeliveryFailurePage:
        failures = _webhooks(deps()).deliveries(tenant())
        return DeliveryFailurePage(items=[DeliveryFailureOut.of(f) for f in failures])

    return router
