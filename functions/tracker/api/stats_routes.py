"""The statistics' reads (the read function): series over time and deliverability health. The
tenant comes only from the verified claims."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BeforeValidator

from tracker.api.params import Kind, current_caller, not_a_number, read_responses
from tracker.domain.stats import Granularity
from tracker.models.stats import HealthResponse, StatsResponse

if TYPE_CHECKING:
    from tracker.logic.stats import StatsQueries

From = Annotated[
    datetime | None,
    BeforeValidator(not_a_number),
    Query(
        alias="from", description="Window start, inclusive (ISO-8601; default: 30 days, or 72 hours, back)."
    ),
]
To = Annotated[
    datetime | None,
    BeforeValidator(not_a_number),
    Query(alias="to", description="Window end, exclusive (ISO-8601; default: now)."),
]
GranularityParam = Annotated[Granularity, Query(description="`day`, or `hour` (the last 72 hours only).")]


def read_router(queries: Callable[[], StatsQueries]) -> Router:
    router = Router()

    def tenant() -> str:
        return current_caller(router).tenant_id

    @router.get(
        "/stats",
        summary="Sending statistics over time: series, totals and rates",
        description=(
            "Recipients sent, delivered, bounced (hard, soft), complained, dropped, opened and "
            "clicked by the customer (first per recipient) and opened only automatically, each "
            "counted once at the time it happened, per UTC day or hour, optionally for one `kind`. "
            "Rates: delivery, bounce and complaint against `sent`; open and click against "
            "`delivered`. The counts trail the events by about one projector batch."
        ),
        tags=["stats"],
        responses=read_responses("The series, totals and rates of the window"),
    )
    def get_stats(
        since: From = None,
        until: To = None,
        kind: Kind = None,
        granularity: GranularityParam = Granularity.DAY,
    ) -> StatsResponse:
        return StatsResponse.of(
            queries().report(tenant(), since=since, until=until, kind=kind, granularity=granularity)
        )

    @router.get(
        "/stats/health",
        summary="Deliverability health: bounce and complaint rates against SES's thresholds",
        description=(
            "Bounce and complaint rates over the last 7 and 30 days, against the recipients sent "
            "to in the window (as SES measures them), beside SES's review (bounce 5%, complaint "
            "0.1%) and pause (10%, 0.5%) thresholds and Gmail's 0.3% spam line, with a state "
            "`ok`, `warning` or `at_risk`, and the most frequent reasons."
        ),
        tags=["stats"],
        responses=read_responses("The health of the tenant's sending"),
    )
    def get_health() -> HealthResponse:
        return HealthResponse.of(queries().health(tenant()))

    return router
