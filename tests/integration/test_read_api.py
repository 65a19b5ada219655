"""Read API handler tests: API Gateway events with authorizer claims → the app → moto.

The data goes in through the real paths: messages and recipients as the send path writes them,
SES events through the real ingest Lambda handler.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from moto import mock_aws

from tests import ses_builders as b
from tests.apigw import api_event, json_body
from tests.aws_calls import intercepted
from tests.conftest import TEST_TABLE, one_at_a_time
from tests.factories import CREATED_AT, attention_queries, ses_id, stats_queries
from tests.lambda_context import FakeLambdaContext
from tests.projection import project
from tracker.api.app import build_app
from tracker.api.cursors import CursorCodec
from tracker.api.read_routes import Dependencies
from tracker.bootstrap.api import send_dependencies
from tracker.dal import keys
from tracker.dal.messages import NewMessage, NewRecipient, put_message
from tracker.dal.models import bind_table, table_schema
from tracker.dal.queries import DynamoReadStore
from tracker.domain.status import COUNTED, Status, compute_rates
from tracker.handlers import ingest
from tracker.logic.queries import ReadQueries

SECRET = b"read-api-tests-cursor-secret-0123456789"
A, B = "tenant-a", "tenant-b"

# The world is seeded once per module (moto is slow) and only read by the tests; the group keeps
# this module's tests together on one xdist worker, so no other test's mock_aws resets it midway.
pytestmark = pytest.mark.xdist_group("read-api")


# --- the world: what two tenants sent and what SES said about it ------------------------------


@dataclass(frozen=True)
class Person:
    customer_id: str
    outcome: Status = Status.QUEUED
    reason: str | None = None

    @property
    def email(self) -> str:
        return f"{self.customer_id}@example.com"


def put(
    tenant: str,
    message_id: str,
    minutes: int,
    people: list[Person],
    *,
    kind: str = "email",
    invoice_id: str | None = None,
    payment_id: str | None = None,
) -> None:
    put_message(
        NewMessage(
            tenant_id=tenant,
            message_id=message_id,
            kind=kind,
            subject=f"Subject of {message_id}",
            created_at=CREATED_AT + timedelta(minutes=minutes),
            invoice_id=invoice_id,
            payment_id=payment_id,
        ),
        [
            NewRecipient(
                recipient_id=f"r{i}",
                customer_id=p.customer_id,
                email=p.email,
                name=p.customer_id.removeprefix("cust-").title(),
                send_outcome=p.outcome,
                send_outcome_reason=p.reason,
                ses_message_id=ses_id(message_id, i),
            )
            for i, p in enumerate(people)
        ],
    )


def ses(
    kind: str, tenant: str, message_id: str, index: int, customer: str, minute: int, **extra: Any
) -> dict[str, Any]:
    """One SES event (tagged like our sender tags), ``minute`` after the world's start."""
    common: dict[str, Any] = {
        "sent_at": CREATED_AT + timedelta(minutes=1),
        "tags": b.tags_for(tenant, message_id, f"r{index}"),
    }
    at = CREATED_AT + timedelta(minutes=minute)
    sid, email = ses_id(message_id, index), f"{customer}@example.com"
    builders = {
        "send": lambda: b.send_event(sid, email, **common),
        "delivery": lambda: b.delivery_event(sid, email, at=at, **common),
        "open": lambda: b.open_event(sid, email, at=at, ip=f"198.51.100.{minute % 250}", **common),
        "click": lambda: b.click_event(sid, email, at=at, **common),
        "bounce": lambda: b.bounce_event(sid, email, at=at, **common, **extra),
        "complaint": lambda: b.complaint_event(sid, email, at=at, **common),
    }
    return builders[kind]()


def ingest_all(events: list[dict[str, Any]], *, projected: bool = True) -> None:
    """Through the ingest handler in batches of 10, then (unless not ``projected``) the projector."""
    for start in range(0, len(events), 10):
        batch = [b.sqs_record(b.sns_body(event)) for event in events[start : start + 10]]
        response = ingest.handler(b.sqs_event(batch), FakeLambdaContext())
        assert response["batchItemFailures"] == []
    if projected:
        project()


NEWS_PEOPLE = [
    Person("cust-ana"),  # r0: delivered, opened three times, clicked
    Person("cust-ben"),  # r1: bounced
    Person("cust-cleo"),  # r2: delivered, then complaint
    Person("cust-dev"),  # r3: delivered
    Person("cust-eli", Status.DROPPED, "address previously bounced"),  # r4: our suppression check
    Person("cust-fay"),  # r5: on SES's account suppression list
    Person("cust-gus"),  # r6: still queued
]
NEWS_COUNTS = {
    Status.CLICKED: 1,
    Status.BOUNCED: 1,
    Status.COMPLAINT: 1,
    Status.DELIVERED: 1,
    Status.DROPPED: 2,
    Status.QUEUED: 1,
}
DIAGNOSTIC = "smtp; 550 5.1.1 user unknown"


