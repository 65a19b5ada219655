"""Read routes: the messages list with rates, a message, its Recipients tab and a recipient's
timeline, an invoice's Logs tab and a customer's Messages tab.

Routes only validate their input (Powertools + pydantic, documented in the OpenAPI document) and
make one call into tracker.logic.queries; the tenant comes from the verified claims that the
app's middleware put into the context.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from tracker.api.params import (
    DEFAULT_LIMIT,
    Cursor,
    CustomerId,
    InvoiceId,
    Kind,
    Limit,
    MessageId,
    RecipientId,
    Since,
    Until,
    current_caller,
    read_responses,
)
from tracker.domain.status import Status
from tracker.logic.attention import AttentionQueries
from tracker.logic.queries import ReadQueries
from tracker.logic.stats import StatsQueries
from tracker.models.api import Message, MessagePage, RecipientPage, TimelinePage
from tracker.models.histories import CustomerMessagePage, InvoiceLogPage


@dataclass(frozen=True)
class Dependencies:
    queries: ReadQueries
    attention: AttentionQueries
    stats: StatsQueries | None = None


def router(dependencies: Dependencies) -> Router:
    router = Router()
    _message_routes(router, dependencies.queries)
    _recipient_routes(router, dependencies.queries)
    _document_routes(router, dependencies.queries)
    return router


def attention(dependencies: Dependencies) -> AttentionQueries:
    return dependencies.attention


def stats(dependencies: Dependencies) -> StatsQueries:
    if dependencies.stats is None:
        raise RuntimeError("the read routes were built without the statistics' queries")
    return dependencies.stats


def _message_routes(router: Router, queries: ReadQueries) -> None:
    """The messages list and one message."""

    def tenant() -> str:
        return current_caller(router).tenant_id

    @router.get(
        "/messages",
        summary="Messages list, newest first, with rates",
        description=(
            "Every sent message with its counts per status and its rates (counts as last folded; "
            "the single-message route also adds changes not folded yet). `since` is inclusive, "
            "`until` exclusive; times without an offset are UTC."
        ),
        tags=["messages"],
        responses=read_responses("One page of messages"),
    )
    def list_messages(
        kind: Kind = None,
        since: Since = None,
        until: Until = None,
        cursor: Cursor = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> MessagePage:
        return MessagePage.of(
            queries.list_messages(tenant(), kind=kind, since=since, until=until, limit=limit, cursor=cursor)
        )

    @router.get(
        "/messages/<message_id>",
        summary="One message with exact counts and rates",
        tags=["messages"],
        responses=read_responses("The message", not_found="No such message"),
    )
    def get_message(message_id: MessageId) -> Message:
        return Message.of(queries.get_message(tenant(), message_id))


def _recipient_routes(router: Router, queries: ReadQueries) -> None:
    """A message's Recipients tab and a recipient's timeline."""

    def tenant() -> str:
        return current_caller(router).tenant_id

    @router.get(
        "/messages/<message_id>/recipients",
        summary="Recipients tab: each recipient's status, opens, bounce reason",
        description=(
            "In recipient id order. With `status`, a page can hold fewer than `limit` recipients "
            "(even none) while `next_cursor` is set: keep paging until it is `null`."
        ),
        tags=["messages"],
        responses=read_responses("One page of recipients", not_found="No such message"),
    )
    def list_recipients(
        message_id: MessageId,
        status: Annotated[Status | None, Query(description="Only recipients in this status.")] = None,
        cursor: Cursor = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> RecipientPage:
        return RecipientPage.of(
            queries.list_recipients(tenant(), message_id, status=status, limit=limit, cursor=cursor)
        )

    @router.get(
        "/messages/<message_id>/recipients/<recipient_id>/events",
        summary="A recipient's timeline: SES events, oldest first",
        tags=["messages"],
        responses=read_responses("One page of events", not_found="No such recipient"),
    )
    def list_recipient_events(
        message_id: MessageId,
        recipient_id: RecipientId,
        cursor: Cursor = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> TimelinePage:
        return TimelinePage.of(
            queries.recipient_timeline(tenant(), message_id, recipient_id, limit=limit, cursor=cursor)
        )


def _document_routes(router: Router, queries: ReadQueries) -> None:
    """An invoice's Logs tab and a customer's Messages tab."""

    def tenant() -> str:
        return current_caller(router).tenant_id

    @router.get(
        "/invoices/<invoice_id>/logs",
        summary="Invoice Logs tab: messages → recipients → events, with current statuses",
        description=(
            "`limit` counts stored entries (a message, a recipient or an event), so a page can end "
            "inside a message: the next page continues it under the same `message_id` and "
            "`recipient_id`; merge by id."
        ),
        tags=["invoices"],
        responses=read_responses("One page of the invoice's log", not_found="No such invoice"),
    )
    def invoice_logs(
        invoice_id: InvoiceId, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
    ) -> InvoiceLogPage:
        return InvoiceLogPage.of(
            invoice_id, queries.invoice_logs(tenant(), invoice_id, limit=limit, cursor=cursor)
        )

    @router.get(
        "/customers/<customer_id>/messages",
        summary="Customer Messages tab: emails, invoices and receipts sent to the customer, newest first",
        description=(
            "With `kind`, a page can hold fewer than `limit` messages (even none) while "
            "`next_cursor` is set: keep paging until it is `null`."
        ),
        tags=["customers"],
        responses=read_responses("One page of the customer's messages", not_found="No such customer"),
    )
    def customer_messages(
        customer_id: CustomerId, kind: Kind = None, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
    ) -> CustomerMessagePage:
        return CustomerMessagePage.of(
            queries.customer_messages(tenant(), customer_id, kind=kind, limit=limit, cursor=cursor)
        )
