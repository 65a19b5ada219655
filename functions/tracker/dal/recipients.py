"""Mapping between RecipientItem attributes and the domain's RecipientFacts."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

from tracker.dal.keys import iso, parse_iso
from tracker.dal.models import RecipientItem
from tracker.domain.engagement import DEFAULT_RULES, EngagementCounts, EngagementRules, Fetch
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
    "mail_sent_at",
)
_COUNT_FIELDS = ("applied", "open_count", "click_count", "permanent_bounces", "transient_bounces")
_DETAIL_FIELDS = ("delay", "bounce", "complaint", "reject", "rendering_failure", "subscription")

# Every fact must be persisted (the rules are settings): fail at import if RecipientFacts grows a
# field we do not map.
_MAPPED = {
    "send_outcome",
    "send_outcome_reason",
    "seen",
    "fetches",
    "late",
    "rules",
    *_TIME_FIELDS,
    *_COUNT_FIELDS,
    *_DETAIL_FIELDS,
}
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


def _fetch_to_text(fetch: Fetch) -> str:
    """``o|<epoch ms>|<code>||<event id>`` or ``c|<epoch ms>|<code>|<link id>|<event id>``: ~45 bytes."""
    millis = int(fetch.at.timestamp() * 1000)
    return f"{fetch.kind[0]}|{millis}|{fetch.code}|{fetch.link or ''}|{fetch.event_id}"


def _fetch_from_text(text: str) -> Fetch:
    kind, millis, code, link, event_id = text.split("|", 4)
    at = datetime.fromtimestamp(int(millis) / 1000, tz=UTC)
    if kind == "c":
        return Fetch(at=at, kind="click", code=code, link=link or None, event_id=event_id)
    return Fetch(at=at, kind="open", code=code, event_id=event_id)


def _json_list(raw: Any) -> list[str]:
    data = json.loads(raw) if isinstance(raw, str) else raw
    return [str(value) for value in (data or [])]


_LATE_KEYS = ("human_opens", "machine_opens", "human_clicks", "machine_clicks")


def _late_to_json(late: EngagementCounts) -> dict[str, int] | None:
    values = {key: getattr(late, key) for key in _LATE_KEYS if getattr(late, key)}
    return values or None


def _late_from_json(raw: Any) -> EngagementCounts:
    data = (json.loads(raw) if isinstance(raw, str) else raw) or {}
    return EngagementCounts(**{key: int(data.get(key, 0)) for key in _LATE_KEYS})


# The engagement thresholds facts are loaded with: settings, bound once per container with the
# table (``use_engagement_rules``, like ``models.bind_table``).
_rules: EngagementRules = DEFAULT_RULES


def use_engagement_rules(rules: EngagementRules) -> None:
    global _rules
    _rules = rules


def facts_from_item(item: RecipientItem, rules: EngagementRules | None = None) -> RecipientFacts:
    kwargs: dict[str, Any] = {
        "send_outcome": Status(item.send_outcome),
        "send_outcome_reason": item.send_outcome_reason,
        "seen": frozenset(item.seen or ()),
        "fetches": tuple(_fetch_from_text(text) for text in _json_list(item.fetches)),
        "late": _late_from_json(item.late),
        "rules": rules or _rules,
    }
    kwargs.update({name: _time(getattr(item, name)) for name in _TIME_FIELDS})
    kwargs.update({name: int(getattr(item, name) or 0) for name in _COUNT_FIELDS})
    kwargs.update({name: _detail_from_json(getattr(item, name)) for name in _DETAIL_FIELDS})
    return RecipientFacts(**kwargs)


def write_facts(item: RecipientItem, facts: RecipientFacts) -> None:
    item.send_outcome = facts.send_outcome.value
    item.send_outcome_reason = facts.send_outcome_reason
    item.seen = set(facts.seen) or None
    item.fetches = [_fetch_to_text(fetch) for fetch in facts.fetches] or None
    item.late = _late_to_json(facts.late)
    for name in _TIME_FIELDS:
        value = getattr(facts, name)
        setattr(item, name, iso(value) if value else None)
    for name in _COUNT_FIELDS:
        setattr(item, name, getattr(facts, name))
    for name in _DETAIL_FIELDS:
        setattr(item, name, _detail_to_json(getattr(facts, name)))
    item.status = facts.status.value