def seed_world() -> None:
    ingest.default_ingestor.cache_clear()
    put(A, "news", 0, NEWS_PEOPLE)
    put(A, "inv-1-first", 60, [Person("cust-ana")], kind="invoice", invoice_id="INV-1")
    put(A, "receipt-1", 120, [Person("cust-dev")], kind="receipt", payment_id="PAY-1")
    put(
        A, "inv-1-reminder", 180, [Person("cust-ana"), Person("cust-ben")], kind="invoice", invoice_id="INV-1"
    )
    put(B, "b-news", 30, [Person("cust-ana")])  # the same customer id as tenant A's Ana
    put(B, "b-inv", 240, [Person("cust-zed")], kind="invoice", invoice_id="INV-B")
    ingest_all(
        [
            ses("send", A, "news", 0, "cust-ana", 1),
            ses("delivery", A, "news", 0, "cust-ana", 6),
            ses("open", A, "news", 0, "cust-ana", 60),
            ses("click", A, "news", 0, "cust-ana", 62),
            ses("open", A, "news", 0, "cust-ana", 300),
            ses("open", A, "news", 0, "cust-ana", 1560),
            ses("send", A, "news", 1, "cust-ben", 1),
            ses("bounce", A, "news", 1, "cust-ben", 3, diagnostic_code=DIAGNOSTIC),
            ses("send", A, "news", 2, "cust-cleo", 1),
            ses("delivery", A, "news", 2, "cust-cleo", 5),
            ses("complaint", A, "news", 2, "cust-cleo", 200),
            ses("send", A, "news", 3, "cust-dev", 1),
            ses("delivery", A, "news", 3, "cust-dev", 7),
            ses("send", A, "news", 5, "cust-fay", 1),
            ses("bounce", A, "news", 5, "cust-fay", 2, bounce_subtype="OnAccountSuppressionList"),
            ses("send", A, "inv-1-first", 0, "cust-ana", 61),
            ses("delivery", A, "inv-1-first", 0, "cust-ana", 65),
            ses("open", A, "inv-1-first", 0, "cust-ana", 90),
            ses("open", A, "inv-1-first", 0, "cust-ana", 400),
            ses("send", A, "receipt-1", 0, "cust-dev", 121),
            ses("delivery", A, "receipt-1", 0, "cust-dev", 125),
            ses("send", A, "inv-1-reminder", 0, "cust-ana", 181),
            ses("delivery", A, "inv-1-reminder", 0, "cust-ana", 185),
            ses("send", A, "inv-1-reminder", 1, "cust-ben", 181),
            ses("bounce", A, "inv-1-reminder", 1, "cust-ben", 183, diagnostic_code=DIAGNOSTIC),
            ses("send", B, "b-news", 0, "cust-ana", 31),
            ses("delivery", B, "b-news", 0, "cust-ana", 35),
            ses("send", B, "b-inv", 0, "cust-zed", 241),
            ses("delivery", B, "b-inv", 0, "cust-zed", 245),
        ]
    )


def make_app(filtered_evaluation_limit: int = 1000) -> APIGatewayRestResolver:
    queries = ReadQueries(DynamoReadStore(filtered_evaluation_limit), CursorCodec(SECRET))
    return build_app(Dependencies(queries, attention_queries(SECRET), stats_queries()), send_dependencies)


@contextmanager
def seeded_world(seed: bool = True) -> Iterator[None]:
    """A moto table (holding the world unless ``seed`` is false), for module-scoped fixtures.

    moto is not thread-safe and the ingest handler writes from several threads: like the
    conftest's per-test fixture, serialize the emulator's requests (with a lock of our own, as the
    per-test one wraps this one)."""
    with mock_aws(), intercepted(one_at_a_time(threading.Lock()), service=None):
        bind_table(TEST_TABLE, region="us-east-1")
        boto3.client("dynamodb", region_name="us-east-1").create_table(**table_schema())
        seed_world()
        project()
        yield


@pytest.fixture(scope="module")
def world() -> Iterator[None]:
    with seeded_world():
        yield


@pytest.fixture(scope="module")
def app(world: None) -> APIGatewayRestResolver:
    return make_app()


def call(app: APIGatewayRestResolver, url: str, tenant: str | None = A) -> tuple[int, Any]:
    response = app.resolve(api_event("GET", url, tenant_id=tenant), FakeLambdaContext())
    return response["statusCode"], json_body(response)


def ok(app: APIGatewayRestResolver, url: str, tenant: str = A) -> Any:
    status, body = call(app, url, tenant)
    assert status == 200, body
    return body


def with_query(path: str, **params: Any) -> str:
    present = {key: value for key, value in params.items() if value is not None}
    return f"{path}?{urlencode(present)}" if present else path


