"""A message's Links and Providers tabs (read function; docs/insights.md): one GetItem each."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler.api_gateway import Router

from tracker.api.params import MessageId, current_caller, read_responses
from tracker.models.insights import LinksOut, ProvidersOut

if TYPE_CHECKING:
    from tracker.logic.insights import InsightQueries


def router(queries: Callable[[], InsightQueries]) -> Router:
    router = Router()

    def tenant() -> str:
        return current_caller(router).tenant_id

    @router.get(
        "/messages/<message_id>/links",
        summary="Links tab: each clicked address with its customers, clicks and automatic clicks",
        description=(
            "Kept by the projector (within one stream batch of the events). At most 50 addresses by "
            "name, the rest summed under `other`."
        ),
        tags=["messages"],
        responses=read_responses("The message's clicked links", not_found="No such message"),
    )
    def message_links(message_id: MessageId) -> LinksOut:
        return LinksOut.of(message_id, queries().insights(tenant(), message_id))

    @router.get(
        "/messages/<message_id>/providers",
        summary="Providers tab: delivered, bounced and opened per mailbox provider",
        description="Gmail, Microsoft, Yahoo (with AOL), Apple and other, told by the address's domain.",
        tags=["messages"],
        responses=read_responses("The message's numbers per provider", not_found="No such message"),
    )
    def message_providers(message_id: MessageId) -> ProvidersOut:
        return ProvidersOut.of(message_id, queries().insights(tenant(), message_id))

    return router
