"""The ingest path's direct codec (tracker.dal.recipient_codec) against PynamoDB, for generated
recipient items: decoding a raw item gives what ``RecipientItem`` deserialization gives, encoding
writes exactly what ``write_facts`` + ``RecipientItem.save`` would, on the same condition, and an
item decoded and encoded again keeps every attribute but its version."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.dal import keys, recipient_codec
from tracker.dal.ingest_store import to_stored
from tracker.dal.models import RecipientItem
from tracker.dal.recipients import facts_to_json, write_facts
from tracker.domain.events import EventKind, RecipientEvent
from tracker.domain.facts import FETCH_CLASS_DETAIL, RecipientFacts
from tracker.domain.records import StoredRecipient

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
IDS = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=10)
CODES = st.sampled_from(["unknown", "apple_mpp", "gmail_proxy", "scanner:defender", "headless", "human:x"])
DETAILS: dict[EventKind, st.SearchStrategy[dict[str, Any]]] = {
    EventKind.OPEN: st.fixed_dictionaries({FETCH_CLASS_DETAIL: CODES}),
    EventKind.CLICK: st.fixed_dictionaries(
        {
            FETCH_CLASS_DETAIL: CODES,
            "link": st.sampled_from(["https://example.com/a", "https://example.com/b?x=1"]),
            "link_tags": st.just({"campaign": ["fall"]}),
        }
    ),
    EventKind.BOUNCE: st.fixed_dictionaries(
        {
            "bounce_type": st.sampled_from(["Permanent", "Transient"]),
            "bounce_subtype": st.sampled_from(["General", "OnAccountSuppressionList"]),
        }
    ),
    EventKind.COMPLAINT: st.fixed_dictionaries({"feedback_type": TEXT}),
    EventKind.DELIVERY_DELAY: st.fixed_dictionaries({"delay_type": TEXT}),
}


@st.composite
def events(draw: st.DrawFn) -> RecipientEvent:
    kind = draw(st.sampled_from(list(EventKind)))
    seconds = draw(st.integers(min_value=0, max_value=400_000))
    return RecipientEvent(
        event_id=hashlib.sha256(f"{kind}-{seconds}-{draw(IDS)}".encode()).hexdigest()[:16],
        kind=kind,
        at=T0 + timedelta(seconds=seconds, microseconds=draw(st.integers(0, 999_999))),
        ses_message_id="ses-1",
        email="a@example.com",
        mail_sent_at=T0,
        details=draw(DETAILS.get(kind, st.just({}))),
    )


def facts_of(history: list[RecipientEvent]) -> RecipientFacts:
    return RecipientFacts().apply_all(history)


@st.composite
def recipient_items(draw: st.DrawFn, older_layouts: bool = True) -> RecipientItem:
    """A recipient item as the send path and earlier SES events leave it, with its facts written
    (``older_layouts``: or with only some of what they write now)."""
    tenant, message, recipient = draw(IDS), draw(IDS), draw(IDS)
    optional = lambda strategy: draw(st.none() | strategy)  # noqa: E731
    item = RecipientItem(
        keys.message_pk(tenant, message),
        keys.recipient_sk(recipient),
        tenant_id=tenant,
        customer_id=draw(TEXT),
        email=draw(TEXT),
        kind=draw(st.sampled_from(["invoice", "payment"])),
        name=optional(TEXT),
        send_claim=optional(IDS),
        gsi1pk=optional(IDS),
        gsi1sk=optional(st.just((T0 - timedelta(minutes=3)).isoformat())),
        gsi2pk=optional(IDS.map(keys.ses_lookup_pk)),
        gsi2sk=optional(st.just(keys.RECIPIENT_INDEX_SK)),
        erased_at=optional(st.just(T0.isoformat())),
        attention_listed=optional(st.booleans()),
        expires_at=optional(st.just(T0 + timedelta(days=400))),
        resent_as=optional(st.fixed_dictionaries({"message_id": IDS, "by": TEXT})),
    )
    if version := optional(st.integers(min_value=1, max_value=10_000)):
        item.version = version
    facts = facts_of(draw(st.lists(events(), max_size=60)))
    if not older_layouts or draw(st.booleans()):
        write_facts(item, facts)
    else:  # written by an older layout: what the facts write now may leave attributes out
        item.facts = facts_to_json(facts)
        item.seen = optional(st.sets(IDS, min_size=1, max_size=3))
        item.stats = optional(st.just({"s@493000"}))
        item.status = draw(st.sampled_from(["queued", "sent"]))
    return item


def normal(raw: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A raw item with its sets sorted (DynamoDB's sets have no order, PynamoDB lists them)."""
    return {
        name: {kind: sorted(v) if kind == "SS" else v for kind, v in attribute.items()}
        for name, attribute in raw.items()
    }


def fields_of(stored: StoredRecipient) -> tuple[Any, ...]:
    return stored.key, stored.email, stored.facts, stored.version, stored.ses_message_id


@settings(max_examples=150, deadline=None)
@given(recipient_items())
def test_decoding_a_raw_item_gives_what_pynamodb_deserializes(item: RecipientItem) -> None:
    raw = item.serialize()
    assert fields_of(recipient_codec.decode(raw)) == fields_of(to_stored(RecipientItem.from_raw_data(raw)))


@settings(max_examples=150, deadline=None)
@given(recipient_items(), st.lists(events(), max_size=20))
def test_encoding_writes_what_pynamodb_saves_on_the_same_condition(
    item: RecipientItem, more: list[RecipientEvent]
) -> None:
    raw = item.serialize()
    after = recipient_codec.decode(raw).facts.apply_all(more)

    expected = RecipientItem.from_raw_data(raw)
    write_facts(expected, after)
    _, save = expected._get_save_args()
    written = recipient_codec.encode(raw, after)

    assert normal(written) == normal({**save["attributes"], **{k: raw[k] for k in ("pk", "sk")}})
    ours, theirs = recipient_codec.version_condition(raw), save["condition"]
    names: tuple[dict[str, str], dict[str, str]] = ({}, {})
    values: tuple[dict[str, Any], dict[str, Any]] = ({}, {})
    assert ours.serialize(names[0], values[0]) == theirs.serialize(names[1], values[1])
    assert names[0] == names[1]
    assert values[0] == values[1]
    assert raw == item.serialize()  # the item read is left as it was


@settings(max_examples=100, deadline=None)
@given(recipient_items(older_layouts=False), st.lists(events(), max_size=20))
def test_a_decoded_and_encoded_item_round_trips(item: RecipientItem, more: list[RecipientEvent]) -> None:
    raw = item.serialize()
    stored = recipient_codec.decode(raw)
    again = recipient_codec.encode(raw, stored.facts)
    assert normal({**again, "version": raw.get("version", {})}) == normal(
        {**raw, "version": raw.get("version", {})}
    )

    after = stored.facts.apply_all(more)
    decoded = recipient_codec.decode(recipient_codec.encode(raw, after))
    pynamodb = RecipientItem.from_raw_data(raw)
    write_facts(pynamodb, after)
    assert decoded.facts == to_stored(RecipientItem.from_raw_data(pynamodb.serialize())).facts
    assert decoded.version == (stored.version or 0) + 1
