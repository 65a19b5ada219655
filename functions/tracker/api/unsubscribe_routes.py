"""One-click unsubscribe (RFC 8058) and resubscribing (send routes: they write).

``/unsubscribe/{token}`` is public: the token is the signed link of one recipient's email
(tracker.domain.unsubscribe), nothing else identifies the caller. ``POST`` unsubscribes, which is
what a mail client does with ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``; ``GET`` only
shows a page with a button that POSTs, because link scanners and prefetchers follow every GET of an
email and must not unsubscribe anyone. Both answer a small HTML page (escaped, no scripts, nothing
loaded from elsewhere) in every case, so a person never sees JSON.

``GET`` / ``DELETE /suppressions/{email}/unsubscription`` show and lift (resubscribe) an address's
unsubscription, authenticated like the other suppression routes.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from tracker.api.params import UNAVAILABLE, AddressParam, current_caller, error_doc
from tracker.api.send_routes import address_of, address_responses
from tracker.domain.errors import NotFoundError
from tracker.logic.unsubscribe import LINK_PAGE, ONE_CLICK
from tracker.models.api import ErrorResponse
from tracker.models.unsubscribe import UnsubscriptionOut

if TYPE_CHECKING:
    from tracker.api.send_routes import Dependencies
    from tracker.logic.unsubscribe import UnsubscribeService

TOKEN_PATTERN = r"^[A-Za-z0-9_.-]{1,512}$"  # noqa: S105 - a pattern, not a secret
Token = Annotated[str, Path(pattern=TOKEN_PATTERN, description="The signed token of an email's link.")]
HTML = "text/html; charset=utf-8"
# No scripts, nothing from elsewhere; the form posts back to this same address.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "X-Robots-Tag": "noindex",
    "Referrer-Policy": "no-referrer",
}


def _page(status: int, title: str, text: str, button: str | None = None) -> Response[str]:
    form = (
        f'<form method="post"><input type="hidden" name="confirm" value="yes">'
        f'<button type="submit">{html.escape(button)}</button></form>'
        if button
        else ""
    )
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;"
        "color:#1a1a1a}button{font-size:1rem;padding:.6rem 1.2rem}</style></head>"
        f"<body><main><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>{form}</main></body></html>"
    )
    return Response(status_code=status, content_type=HTML, body=body, headers=dict(PAGE_HEADERS))


def _html_doc(description: str) -> OpenAPIResponse:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


def _not_found_doc(description: str) -> OpenAPIResponse:
    """A link we did not sign: its HTML page; a path that is no token at all: the API's JSON 404."""
    return {
        "description": description,
        "content": {
            "text/html": {"schema": {"type": "string"}},
            "application/json": {"model": ErrorResponse},
        },
    }


INVALID = (
    404,
    "Link not valid",
    "This unsubscribe link is not valid, or the email it came with is no longer kept.",
)


def _service(deps: Dependencies) -> UnsubscribeService:
    if deps.unsubscribe is None:
        raise TypeError("the send routes' dependencies have no unsubscribe service")
    return deps.unsubscribe


def router(deps: Callable[[], Dependencies]) -> Router:
    router = Router()

    @router.get(
        "/unsubscribe/<token>",
        summary="The page of an email's unsubscribe link (no authentication): a button that unsubscribes",
        description=(
            "Shows a confirmation page; nothing changes until its button POSTs (link scanners "
            "follow GETs). Answers HTML."
        ),
        tags=["unsubscribe"],
        responses={
            200: _html_doc("The confirmation page"),
            400: error_doc("Not a token"),
            404: _not_found_doc("Not a link we signed"),
            503: error_doc(UNAVAILABLE),
        },
    )
    def unsubscribe_page(token: Token) -> Response[str]:
        try:
            _service(deps()).recipient_of(token)
        except NotFoundError:
            return _page(*INVALID)
        return _page(
            200,
            "Unsubscribe",
            "Stop receiving these emails? Invoices and receipts for your account will still be sent.",
            "Unsubscribe",
        )

    @router.post(
        "/unsubscribe/<token>",
        summary="One-click unsubscribe (RFC 8058; no authentication): this tenant's emails stop",
        description=(
            "What a mail client POSTs (`List-Unsubscribe=One-Click`, form-encoded) and what the "
            "page's button sends. Idempotent. Later `email` messages to the address are `dropped` "
            "with reason `unsubscribed`; invoices and receipts are still sent. Answers HTML."
        ),
        tags=["unsubscribe"],
        responses={
            200: _html_doc("Unsubscribed"),
            400: error_doc("Not a token"),
            404: _not_found_doc("Not a link we signed, or its recipient is no longer kept"),
            503: error_doc(UNAVAILABLE),
        },
    )
    def unsubscribe(token: Token) -> Response[str]:
        body = router.current_event.decoded_body or ""
        source = ONE_CLICK if "One-Click" in body else LINK_PAGE
        try:
            _service(deps()).unsubscribe(token, source)
        except NotFoundError:
            return _page(*INVALID)
        return _page(200, "Unsubscribed", "You will not receive these emails any more.")

    return router


def resubscribe_router(deps: Callable[[], Dependencies]) -> Router:
    router = Router()

    @router.get(
        "/suppressions/<email>/unsubscription",
        summary="Whether an address unsubscribed from this tenant's emails, and when",
        tags=["suppressions"],
        responses=address_responses("The unsubscription", "This address never unsubscribed"),
    )
    def get_unsubscription(email: AddressParam) -> UnsubscriptionOut:
        who = current_caller(router)
        return UnsubscriptionOut.of(_service(deps()).get(who.tenant_id, address_of(email)))

    @router.delete(
        "/suppressions/<email>/unsubscription",
        summary="Resubscribe an address to this tenant's emails (when the customer asks; audited)",
        tags=["suppressions"],
        responses=address_responses("The lifted unsubscription", "This address is not unsubscribed"),
    )
    def resubscribe(email: AddressParam) -> UnsubscriptionOut:
        who = current_caller(router)
        lifted = _service(deps()).resubscribe(who.tenant_id, address_of(email), who.subject or "unknown")
        return UnsubscriptionOut.of(lifted)

    return router
