"""Read cost: DynamoDB requests and items read for one page of each list route.

Two tenants with the same shape except the size of one message: an invoice sent to 100
recipients in one, to 100,000 in the other. Each tenant also has 60 one-recipient emails to the
same customer (so the messages list and the customer's history have more than one page), and
the first 60 recipients of the invoice have a send/delivery/open history (in their timelines). Every
list route is called for its first page (default limit, 50) through the real API handler
(``tracker.handlers.api.handler``) with API Gateway events and Cognito authorizer claims, and the
DynamoDB requests it makes are metered like the ingest path's.

Seeding 100,000 recipients through the API would take most of an hour in moto, so the items are
built by ``tracker.dal.messages.message_item``/``recipient_item`` (what the send path writes) and
put straight into the emulator's table, not metered (only this part of the bench does that).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bench.counting import Backend, Meter, Tally
from bench.emulator import ACCOUNT_ID, REGION, TABLE, emulated_table
from bench.generator import CREATED_AT
from tests import ses_builders as b
from tracker.dal.messages import NewMessage, NewRecipient, message_item, recipient_item
from tracker.dal.models import RecipientItem, TrackerItem
from tracker.dal.recipients import write_facts
from tracker.domain.facts import RecipientFacts
from tracker.models.ses import parse_record_body

SIZES = (100, 100_000)
INVOICE_ID = "inv-2026-0042"
INVOICE_MESSAGE = "invoice-run"
CUSTOMER = "cust-000000"
EXTRA_MESSAGES = 60
RECIPIENTS_WITH_HISTORY = 60


@dataclass(frozen=True)
class Route:
    name: str
    path: str  # with {message}, {recipient}, {customer}, {invoice}
    is_list: bool = True
    rows: int = 50  # what its first page holds with the seeded data

    def url(self) -> str:
        return self.path.format(
            message=INVOICE_MESSAGE, recipient="r000000", customer=CUSTOMER, invoice=INVOICE_ID
        )


ROUTES = (
    Route("messages list", "/messages"),
    Route("recipients tab", "/messages/{message}/recipients"),
    Route("customer messages", "/customers/{customer}/messages"),
    Route("invoice logs", "/invoices/{invoice}/logs"),
    Route("recipient timeline", "/messages/{message}/recipients/{recipient}/events", rows=3),
    Route("message detail (not a list)", "/messages/{message}", is_list=False, rows=0),
)


@dataclass(frozen=True)
class PageCost:
    route: str
    recipients: int
    available: bool
    note: str = ""
    status: int = 0
    requests: int = 0
    items_read: int = 0
    read_units: float = 0.0
    operations: str = ""
    rows: int = 0  # items on the page the API answered
    expected_rows: int = 0


def tenant_for(size: int) -> str:
    return f"reads-{size:06d}"  # the same length for every size: the same item sizes


def run_reads(sizes: tuple[int, ...] = SIZES, progress: Any = print) -> list[PageCost]:
    meter = Meter(Backend(ACCOUNT_ID, REGION))
    results: list[PageCost] = []
    with emulated_table(), meter.installed():
        for size in sizes:
            progress(f"reads: seeding a {size:,}-recipient invoice")
            seed(tenant_for(size), size)
        try:
            handler, has_route = _api()
        except Exception as error:  # the read API is being written: report, do not crash
            note = f"not available yet (the API does not load: {type(error).__name__}: {error})"
            return [PageCost(r.name, size, False, note) for r in ROUTES for size in sizes]
        for route in ROUTES:
            for size in sizes:
                if not has_route(route.url()):
                    results.append(PageCost(route.name, size, False, "not available yet"))
                    continue
                mark = meter.mark()
                with contextlib.redirect_stdout(io.StringIO()):
                    response = handler(route.url(), tenant_for(size))
                requests = meter.since(mark)
                tally = Tally.of(requests)
                results.append(
                    PageCost(
                        route=route.name,
                        recipients=size,
                        available=True,
                        status=int(response.get("statusCode", 0)),
                        requests=tally.requests,
                        items_read=tally.items_read,
                        read_units=tally.read_units,
                        operations=", ".join(f"{op} {n}" for op, n in sorted(tally.by_operation.items())),
                        rows=page_rows(json.loads(response.get("body") or "{}")),
                        expected_rows=route.rows,
                    )
                )
    return results


def page_rows(body: dict[str, Any]) -> int:
    """The rows a page holds: its items, where an invoice log's item is a message's group of its
    header and recipients (one row each, as its index holds them)."""
    items = body.get("items") or []
    # A messages list item's "recipients" is a count; an invoice log group's is its recipient list.
    return sum(1 + len(group) if isinstance(group := item.get("recipients"), list) else 1 for item in items)


def _api() -> tuple[Any, Any]:
    from tests.apigw import api_event
    from tests.lambda_context import FakeLambdaContext
    from tracker.handlers import api

    api.default_app.cache_clear()
    app = api.default_app()
    routes = [*getattr(app, "_static_routes", []), *getattr(app, "_dynamic_routes", [])]
    context = FakeLambdaContext(function_name="delivery-tracker-api", memory_limit_in_mb=512)

    def has_route(path: str) -> bool:
        return any(r.method == "GET" and r.rule.match(path) for r in routes)

    def call(path: str, tenant: str) -> dict[str, Any]:
        return dict(api.handler(api_event("GET", path, tenant_id=tenant), context))

    return call, has_route


# --- seeding --------------------------------------------------------------------------------------


def seed(tenant: str, size: int) -> None:
    backend: Any = importlib.import_module("moto.dynamodb.models").dynamodb_backends[ACCOUNT_ID][REGION]

    def put(item: TrackerItem) -> None:
        attributes = item.serialize()
        if isinstance(item, RecipientItem) and "version" not in attributes:
            attributes["version"] = {"N": "1"}  # what the first conditional save writes
        backend.put_item(TABLE, attributes)

    invoice = NewMessage(
        tenant_id=tenant,
        message_id=INVOICE_MESSAGE,
        kind="invoice",
        subject="Invoice INV-2026-0042",
        created_at=CREATED_AT,
        invoice_id=INVOICE_ID,
    )
    people = [
        NewRecipient(
            recipient_id=f"r{i:06d}",
            customer_id=f"cust-{i:06d}",
            email=f"person{i}@example.com",
            name=f"Person {i}",
            ses_message_id=f"0100019b-{tenant}-{i:06d}-000000",
        )
        for i in range(size)
    ]
    put(message_item(invoice, people))
    for i, person in enumerate(people):
        item = recipient_item(invoice, person)
        if i < RECIPIENTS_WITH_HISTORY:
            write_facts(item, history(person, CREATED_AT + timedelta(seconds=i)))
        put(item)
    for k in range(EXTRA_MESSAGES):
        message = NewMessage(
            tenant_id=tenant,
            message_id=f"note-{k:03d}",
            kind="email",
            subject=f"Class reminder {k}",
            created_at=CREATED_AT + timedelta(days=1, hours=k),
        )
        one = [NewRecipient(f"r{k:03d}", CUSTOMER, "person0@example.com", "Person 0")]
        put(message_item(message, one))
        put(recipient_item(message, one[0]))


def history(person: NewRecipient, sent: datetime) -> RecipientFacts:
    """A Send, a Delivery and an Open of one recipient, parsed and applied as ingest would."""
    sid, email = person.ses_message_id or "", person.email
    events = (
        b.send_event(sid, email, sent_at=sent),
        b.delivery_event(sid, email, sent_at=sent, at=sent + timedelta(minutes=1)),
        b.open_event(sid, email, sent_at=sent, at=sent + timedelta(minutes=11)),
    )
    parsed = [
        e
        for event in events
        for e in parse_record_body(json.dumps(b.sns_wrap(event, "00000000-0000-0000-0000-000000000000")))
    ]
    return RecipientFacts().apply_all(sorted(parsed, key=lambda e: (e.at, e.event_id)))