def pages(app: APIGatewayRestResolver, path: str, tenant: str = A, **params: Any) -> list[dict[str, Any]]:
    """Every page of a list, following next_cursor."""
    result: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = ok(app, with_query(path, cursor=cursor, **params), tenant)
        result.append(page)
        cursor = page["next_cursor"]
        if cursor is None:
            return result
        assert len(result) < 200, "paging does not end"


def all_items(app: APIGatewayRestResolver, path: str, tenant: str = A, **params: Any) -> list[dict[str, Any]]:
    return [item for page in pages(app, path, tenant, **params) for item in page["items"]]


def expected_counts(counts: dict[Status, int]) -> dict[str, int]:
    """The counts object: every status, then the engagement tallies (none in this world)."""
    return {tally: counts.get(tally, 0) for tally in COUNTED}


def assert_rates(item: dict[str, Any], counts: dict[Status, int]) -> None:
    rates = compute_rates(counts)
    assert item["counts"] == expected_counts(counts)
    assert item["recipients"] == rates.recipients
    assert item["pending"] == rates.pending
    for name in ("delivery_rate", "open_rate", "click_rate", "bounce_rate", "complaint_rate"):
        assert item[name] == getattr(rates, name), name


# --- GET /messages ----------------------------------------------------------------------------


def test_messages_list_is_newest_first_with_counts_and_rates(app: APIGatewayRestResolver) -> None:
    page = ok(app, "/messages")
    assert [m["message_id"] for m in page["items"]] == ["inv-1-reminder", "receipt-1", "inv-1-first", "news"]
    assert page["next_cursor"] is None
    news = page["items"][-1]
    assert news["kind"] == "email"
    assert news["subject"] == "Subject of news"
    assert news["sent_at"] == "2026-11-01T09:00:00Z"
    assert_rates(news, NEWS_COUNTS)
    assert news["delivery_rate"] == pytest.approx(3 / 7)
    assert news["open_rate"] == pytest.approx(1 / 3)
    assert news["bounce_rate"] == pytest.approx(1 / 5)
    assert news["pending"] == 1
    reminder = page["items"][0]
    assert reminder["invoice_id"] == "INV-1"
    assert reminder["payment_id"] is None
    assert_rates(reminder, {Status.DELIVERED: 1, Status.BOUNCED: 1})
    assert page["items"][1]["payment_id"] == "PAY-1"


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_messages_list_pages_have_no_duplicates_and_no_gaps(app: APIGatewayRestResolver, limit: int) -> None:
    all_pages = pages(app, "/messages", limit=limit)
    assert all(len(page["items"]) <= limit for page in all_pages)
    ids = [m["message_id"] for page in all_pages for m in page["items"]]
    assert ids == ["inv-1-reminder", "receipt-1", "inv-1-first", "news"]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("invoice", ["inv-1-reminder", "inv-1-first"]), ("receipt", ["receipt-1"]), ("email", ["news"])],
)
def test_messages_list_filters_by_kind(app: APIGatewayRestResolver, kind: str, expected: list[str]) -> None:
    assert [m["message_id"] for m in all_items(app, "/messages", kind=kind, limit=1)] == expected


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        ("2026-11-01T10:00:00Z", None, ["inv-1-reminder", "receipt-1", "inv-1-first"]),
        (None, "2026-11-01T11:00:00Z", ["inv-1-first", "news"]),  # until is exclusive
        ("2026-11-01T10:00:00Z", "2026-11-01T12:00:00Z", ["receipt-1", "inv-1-first"]),
        ("2026-11-01T11:00:00+01:00", "2026-11-01T11:00:00", ["inv-1-first"]),  # offsets; no offset = UTC
        ("2026-11-02T00:00:00Z", None, []),
        # Key times are fixed width: a year before 1000 sorts before 2026, it is not "999-..." > "2026".
        ("0999-01-01T00:00:00Z", None, ["inv-1-reminder", "receipt-1", "inv-1-first", "news"]),
        (None, "0999-01-01T00:00:00Z", []),
    ],
)
def test_messages_list_filters_by_time(
    app: APIGatewayRestResolver, since: str | None, until: str | None, expected: list[str]
) -> None:
    items = all_items(app, "/messages", since=since, until=until, limit=1)
    assert [m["message_id"] for m in items] == expected


def test_messages_list_since_after_until_is_400(app: APIGatewayRestResolver) -> None:
    status, body = call(
        app, with_query("/messages", since="2026-11-02T00:00:00Z", until="2026-11-01T00:00:00Z")
    )
    assert status == 400
    assert body["error"]["code"] == "invalid_request"


def test_messages_list_of_a_tenant_without_messages_is_empty(app: APIGatewayRestResolver) -> None:
    assert ok(app, "/messages", tenant="tenant-new") == {"items": [], "next_cursor": None}


