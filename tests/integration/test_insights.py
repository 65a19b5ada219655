"""A message's Links and Providers tabs on moto (docs/insights.md): SES events through the real
ingest handler and the projector, then GET /messages/{id}/links and /providers through the API;
the numbers are kept on the message item by the count update, exact under duplicates."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests import ses_builders as b
from tests.apigw import api_event, json_body
from tests.engagement_samples import DEFENDER_EOP
from tests.factories import CREATED_AT
from tests.integration.test_send_support import SendWorld, run_ingest
from tests.lambda_context import FakeLambdaContext
from tests.projection import project
from tracker.dal import insights as stored
from tracker.dal.messages import NewMessage, NewRecipient, put_message
from tracker.domain.insights import MAX_LINKS, OTHER_LINK, Provider, provider_of
from tracker.domain.records import MessageKey

TENANT, MESSAGE = "tenant-a", "launch"
SENT = CREATED_AT + timedelta(minutes=1)
PEOPLE = {
    "r0": "ana@gmail.com",
    "r1": "ben@Hotmail.com",
    "r2": "cleo@yahoo.com",
    "r3": "dev@icloud.com",
    "r4": "eli@acme.example",
    "r5": "fay@outlook.com",
}
PRICING, DOCS = "https://acme.example/pricing", "https://acme.example/docs"


# Each recipient's own link to the docs (a personalised query): one row, named without the query.
def personal_docs(email: str) -> str:
    return f"{DOCS}?for={email}#top"


def get(world: SendWorld, path: str, tenant: str = TENANT) -> tuple[int, Any]:
    response = world.app.resolve(api_event("GET", path, tenant_id=tenant), FakeLambdaContext())
    return response["statusCode"], json_body(response)


def seed(message_id: str = MESSAGE, people: dict[str, str] = PEOPLE) -> None:
    put_message(
        NewMessage(TENANT, message_id, "email", "Launch", CREATED_AT),
        [
            NewRecipient(rid, f"c-{rid}", email, ses_message_id=f"ses-{message_id}-{rid}")
            for rid, email in people.items()
        ],
    )
    project()


def events(rid: str, email: str, message_id: str = MESSAGE) -> dict[str, Any]:
    tags = b.tags_for(TENANT, message_id, rid)
    sid = f"ses-{message_id}-{rid}"
    return {
        "send": b.send_event(sid, email, sent_at=SENT, tags=tags),
        "delivery": b.delivery_event(sid, email, sent_at=SENT, at=SENT + timedelta(seconds=5), tags=tags),
        "open": b.open_event(sid, email, sent_at=SENT, at=SENT + timedelta(hours=1), tags=tags),
        "bounce": b.bounce_event(sid, email, sent_at=SENT, tags=tags),
        "pricing": b.click_event(
            sid,
            email,
            sent_at=SENT,
            at=SENT + timedelta(hours=2),
            tags=tags,
            link=PRICING,
            link_tags={"campaign": ["launch"], "placement": ["hero"]},
        ),
        "pricing2": b.click_event(
            sid,
            email,
            sent_at=SENT,
            at=SENT + timedelta(hours=3),
            tags=tags,
            link=PRICING,
            link_tags={"campaign": ["launch"], "placement": ["hero"]},
        ),
        "docs": b.click_event(
            sid, email, sent_at=SENT, at=SENT + timedelta(minutes=150), tags=tags, link=personal_docs(email)
        ),
        # Microsoft Defender's Safe Links fetching the link before anyone reads the message.
        "scanned": b.click_event(
            sid,
            email,
            sent_at=SENT,
            at=SENT + timedelta(seconds=6),
            tags=tags,
            link=PRICING,
            ip=DEFENDER_EOP.ip_address or "",
            user_agent=DEFENDER_EOP.user_agent or "",
        ),
    }


def test_the_providers_tab_counts_each_provider_from_the_address_domain(world: SendWorld) -> None:
    assert provider_of("Ana@GMAIL.com.") is Provider.GMAIL
    assert provider_of("x@aol.com") is Provider.YAHOO
    seed()
    ev = {rid: events(rid, email) for rid, email in PEOPLE.items()}
    batch = [ev[r]["send"] for r in PEOPLE] + [ev[r]["delivery"] for r in ("r0", "r1", "r3", "r4", "r5")]
    batch += [ev["r0"]["open"], ev["r2"]["bounce"], ev["r5"]["open"]]
    assert run_ingest(batch + batch[:4]) == []  # duplicates count once
    status, body = get(world, f"/messages/{MESSAGE}/providers")
    assert status == 200
    by = {item["provider"]: item for item in body["items"]}
    assert [item["provider"] for item in body["items"]] == ["gmail", "microsoft", "yahoo", "apple", "other"]
    assert by["gmail"] == {
        "provider": "gmail",
        "recipients": 1,
        "delivered": 1,
        "opened": 1,
        "bounced": 0,
        "dropped": 0,
        "delivery_rate": 1.0,
        "open_rate": 1.0,
        "bounce_rate": 0.0,
    }
    assert (by["microsoft"]["recipients"], by["microsoft"]["delivered"], by["microsoft"]["opened"]) == (
        2,
        2,
        1,
    )
    assert by["microsoft"]["open_rate"] == 0.5
    assert (by["yahoo"]["bounced"], by["yahoo"]["bounce_rate"], by["yahoo"]["delivery_rate"]) == (1, 1.0, 0.0)
    assert (by["apple"]["delivered"], by["apple"]["opened"], by["apple"]["open_rate"]) == (1, 0, 0.0)
    assert by["other"]["recipients"] == 1
    assert sum(item["recipients"] for item in body["items"]) == len(PEOPLE)
    assert get(world, "/messages/nope/providers")[0] == 404
    assert get(world, f"/messages/{MESSAGE}/providers", tenant="tenant-b")[0] == 404


def test_the_links_tab_counts_customers_clicks_and_automatic_clicks_per_address(world: SendWorld) -> None:
    seed()
    ev = {rid: events(rid, email) for rid, email in PEOPLE.items()}
    first = [ev[r]["send"] for r in PEOPLE] + [ev[r]["delivery"] for r in PEOPLE if r != "r2"]
    assert run_ingest(first) == []
    # r0 clicks pricing twice and docs once; r1 clicks pricing; r5's pricing is only a scanner's.
    clicks = [
        ev["r0"]["pricing"],
        ev["r0"]["pricing2"],
        ev["r0"]["docs"],
        ev["r1"]["pricing"],
        ev["r5"]["scanned"],
    ]
    assert run_ingest(clicks + clicks[:2]) == []  # duplicates count once
    status, body = get(world, f"/messages/{MESSAGE}/links")
    assert status == 200
    by = {item["url"]: item for item in body["items"]}
    assert set(by) == {PRICING, DOCS}
    assert (by[PRICING]["customers"], by[PRICING]["clicks"], by[PRICING]["automatic_clicks"]) == (2, 3, 1)
    assert (by[DOCS]["customers"], by[DOCS]["clicks"], by[DOCS]["automatic_clicks"]) == (1, 1, 0)
    assert body["items"][0]["url"] == PRICING  # most customers first
    # SES's linkTags (the anchor's ses:tags) as SES writes them; a link without any has none.
    assert by[PRICING]["tags"] == {"campaign": ["launch"], "placement": ["hero"]}
    assert by[DOCS]["tags"] == {}
    status, message = get(world, f"/messages/{MESSAGE}")
    assert message["counts"]["clicked"] == 2


def test_a_message_keeps_at_most_max_links_by_name_and_sums_the_rest(world: SendWorld) -> None:
    many = {f"p{i:03d}": f"p{i}@example.com" for i in range(MAX_LINKS + 8)}
    seed("personal", many)
    batch: list[dict[str, Any]] = []
    for rid, email in many.items():
        tags, sid = b.tags_for(TENANT, "personal", rid), f"ses-personal-{rid}"
        batch.append(b.delivery_event(sid, email, sent_at=SENT, at=SENT + timedelta(seconds=5), tags=tags))
        link = f"https://acme.example/welcome/{rid}"  # one address per recipient
        batch.append(
            b.click_event(sid, email, sent_at=SENT, at=SENT + timedelta(hours=2), tags=tags, link=link)
        )
    for start in range(0, len(batch), 40):
        assert run_ingest(batch[start : start + 40]) == []
    project()
    status, body = get(world, "/messages/personal/links")
    assert status == 200
    named = [item for item in body["items"] if item["link_id"] != OTHER_LINK]
    other = [item for item in body["items"] if item["link_id"] == OTHER_LINK]
    assert len(named) <= MAX_LINKS
    assert len(other) == 1
    assert other[0]["url"] is None
    assert sum(item["customers"] for item in body["items"]) == len(many)
    assert sum(item["clicks"] for item in body["items"]) == len(many)
    # Later clicks of a folded link go to `other` at once (no second update).
    assert stored._folded[MessageKey(TENANT, "personal")]
