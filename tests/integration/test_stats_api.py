"""Deliverability health and the statistics routes on moto: recipients written, the projector run
over the table's stream, then GET /stats/health and GET /stats. A 6% bounce rate over 7 days is
`warning`, 11% is `at_risk`; complaints likewise at 0.2% and 0.6%."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.apigw import api_event, json_body
from tests.factories import attention_queries
from tests.lambda_context import FakeLambdaContext
from tests.projection import project
from tracker.api.app import build_app
from tracker.api.cursors import CursorCodec
from tracker.api.read_routes import Dependencies
from tracker.bootstrap.api import send_dependencies
from tracker.dal import keys
from tracker.dal.messages import NewMessage, NewRecipient, put_message
from tracker.dal.models import RecipientItem
from tracker.dal.queries import DynamoReadStore
from tracker.dal.recipients import facts_from_item, write_facts
from tracker.dal.stats import DynamoStatsReader
from tracker.domain.events import EventKind, RecipientEvent
from tracker.domain.health import Health
from tracker.logic.queries import ReadQueries
from tracker.logic.stats import StatsQueries

SECRET = b"s" * 32
NOW = datetime.now(UTC).replace(microsecond=0)


def _event(kind: EventKind, at: datetime, email: str, sent_at: datetime, **details: Any) -> RecipientEvent:
    identity = hashlib.sha256(f"{kind}|{email}|{at.isoformat()}".encode()).hexdigest()
    return RecipientEvent(identity, kind, at, f"ses-{email}", email, sent_at, details=details)


def send(
    tenant_id: str,
    message_id: str,
    recipients: int,
    sent_at: datetime,
    *,
    bounced: int = 0,
    complained: int = 0,
    kind: str = "email",
) -> None:
    """A message of ``recipients`` sent at ``sent_at``: the first ``bounced`` bounce permanently
    (mailbox does not exist), the next ``complained`` are delivered and complain; the rest are
    delivered. Written as the ingest path leaves recipients (one write each)."""
    message = NewMessage(
        tenant_id=tenant_id, message_id=message_id, kind=kind, subject="News", created_at=sent_at
    )
    people = [NewRecipient(f"r{i}", f"c{i}", f"p{i}@example.com") for i in range(recipients)]
    put_message(message, people)
    with RecipientItem.batch_write() as batch:
        for i, person in enumerate(people):
            item = RecipientItem.get(
                keys.message_pk(tenant_id, message_id), keys.recipient_sk(person.recipient_id)
            )
            later = sent_at + timedelta(minutes=2)
            events = [_event(EventKind.SEND, sent_at, person.email, sent_at)]
            if i < bounced:
                events.append(
                    _event(
                        EventKind.BOUNCE,
                        later,
                        person.email,
                        sent_at,
                        bounce_type="Permanent",
                        bounce_subtype="General",
                        diagnostic_code="smtp; 550 5.1.1 user unknown",
                    )
                )
            else:
                events.append(_event(EventKind.DELIVERY, later, person.email, sent_at))
                if i < bounced + complained:
                    events.append(
                        _event(EventKind.COMPLAINT, later + timedelta(hours=1), person.email, sent_at)
                    )
            write_facts(item, facts_from_item(item).apply_all(events))
            batch.save(item)


class Seen:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Health]] = []

    def __call__(self, tenant_id: str, health: Health) -> None:
        self.calls.append((tenant_id, health))


def queries(observer: Seen | None = None) -> StatsQueries:
    return StatsQueries(DynamoStatsReader(), clock=lambda: NOW, observer=observer)


def health_of(tenant_id: str, observer: Seen | None = None) -> dict[str, Any]:
    project()
    app = build_app(
        Dependencies(
            ReadQueries(DynamoReadStore(), CursorCodec(SECRET)), attention_queries(SECRET), queries(observer)
        ),
        send_dependencies,
    )
    response = app.resolve(api_event("GET", "/stats/health", tenant_id=tenant_id), FakeLambdaContext())
    assert response["statusCode"] == 200, response["body"]
    return json_body(response)


def window(body: dict[str, Any], days: int) -> dict[str, Any]:
    return next(w for w in body["windows"] if w["days"] == days)


@pytest.mark.parametrize(
    ("bounced", "state"), [(0, "ok"), (4, "ok"), (6, "warning"), (9, "warning"), (11, "at_risk")]
)
def test_bounce_rate_over_7_days_against_ses_thresholds(table: str, bounced: int, state: str) -> None:
    send("t1", "m1", 100, NOW - timedelta(days=2), bounced=bounced)
    body = health_of("t1")
    week = window(body, 7)
    assert (week["sent"], week["bounced"]) == (100, bounced)
    assert week["bounce_rate"] == pytest.approx(bounced / 100)
    assert (week["bounce_state"], week["complaint_state"], week["state"]) == (state, "ok", state)
    assert body["state"] == state
    assert body["thresholds"]["bounce_warning"] == 0.05
    assert body["thresholds"]["bounce_at_risk"] == 0.10
    if bounced:
        assert body["top_reasons"][0]["count"] == bounced
        assert body["top_reasons"][0]["code"]


@pytest.mark.parametrize(("complained", "state"), [(0, "ok"), (1, "warning"), (3, "at_risk")])
def test_complaint_rate_over_7_days_against_ses_thresholds_and_gmails_line(
    table: str, complained: int, state: str
) -> None:
    send("t1", "m1", 500, NOW - timedelta(days=3), complained=complained)
    week = window(health_of("t1"), 7)
    assert (week["sent"], week["complaints"]) == (500, complained)
    assert (week["complaint_state"], week["bounce_state"], week["state"]) == (state, "ok", state)
    assert week["above_gmail_line"] is (complained / 500 >= 0.003)


def test_the_30_day_window_counts_older_sends_and_the_state_is_the_worst_window(table: str) -> None:
    """A bad week within a good month: the 7-day window is at risk, the 30-day one only warns."""
    send("t1", "old", 100, NOW - timedelta(days=20))
    send("t1", "new", 100, NOW - timedelta(days=1), bounced=11)
    seen = Seen()
    body = health_of("t1", seen)
    assert window(body, 7)["state"] == "at_risk"
    assert window(body, 30)["sent"] == 200
    assert window(body, 30)["bounce_state"] == "warning"  # 11 / 200
    assert body["state"] == "at_risk"
    # The per-tenant metric's hook is told the tenant and its health.
    assert [tenant for tenant, _ in seen.calls] == ["t1"]


def test_another_tenant_sees_nothing_and_health_is_ok_without_sends(table: str) -> None:
    send("t1", "m1", 20, NOW - timedelta(days=1), bounced=10)
    body = health_of("t2")
    assert body["state"] == "ok"
    assert window(body, 7)["sent"] == 0
    assert window(body, 7)["bounce_rate"] is None
    assert body["top_reasons"] == []


def get(url: str, tenant_id: str = "t1") -> dict[str, Any]:
    project()
    app = build_app(
        Dependencies(
            ReadQueries(DynamoReadStore(), CursorCodec(SECRET)), attention_queries(SECRET), queries()
        ),
        send_dependencies,
    )
    return app.resolve(api_event("GET", url, tenant_id=tenant_id), FakeLambdaContext())


def test_stats_series_by_day_and_hour_with_totals_rates_and_kind(table: str) -> None:
    day = (NOW - timedelta(days=2)).replace(hour=10, minute=15, second=0)
    send("t1", "m1", 10, day, bounced=1)
    send("t1", "inv", 4, day, kind="invoice")
    response = get("/stats")
    assert response["statusCode"] == 200, response["body"]
    body = json_body(response)
    assert body["granularity"] == "day"
    assert len(body["series"]) == 30
    by_day = {point["start"][:10]: point["counts"] for point in body["series"]}
    assert by_day[day.date().isoformat()]["sent"] == 14
    assert body["totals"]["sent"] == 14
    assert body["totals"]["delivered"] == 13
    assert body["totals"]["bounced_hard"] == 1
    assert body["rates"]["bounce_rate"] == pytest.approx(1 / 14)

    invoices = json_body(get("/stats?kind=invoice"))
    assert invoices["totals"]["sent"] == 4
    assert invoices["kind"] == "invoice"

    hourly = json_body(get("/stats?granularity=hour"))
    assert len(hourly["series"]) == 72
    starts = {point["start"][:13]: point["counts"]["sent"] for point in hourly["series"]}
    assert starts[day.strftime("%Y-%m-%dT%H")] == 14

    since = (day - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    until = (day + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    window_body = json_body(get(f"/stats?granularity=hour&from={since}&to={until}"))
    assert [p["counts"]["sent"] for p in window_body["series"]] == [0, 14, 0, 0]


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/stats?granularity=hour&from=2020-01-01T00:00:00Z", "granularity"),
        ("/stats?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "from"),
        ("/stats?from=2000-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from"),
        ("/stats?granularity=week", None),
        ("/stats?from=12", None),
    ],
)
def test_invalid_windows_are_400(table: str, url: str, field: str | None) -> None:
    response = get(url)
    assert response["statusCode"] == 400, response["body"]
    error = json_body(response)["error"]
    if field is not None:
        assert error.get("field") == field