def test_a_page_of_messages_is_one_query_of_the_keys_index_and_one_batch_read_of_headers(
    app: APIGatewayRestResolver,
) -> None:
    for url, index in (("/messages?limit=2", "gsi1"), ("/messages?limit=2&kind=invoice", "gsi2")):
        with intercepted() as calls:
            page = ok(app, url)
        assert [call.operation for call in calls] == ["Query", "BatchGetItem"]
        assert calls[0].params["IndexName"] == index
        assert calls[0].params["Limit"] == 2
        (requested,) = calls[1].params["RequestItems"].values()
        assert [key["sk"]["S"] for key in requested["Keys"]] == [keys.MESSAGE_SK] * 2  # no recipient
        assert len(page["items"]) == 2


@pytest.mark.parametrize(
    "url",
    [
        "/messages?limit=1",
        "/messages?limit=1&since=2026-11-01T09:30:00Z&until=2026-11-02T00:00:00Z",
        "/messages/news/recipients?limit=1",
        "/messages/news/recipients?limit=1&status=dropped",
        "/messages/news/recipients/r0/events?limit=1",
        "/invoices/INV-1/logs?limit=1",
        "/customers/cust-ana/messages?limit=1",
        "/customers/cust-ana/messages?limit=1&kind=invoice",
    ],
)
def test_every_page_of_every_list_is_at_most_two_requests(app: APIGatewayRestResolver, url: str) -> None:
    with intercepted() as calls:
        first = ok(app, url)
    assert first["next_cursor"] is not None, url
    with intercepted() as calls_after:
        ok(app, f"{url}&{urlencode({'cursor': first['next_cursor']})}")
    # A page read from a keys-only index reads its items with one BatchGetItem; the recipients
    # tab reads the table itself; a timeline page is its recipient, which holds the timeline.
    if url.endswith("/events?limit=1"):
        per_page = ["GetItem"]
    elif "/recipients?" in url:
        per_page = ["Query"]
    else:
        per_page = ["Query", "BatchGetItem"]
    assert [call.operation for call in calls + calls_after] == per_page * 2, url


# --- GET /messages/{message_id} ----------------------------------------------------------------


def test_message_detail_has_counts_rates_and_document_ids(app: APIGatewayRestResolver) -> None:
    detail = ok(app, "/messages/inv-1-first")
    assert detail["message_id"] == "inv-1-first"
    assert detail["kind"] == "invoice"
    assert detail["invoice_id"] == "INV-1"
    assert_rates(detail, {Status.OPENED: 1})
    assert_rates(ok(app, "/messages/news"), NEWS_COUNTS)


def test_message_detail_is_one_read_and_shows_changes_once_the_projector_has_counted_them(
    app: APIGatewayRestResolver,
) -> None:
    tenant = "tenant-lag"  # its own tenant: the other tests share the world
    put(tenant, "lagging", 0, [Person("cust-1"), Person("cust-2")])
    project()
    ingest_all([ses("delivery", tenant, "lagging", 0, "cust-1", 3)], projected=False)
    with intercepted() as calls:
        detail = ok(app, "/messages/lagging", tenant)
    assert [call.operation for call in calls] == ["GetItem"]
    assert_rates(detail, {Status.QUEUED: 2})  # the delivery is on the stream, not counted yet
    project()
    assert_rates(ok(app, "/messages/lagging", tenant), {Status.QUEUED: 1, Status.DELIVERED: 1})
    (listed,) = ok(app, "/messages", tenant)["items"]
    assert_rates(listed, {Status.QUEUED: 1, Status.DELIVERED: 1})


@pytest.mark.parametrize("message_id", ["missing", "b-news"])
def test_unknown_or_foreign_message_is_404(app: APIGatewayRestResolver, message_id: str) -> None:
    status, body = call(app, f"/messages/{message_id}")
    assert status == 404
    assert body == {"error": {"code": "not_found", "message": "message not found"}}


# --- GET /messages/{message_id}/recipients -------------------------------------------------------


