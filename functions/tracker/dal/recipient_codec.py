"""The recipient item straight from and to DynamoDB's low-level JSON, for the ingest path.

PynamoDB's generic (de)serialization of a recipient item (every attribute of the model through
its descriptors, defaults and null checks, both ways) was about a third of an ingest batch's CPU
(README, "Goals we miss"). The ingest path reads only the attributes it needs from the item as
DynamoDB returned it, and writes it back as it was read with only what the facts change replaced
(``written_values``) and the version moved on. The layout stays ``RecipientItem``'s: every
attribute is named, typed, serialized and deserialized by the model's own ``Attribute``, and
tests/unit/test_recipient_codec.py checks both directions against PynamoDB for generated items.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pynamodb.attributes import Attribute
from pynamodb.expressions.condition import Condition

from tracker.dal import keys
from tracker.dal.models import RecipientItem
from tracker.dal.recipients import facts_from_stored, written_values
from tracker.domain.facts import RecipientFacts
from tracker.domain.records import RecipientKey, StoredRecipient

# An item in DynamoDB's low-level JSON: attribute name -> {type code: value}.
RawItem = dict[str, dict[str, Any]]

_ATTRIBUTES: Mapping[str, Attribute[Any]] = RecipientItem.get_attributes()
_DISCRIMINATOR = _ATTRIBUTES["item_type"]
RECIPIENT_TYPE = RecipientItem.item_type.get_discriminator(RecipientItem)
PK = _ATTRIBUTES["pk"].attr_name
SK = _ATTRIBUTES["sk"].attr_name
_STRING = _ATTRIBUTES["pk"].attr_type


def value(raw: Mapping[str, dict[str, Any]], name: str) -> Any:
    """The model attribute ``name`` of a raw item, as PynamoDB would deserialize it (None when
    absent or NULL)."""
    attr = _ATTRIBUTES[name]
    stored = raw.get(attr.attr_name)
    if not stored or "NULL" in stored:
        return None
    return attr.deserialize(attr.get_value(stored))


def _put(raw: RawItem, name: str, python_value: Any) -> None:
    attr = _ATTRIBUTES[name]
    serialized = None if python_value is None else attr.serialize(python_value)
    if serialized is None:  # PynamoDB leaves a None (or an empty set) out of the item
        raw.pop(attr.attr_name, None)
    else:
        raw[attr.attr_name] = {attr.attr_type: serialized}


def decode(raw: RawItem) -> StoredRecipient:
    """A recipient as the ingest path works on it; the raw item is kept to write it back."""
    kind = raw.get(_DISCRIMINATOR.attr_name, {}).get(_STRING)
    if kind != RECIPIENT_TYPE:
        raise ValueError(f"not a recipient item: {kind!r}")
    tenant_id, message_id = keys.parse_message_pk(raw[PK][_STRING])
    ses_lookup = value(raw, "gsi2pk")
    return StoredRecipient(
        key=RecipientKey(tenant_id, message_id, keys.parse_recipient_sk(raw[SK][_STRING])),
        email=value(raw, "email"),
        facts=facts_from_stored(value(raw, "facts"), value(raw, "seen")),
        version=value(raw, "version"),
        ses_message_id=keys.parse_ses_lookup_pk(ses_lookup) if ses_lookup else None,
        store_ref=raw,
    )


def encode(raw: RawItem, facts: RecipientFacts) -> RawItem:
    """The item to put: ``raw`` with what ``facts`` write replaced and its version moved on (as
    ``RecipientItem.save`` would write it after ``write_facts``). ``raw`` is left unchanged."""
    out = dict(raw)
    for name, python_value in written_values(
        facts, bool(value(raw, "erased_at")), value(raw, "gsi1sk")
    ).items():
        _put(out, name, python_value)
    version = value(raw, "version")
    _put(out, "version", 1 if version is None else version + 1)
    return out


def version_condition(raw: RawItem) -> Condition:
    """The condition of the put: the item is still at the version it was read at."""
    version = value(raw, "version")
    if version is None:
        missing: Condition = RecipientItem.version.does_not_exist()
        return missing
    condition: Condition = RecipientItem.version == version
    return condition
