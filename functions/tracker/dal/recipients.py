"""Mapping between RecipientItem attributes and the domain's RecipientFacts."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import datetime
from typing import Any

from tracker.dal.keys import iso, parse_iso
from tracker.dal.models import RecipientItem
from tracker.domain.facts import Detail, RecipientFacts
from tracker.domain.status import Status

_TIME_FIELDS = (
    "sent_at",
    "delivered_at",
    "first_delayed_at",
    "first_opened_at",
    "last_opened_at",
    "first_clicked_at",
    "last_clicked_at",
    "first_bounced_at",
    "ses_suppressed_at",
)
_COUNT_FIELDS = ("applied", "open_count", "click_count", "permanent_bounces", "transient_bounces")
_DETAIL_FIELDS = ("delay", "bounce", "complaint", "reject", "rendering_failure", "subscription")

# Every fact must be persisted: fail at import if RecipientFacts grows a field we do not map.
_MAPPED = {"send_outcome", "send_outcome_reason", "seen", *_TIME_FIELDS, *_COUNT_FIELDS, *_DETAIL_FIELDS}
assert {f.name for f in fields(RecipientFacts)} == _MAPPED, "RecipientFacts and its mapping disagree"


def _detail_to_json(detail: Detail | None) -> dict[str, Any] | None:
    if detail is None:
        return None
    return {"at": iso(detail.at), "event_id": detail.event_id, "values": dict(detail.values)}


def _detail_from_json(raw: Any) -> Detail | None:
    if not raw:
        return None
    data = json.loads(raw) if isinstance(raw, str) else raw
    return Detail(at=parse_iso(data["at"]), event_id=data["event_id"], values=data.get("values") or {})


def _time(value: str | None) -> datetime | None:
    return parse_iso(value) if value else None


def facts_from_item(item: RecipientItem) -> RecipientFacts:
    kwargs: dict[str, Any] = {
        "send_outcome": Status(item.send_outcome),
        "send_outcome_reason": item.send_outcome_reason,
        "seen": frozenset(item.seen or ()),
    }
    kwargs.update({name: _time(getattr(item, name)) for name in _TIME_FIELDS})
    kwargs.update({name: int(getattr(item, name) or 0) for name in _COUNT_FIELDS})
    kwargs.update({name: _detail_from_json(getattr(item, name)) for name in _DETAIL_FIELDS})
    return RecipientFacts(**kwargs)


def write_facts(item: RecipientItem, facts: RecipientFacts) -> None:
    item.send_outcome = facts.send_outcome.value
    item.send_outcome_reason = facts.send_outcome_reason
    item.seen = set(facts.seen) or None
    for name in _TIME_FIELDS:
        value = getattr(facts, name)
        setattr(item, name, iso(value) if value else None)
    for name in _COUNT_FIELDS:
        setattr(item, name, getattr(facts, name))
    for name in _DETAIL_FIELDS:
        setattr(item, name, _detail_to_json(getattr(facts, name)))
    item.status = facts.status.value