def test_recipients_tab_shows_status_opens_bounce_reason_complaint_and_dropped_reason(
    app: APIGatewayRestResolver,
) -> None:
    page = ok(app, "/messages/news/recipients")
    assert page["next_cursor"] is None
    rows = {r["recipient_id"]: r for r in page["items"]}
    assert list(rows) == [f"r{i}" for i in range(7)]
    ana = rows["r0"]
    assert (ana["customer_id"], ana["email"], ana["name"]) == ("cust-ana", "cust-ana@example.com", "Ana")
    assert (ana["status"], ana["open_count"], ana["click_count"]) == ("clicked", 3, 1)
    assert ana["first_opened_at"] == "2026-11-01T10:00:00Z"
    assert ana["last_opened_at"] == "2026-11-02T11:00:00Z"
    assert ana["delivered_at"] == "2026-11-01T09:06:00Z"
    assert ana["sent_at"] == "2026-11-01T09:01:00Z"
    assert ana["ses_message_id"] == ses_id("news", 0)
    assert ana["bounce"] is None
    assert ana["complaint"] is None
    assert ana["dropped_reason"] is None
    assert rows["r1"]["status"] == "bounced"
    assert rows["r1"]["bounce"] == {
        "type": "Permanent",
        "subtype": "General",
        "reason": DIAGNOSTIC,
        "at": "2026-11-01T09:03:00Z",
    }
    assert rows["r2"]["status"] == "complaint"
    assert rows["r2"]["complaint"] == {"feedback_type": "abuse", "at": "2026-11-01T12:20:00Z"}
    assert rows["r3"]["status"] == "delivered"
    assert rows["r3"]["open_count"] == 0
    assert (rows["r4"]["status"], rows["r4"]["dropped_reason"]) == ("dropped", "address previously bounced")
    assert (rows["r5"]["status"], rows["r5"]["dropped_reason"]) == ("dropped", "SES account suppression list")
    assert rows["r5"]["bounce"] is None
    assert (rows["r6"]["status"], rows["r6"]["ses_message_id"]) == ("queued", ses_id("news", 6))


@pytest.mark.parametrize("limit", [1, 2, 3, 7])
def test_recipients_pages_have_no_duplicates_and_no_gaps(app: APIGatewayRestResolver, limit: int) -> None:
    all_pages = pages(app, "/messages/news/recipients", limit=limit)
    assert all(len(page["items"]) <= limit for page in all_pages)
    assert [r["recipient_id"] for page in all_pages for r in page["items"]] == [f"r{i}" for i in range(7)]


NEWS_BY_STATUS = {
    "clicked": ["r0"],
    "bounced": ["r1"],
    "complaint": ["r2"],
    "delivered": ["r3"],
    "dropped": ["r4", "r5"],
    "queued": ["r6"],
    "opened": [],
    "sent": [],
}


