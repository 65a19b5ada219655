"""The attention queue's reads (the read function; resend and dismiss are send routes, in
tracker.api.resend_routes). The tenant comes only from the verified claims."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler.api_gateway import Router

from tracker.api.params import (
    DEFAULT_LIMIT,
    Cursor,
    Kind,
    Limit,
    current_caller,
    read_responses,
)
from tracker.models.attention import AttentionCount, AttentionPage

if TYPE_CHECKING:
    from tracker.logic.attention import AttentionQueries


def read_router(queries: Callable[[], AttentionQueries]) -> Router:
    router = Router()

    def tenant() -> str:
        return current_caller(router).tenant_id

    @router.get(
        "/attention",
        summary="Needs attention: documents whose delivery failed or is stuck, newest first",
        description=(
            "Invoices and receipts by default (`kind` for one kind, e.g. `email`). Failed: a "
            "recipient bounced, complained, was dropped, rejected or failed; stuck: a recipient has "
            "no Delivery 24 hours (ATTENTION_STUCK_HOURS) after the send. Resent or dismissed "
            "recipients are not listed; a document with none left leaves the queue."
        ),
        tags=["attention"],
        responses=read_responses("One page of the queue"),
    )
    def list_attention(
        kind: Kind = None, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
    ) -> AttentionPage:
        return AttentionPage.of(queries().page(tenant(), kind=kind, limit=limit, cursor=cursor))

    @router.get(
        "/attention/count",
        summary="How many documents need attention (the navigation badge)",
        tags=["attention"],
        responses=read_responses("The count"),
    )
    def count_attention(kind: Kind = None) -> AttentionCount:
        return AttentionCount(count=queries().count(tenant(), kind=kind))

    return router