@pytest.mark.parametrize("evaluation_limit", [1, 3, 1000])
@pytest.mark.parametrize("limit", [1, 2])
def test_recipients_status_filter_pages_correctly_even_when_pages_are_short(
    world: None, evaluation_limit: int, limit: int
) -> None:
    app = make_app(filtered_evaluation_limit=evaluation_limit)
    for status, expected in NEWS_BY_STATUS.items():
        all_pages = pages(app, "/messages/news/recipients", status=status, limit=limit)
        ids = [r["recipient_id"] for page in all_pages for r in page["items"]]
        assert ids == expected, status
        assert all(r["status"] == status for page in all_pages for r in page["items"])
        assert all(len(page["items"]) <= limit for page in all_pages)
        if evaluation_limit == 1000:
            # One Query evaluates every recipient: only a full page ends before the last match.
            assert len(all_pages) == max(1, -(-len(expected) // limit)), status


def test_recipients_status_filter_is_one_query_per_page(app: APIGatewayRestResolver) -> None:
    with intercepted() as calls:
        page = ok(app, "/messages/news/recipients?status=dropped&limit=1")
    assert [call.operation for call in calls] == ["Query"]
    assert [r["recipient_id"] for r in page["items"]] == ["r4"]
    assert page["next_cursor"] is not None


def test_recipients_of_an_unknown_or_foreign_message_are_404(app: APIGatewayRestResolver) -> None:
    for url in ("/messages/missing/recipients", "/messages/b-news/recipients?status=delivered"):
        status, body = call(app, url)
        assert status == 404, url
        assert body["error"]["code"] == "not_found"


# --- GET /messages/{message_id}/recipients/{recipient_id}/events --------------------------------


def test_timeline_is_in_time_order_with_details(app: APIGatewayRestResolver) -> None:
    page = ok(app, "/messages/news/recipients/r0/events")
    assert [(e["kind"], e["at"]) for e in page["items"]] == [
        ("send", "2026-11-01T09:01:00Z"),
        ("delivery", "2026-11-01T09:06:00Z"),
        ("open", "2026-11-01T10:00:00Z"),
        ("click", "2026-11-01T10:02:00Z"),
        ("open", "2026-11-01T14:00:00Z"),
        ("open", "2026-11-02T11:00:00Z"),
    ]
    assert page["items"][3]["details"]["link"] == b.DEFAULT_LINK
    bounce = ok(app, "/messages/news/recipients/r1/events")["items"][-1]
    assert bounce["kind"] == "bounce"
    assert bounce["details"]["diagnostic_code"] == DIAGNOSTIC
    assert bounce["details"]["bounce_type"] == "Permanent"


@pytest.mark.parametrize("limit", [1, 2, 4])
def test_timeline_pages_have_no_duplicates_and_no_gaps(app: APIGatewayRestResolver, limit: int) -> None:
    whole = ok(app, "/messages/news/recipients/r0/events")["items"]
    paged = all_items(app, "/messages/news/recipients/r0/events", limit=limit)
    assert [e["event_id"] for e in paged] == [e["event_id"] for e in whole]
    assert len({e["event_id"] for e in paged}) == 6


def test_timeline_of_a_recipient_without_events_is_empty(app: APIGatewayRestResolver) -> None:
    assert ok(app, "/messages/news/recipients/r6/events") == {
        "items": [],
        "next_cursor": None,
        "omitted_events": 0,
    }


@pytest.mark.parametrize(
    "url",
    [
        "/messages/news/recipients/r99/events",
        "/messages/missing/recipients/r0/events",
        "/messages/b-news/recipients/r0/events",
    ],
)
def test_timeline_of_an_unknown_or_foreign_recipient_is_404(app: APIGatewayRestResolver, url: str) -> None:
    status, body = call(app, url)
    assert status == 404
    assert body == {"error": {"code": "not_found", "message": "recipient not found"}}


# --- GET /invoices/{invoice_id}/logs -----------------------------------------------------------


def test_invoice_logs_group_messages_recipients_and_events_with_current_status(
    app: APIGatewayRestResolver,
) -> None:
    page = ok(app, "/invoices/INV-1/logs")
    assert page["invoice_id"] == "INV-1"
    assert page["next_cursor"] is None
    first, reminder = page["items"]
    assert (first["message_id"], first["kind"], first["subject"]) == (
        "inv-1-first",
        "invoice",
        "Subject of inv-1-first",
    )
    assert first["sent_at"] == "2026-11-01T10:00:00Z"
    (ana,) = first["recipients"]
    assert (ana["recipient_id"], ana["customer_id"], ana["status"], ana["open_count"]) == (
        "r0",
        "cust-ana",
        "opened",
        2,
    )
    assert [e["kind"] for e in ana["events"]] == ["send", "delivery", "open", "open"]
    assert reminder["message_id"] == "inv-1-reminder"
    statuses = {r["recipient_id"]: (r["status"], r["bounce_reason"]) for r in reminder["recipients"]}
    assert statuses == {"r0": ("delivered", None), "r1": ("bounced", DIAGNOSTIC)}
    ben = reminder["recipients"][1]
    assert [e["kind"] for e in ben["events"]] == ["send", "bounce"]
    assert ben["events"][1]["details"]["diagnostic_code"] == DIAGNOSTIC


def merge_log_pages(all_pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a client does: merge message and recipient groups with the same id across pages."""
    messages: dict[str, dict[str, Any]] = {}
    for page in all_pages:
        for group in page["items"]:
            merged = messages.setdefault(group["message_id"], {**group, "recipients": {}})
            for name, value in group.items():
                if name != "recipients" and value is not None:
                    merged[name] = value
            for recipient in group["recipients"]:
                into = merged["recipients"].setdefault(recipient["recipient_id"], {**recipient, "events": []})
                for name, value in recipient.items():
                    if name != "events" and value is not None:
                        into[name] = value
                into["events"] += recipient["events"]
    return [
        {**m, "recipients": [m["recipients"][key] for key in sorted(m["recipients"])]}
        for m in messages.values()
    ]


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 8])
def test_invoice_log_pages_split_messages_and_merge_back_without_gaps_or_duplicates(
    app: APIGatewayRestResolver, limit: int
) -> None:
    whole = ok(app, "/invoices/INV-1/logs")["items"]
    all_pages = pages(app, "/invoices/INV-1/logs", limit=limit)
    assert len(all_pages) >= 5 // limit  # rows: 2 messages + 3 recipients (each holding its events)
    event_ids = [
        e["event_id"]
        for page in all_pages
        for m in page["items"]
        for r in m["recipients"]
        for e in r["events"]
    ]
    assert len(event_ids) == len(set(event_ids)) == 8
    assert merge_log_pages(all_pages) == whole


def test_invoice_logs_of_an_unknown_or_foreign_invoice_are_404(app: APIGatewayRestResolver) -> None:
    for url, tenant in (
        ("/invoices/INV-404/logs", A),
        ("/invoices/INV-B/logs", A),
        ("/invoices/INV-1/logs", B),
    ):
        status, body = call(app, url, tenant)
        assert status == 404, (url, tenant)
        assert body == {"error": {"code": "not_found", "message": "invoice not found"}}


# --- GET /customers/{customer_id}/messages -----------------------------------------------------


def test_customer_messages_are_newest_first_with_this_customers_status(app: APIGatewayRestResolver) -> None:
    page = ok(app, "/customers/cust-ana/messages")
    assert page["next_cursor"] is None
    assert [(m["message_id"], m["recipient_id"], m["status"]) for m in page["items"]] == [
        ("inv-1-reminder", "r0", "delivered"),
        ("inv-1-first", "r0", "opened"),
        ("news", "r0", "clicked"),
    ]
    reminder, first, news = page["items"]
    assert (reminder["kind"], reminder["invoice_id"], reminder["payment_id"]) == ("invoice", "INV-1", None)
    assert reminder["sent_at"] == "2026-11-01T12:00:00Z"
    assert reminder["subject"] == "Subject of inv-1-reminder"
    assert (first["open_count"], news["open_count"], news["click_count"]) == (2, 3, 1)
    ben = ok(app, "/customers/cust-ben/messages")["items"]
    assert [(m["message_id"], m["status"], m["bounce_reason"]) for m in ben] == [
        ("inv-1-reminder", "bounced", DIAGNOSTIC),
        ("news", "bounced", DIAGNOSTIC),
    ]
    receipt = ok(app, "/customers/cust-dev/messages")["items"][0]
    assert (receipt["message_id"], receipt["kind"], receipt["payment_id"]) == (
        "receipt-1",
        "receipt",
        "PAY-1",
    )
    eli = ok(app, "/customers/cust-eli/messages")["items"][0]
    assert (eli["status"], eli["dropped_reason"]) == ("dropped", "address previously bounced")


@pytest.mark.parametrize("limit", [1, 2])
def test_customer_messages_pages_have_no_duplicates_and_no_gaps(
    app: APIGatewayRestResolver, limit: int
) -> None:
    ids = [m["message_id"] for m in all_items(app, "/customers/cust-ana/messages", limit=limit)]
    assert ids == ["inv-1-reminder", "inv-1-first", "news"]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("invoice", ["inv-1-reminder", "inv-1-first"]), ("email", ["news"]), ("receipt", [])],
)
@pytest.mark.parametrize("evaluation_limit", [1, 1000])
def test_customer_messages_filter_by_kind(
    world: None, kind: str, expected: list[str], evaluation_limit: int
) -> None:
    app = make_app(filtered_evaluation_limit=evaluation_limit)
    ids = [m["message_id"] for m in all_items(app, "/customers/cust-ana/messages", kind=kind, limit=1)]
    assert ids == expected


def test_customer_without_messages_is_404(app: APIGatewayRestResolver) -> None:
    for url, tenant in (("/customers/cust-nobody/messages", A), ("/customers/cust-zed/messages", A)):
        status, body = call(app, url, tenant)
        assert status == 404, url
        assert body == {"error": {"code": "not_found", "message": "customer not found"}}


# --- tenancy, authentication, cursors, validation ----------------------------------------------

A_ONLY = [
    "/messages/news",
    "/messages/news/recipients",
    "/messages/news/recipients/r0/events",
    "/invoices/INV-1/logs",
    "/customers/cust-dev/messages",
]


@pytest.mark.parametrize("url", A_ONLY)
def test_another_tenants_items_are_404_like_missing_ones(app: APIGatewayRestResolver, url: str) -> None:
    assert call(app, url, A)[0] == 200
    status, body = call(app, url, B)
    assert status == 404
    assert body["error"]["code"] == "not_found"
    missing = url.replace("news", "nothing").replace("INV-1", "INV-0").replace("cust-dev", "cust-nobody")
    assert call(app, missing, B) == (status, body)


def test_another_tenant_never_sees_our_items_in_lists(app: APIGatewayRestResolver) -> None:
    assert [m["message_id"] for m in all_items(app, "/messages", B, limit=1)] == ["b-inv", "b-news"]
    # The same customer id in two tenants is two customers.
    assert [m["message_id"] for m in all_items(app, "/customers/cust-ana/messages", B)] == ["b-news"]
    assert [m["message_id"] for m in ok(app, "/invoices/INV-B/logs", B)["items"]] == ["b-inv"]
    assert [r["customer_id"] for r in ok(app, "/messages/b-news/recipients", B)["items"]] == ["cust-ana"]


@pytest.mark.parametrize(
    "url",
    [
        "/messages",
        "/messages/news",
        "/messages/news/recipients",
        "/messages/news/recipients/r0/events",
        "/invoices/INV-1/logs",
        "/customers/cust-ana/messages",
    ],
)
def test_a_request_without_claims_is_401(app: APIGatewayRestResolver, url: str) -> None:
    status, body = call(app, url, tenant=None)
    assert status == 401
    assert body["error"]["code"] == "unauthenticated"


LISTS = [
    "/messages",
    "/messages/news/recipients",
    "/messages/news/recipients/r0/events",
    "/invoices/INV-1/logs",
    "/customers/cust-ana/messages",
]


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("forged", ["abc", "abc.def", "e30.AAAA", "x" * 300])
def test_a_forged_cursor_is_400(app: APIGatewayRestResolver, url: str, forged: str) -> None:
    status, body = call(app, with_query(url, cursor=forged))
    assert status == 400
    assert body["error"]["code"] == "invalid_cursor"
    assert body["error"]["field"] == "cursor"


@pytest.mark.parametrize("url", LISTS)
def test_a_tampered_cursor_is_400(app: APIGatewayRestResolver, url: str) -> None:
    cursor = ok(app, with_query(url, limit=1))["next_cursor"]
    assert cursor is not None
    body, signature = cursor.split(".")
    tampered = f"{body[:-2]}{'A' if body[-2] != 'A' else 'B'}{body[-1]}.{signature}"
    assert call(app, with_query(url, cursor=tampered))[0] == 400


def test_another_tenants_cursor_is_400(app: APIGatewayRestResolver) -> None:
    cursor = ok(app, "/messages?limit=1")["next_cursor"]
    status, body = call(app, with_query("/messages", cursor=cursor), tenant=B)
    assert status == 400
    assert body["error"]["code"] == "invalid_cursor"
    # B's own cursor works for B.
    cursor_b = ok(app, "/messages?limit=1", B)["next_cursor"]
    assert ok(app, with_query("/messages", cursor=cursor_b), B)["items"][0]["message_id"] == "b-news"


@pytest.mark.parametrize(
    ("issued", "replayed"),
    [
        ("/messages?limit=1", "/messages?kind=invoice"),
        ("/messages?limit=1&since=2026-11-01T00:00:00Z", "/messages"),
        ("/messages/news/recipients?limit=1", "/messages/news/recipients?status=dropped"),
        ("/messages/news/recipients?limit=1", "/messages/inv-1-reminder/recipients"),
        ("/messages/news/recipients/r0/events?limit=1", "/messages/news/recipients/r1/events"),
        ("/customers/cust-ana/messages?limit=1", "/customers/cust-ben/messages"),
        ("/customers/cust-ana/messages?limit=1", "/customers/cust-ana/messages?kind=invoice"),
        ("/messages?limit=1", "/customers/cust-ana/messages"),
    ],
)
def test_a_cursor_of_another_list_is_400(app: APIGatewayRestResolver, issued: str, replayed: str) -> None:
    cursor = ok(app, issued)["next_cursor"]
    assert cursor is not None
    separator = "&" if "?" in replayed else "?"
    status, body = call(app, f"{replayed}{separator}{urlencode({'cursor': cursor})}")
    assert status == 400
    assert body["error"]["code"] == "invalid_cursor"


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/messages?limit=0", "limit"),
        ("/messages?limit=201", "limit"),
        ("/messages?limit=ten", "limit"),
        ("/messages?kind=sms", "kind"),
        ("/messages?since=yesterday", "since"),
        ("/messages/news/recipients?status=Bounced", "status"),
        ("/messages/news/recipients?status=unknown", "status"),
        ("/messages/bad%20id", "message_id"),
        (f"/messages/{'m' * 129}", "message_id"),
        ("/messages/news/recipients/r%23/events", "recipient_id"),
        ("/invoices/INV%241/logs", "invoice_id"),
        ("/customers/cust%2Bana/messages?kind=email", "customer_id"),
        ("/customers/cust-ana/messages?kind=Email", "kind"),
        (f"/messages?cursor={'c' * 4097}", "cursor"),
    ],
)
def test_invalid_parameters_are_400_naming_the_field(
    app: APIGatewayRestResolver, url: str, field: str
) -> None:
    status, body = call(app, url)
    assert status == 400, body
    assert body["error"]["code"] == "invalid_request"
    assert body["error"]["field"] == field


def test_cursors_of_the_longest_ids_fit_the_cursor_limit(app: APIGatewayRestResolver) -> None:
    tenant, message_id, invoice_id = "t" * 64, "m" * 128, "i" * 128
    customer = "c" * 128
    put_message(
        NewMessage(tenant, message_id, "invoice", "Long ids", CREATED_AT, invoice_id=invoice_id),
        [
            NewRecipient(
                recipient_id=f"{n}" * 128,
                customer_id=customer,
                email=f"{n}@example.com",
                ses_message_id=f"ses-{n}",
            )
            for n in ("1", "2")
        ],
    )
    ingest_all(
        [
            b.delivery_event(
                f"ses-{n}", f"{n}@example.com", tags=b.tags_for(tenant, message_id, f"{n}" * 128)
            )
            for n in ("1", "2")
        ]
    )
    for path, expected in (
        (f"/invoices/{invoice_id}/logs", 1 + 2),  # the header, then each recipient with its events
        (f"/customers/{customer}/messages", 2),
        (f"/messages/{message_id}/recipients", 2),
        (f"/messages/{message_id}/recipients/{'1' * 128}/events", 1),
    ):
        all_pages = pages(app, path, tenant, limit=1)
        assert len(all_pages) >= expected, path
        assert all(len(page["next_cursor"] or "") <= 4096 for page in all_pages)


def test_the_largest_page_is_200_items(app: APIGatewayRestResolver) -> None:
    assert len(ok(app, "/messages?limit=200")["items"]) == 4
