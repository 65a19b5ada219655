"""The recipient item's compact form: RecipientFacts in one attribute, small enough that the common
recipient stays under 1 KB (one write unit per SES event; docs/data-model.md "The recipient item").

``facts`` is one JSON object with short keys (``_KEYS``), written without spaces, leaving out every
default (zero, None, empty); times are integers (epoch microseconds). Timeline entries are
``<kind letter>|<epoch ms>|<short event id>|<info>``. ``seen`` is a separate set attribute and is
stored only once the timeline no longer holds every applied event: until then the timeline's ids
are the applied events' ids. This is a stored format: a key or a letter never changes meaning.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

from tracker.dal.models import RecipientItem
from tracker.domain.engagement import DEFAULT_RULES, EngagementCounts, EngagementRules
from tracker.domain.erasure import erase_facts
from tracker.domain.events import EventKind
from tracker.domain.facts import SEEN_LIMIT, Detail, RecipientFacts
from tracker.domain.stats import REASON_PREFIX, Metric, StatMark, hour_of, stat_times
from tracker.domain.status import Status
from tracker.domain.timeline import TimelineEntry

# RecipientFacts field -> stored key.
_TIMES = {
    "sent_at": "sa",
    "delivered_at": "da",
    "first_delayed_at": "fd",
    "first_opened_at": "fo",
    "last_opened_at": "lo",
    "first_clicked_at": "fc",
    "last_clicked_at": "lc",
    "first_bounced_at": "fb",
    "ses_suppressed_at": "ss",
    "mail_sent_at": "ms",
}
_COUNTS = {
    "applied": "ap",
    "open_count": "oc",
    "click_count": "cc",
    "permanent_bounces": "pb",
    "transient_bounces": "tb",
}
_DETAILS = {
    "delay": "dl",
    "bounce": "bo",
    "complaint": "co",
    "reject": "rj",
    "rendering_failure": "rf",
    "subscription": "su",
}
_OTHER = {
    "send_outcome": "so",
    "send_outcome_reason": "sr",
    "late": "lt",
    "timeline": "tl",
    "links": "ln",
    "link_tags": "lg",
}
_NOT_IN_FACTS = {"seen", "rules"}  # its own attribute; settings
_KEYS = {**_TIMES, **_COUNTS, **_DETAILS, **_OTHER}
assert len(set(_KEYS.values())) == len(_KEYS), "two facts share a stored key"
# Every fact must be persisted: fail at import if RecipientFacts grows a field we do not map.
assert {f.name for f in fields(RecipientFacts)} == set(_KEYS) | _NOT_IN_FACTS, "facts and mapping disagree"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# One letter per event kind in a timeline entry.
_KIND_LETTERS = {
    EventKind.SEND: "s",
    EventKind.DELIVERY: "d",
    EventKind.OPEN: "o",
    EventKind.CLICK: "c",
    EventKind.BOUNCE: "b",
    EventKind.COMPLAINT: "x",
    EventKind.REJECT: "r",
    EventKind.RENDERING_FAILURE: "f",
    EventKind.DELIVERY_DELAY: "w",
    EventKind.SUBSCRIPTION: "u",
}
_KINDS_BY_LETTER = {letter: kind for kind, letter in _KIND_LETTERS.items()}
EVIDENCE_LETTERS = (_KIND_LETTERS[EventKind.BOUNCE], _KIND_LETTERS[EventKind.COMPLAINT])
_LATE_KEYS = ("human_opens", "machine_opens", "human_clicks", "machine_clicks")


def micros(at: datetime) -> int:
    delta = at.astimezone(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(value))


def entry_to_text(entry: TimelineEntry) -> str:
    """``<kind letter>|<epoch ms>|<event id>|<info>``: ~30 bytes."""
    return f"{_KIND_LETTERS[entry.kind]}|{micros(entry.at) // 1000}|{entry.event_id}|{entry.info}"


def entry_from_text(text: str) -> TimelineEntry:
    letter, millis, event_id, info = text.split("|", 3)
    at = from_micros(int(millis) * 1000)
    return TimelineEntry(at=at, event_id=event_id, kind=_KINDS_BY_LETTER[letter], info=info)


def _detail_out(detail: Detail) -> list[Any]:
    return [micros(detail.at), detail.event_id, dict(detail.values)]


def detail_from_json(raw: list[Any]) -> Detail:
    at, event_id, values = raw
    return Detail(at=from_micros(at), event_id=str(event_id), values=dict(values or {}))


def facts_to_json(facts: RecipientFacts) -> dict[str, Any]:
    """The stored object: defaults left out."""
    out: dict[str, Any] = {}
    if facts.send_outcome is not Status.QUEUED:
        out["so"] = facts.send_outcome.value
    if facts.send_outcome_reason:
        out["sr"] = facts.send_outcome_reason
    for name, key in _TIMES.items():
        if (value := getattr(facts, name)) is not None:
            out[key] = micros(value)
    for name, key in _COUNTS.items():
        if value := getattr(facts, name):
            out[key] = value
    for name, key in _DETAILS.items():
        if (detail := getattr(facts, name)) is not None:
            out[key] = _detail_out(detail)
    late = {k[0] + k.split("_")[1][0]: getattr(facts.late, k) for k in _LATE_KEYS if getattr(facts.late, k)}
    if late:
        out["lt"] = late  # "ho", "mo", "hc", "mc"
    if facts.timeline:
        out["tl"] = [entry_to_text(entry) for entry in facts.timeline]
    if facts.links:
        out["ln"] = dict(facts.links)
    if facts.link_tags:
        out["lg"] = {link: list(pairs) for link, pairs in facts.link_tags.items()}
    return out


def facts_from_json(
    data: Mapping[str, Any], seen: frozenset[str] | None, rules: EngagementRules
) -> RecipientFacts:
    timeline = tuple(entry_from_text(text) for text in data.get("tl") or ())
    late = data.get("lt") or {}
    kwargs: dict[str, Any] = {
        "send_outcome": Status(data.get("so", Status.QUEUED.value)),
        "send_outcome_reason": data.get("sr"),
        "late": EngagementCounts(**{k: int(late.get(k[0] + k.split("_")[1][0], 0)) for k in _LATE_KEYS}),
        "timeline": timeline,
        "links": {str(k): str(v) for k, v in (data.get("ln") or {}).items()},
        "link_tags": {str(k): tuple(map(str, v)) for k, v in (data.get("lg") or {}).items()},
        "rules": rules,
    }
    kwargs.update({name: from_micros(data[key]) if key in data else None for name, key in _TIMES.items()})
    kwargs.update({name: int(data.get(key, 0)) for name, key in _COUNTS.items()})
    kwargs.update(
        {name: detail_from_json(data[key]) if key in data else None for name, key in _DETAILS.items()}
    )
    # While the timeline holds every applied event, its ids are the applied ids (see above).
    kwargs["seen"] = (
        seen if seen is not None else frozenset(sorted({e.event_id for e in timeline})[:SEEN_LIMIT])
    )
    return RecipientFacts(**kwargs)


# The engagement thresholds facts are loaded with: settings, bound once per container with the
# table (``use_engagement_rules``, like ``models.bind_table``).
_rules: EngagementRules = DEFAULT_RULES


def use_engagement_rules(rules: EngagementRules) -> None:
    global _rules
    _rules = rules


def engagement_rules() -> EngagementRules:
    """The thresholds bound with ``use_engagement_rules`` (the projector judges clicks with them)."""
    return _rules


def _loaded(raw: Any) -> dict[str, Any]:
    return (json.loads(raw) if isinstance(raw, str) else raw) or {}


def facts_from_stored(
    facts: Any, seen: Iterable[str] | None, rules: EngagementRules | None = None
) -> RecipientFacts:
    """The facts of the item's deserialized ``facts`` and ``seen`` attributes."""
    return facts_from_json(_loaded(facts), frozenset(seen) if seen else None, rules or _rules)


def facts_from_item(item: RecipientItem, rules: EngagementRules | None = None) -> RecipientFacts:
    return facts_from_stored(item.facts, item.seen, rules)


def written_values(facts: RecipientFacts, erased: bool, created: str | None) -> dict[str, Any]:
    """What ``facts`` write on their recipient item, by RecipientItem attribute name: the one
    definition ``write_facts`` and the ingest path's codec (tracker.dal.recipient_codec) share.
    ``created`` is the customer index's sort key (gsi1sk): the message's creation time."""
    if erased:  # erased (DELETE /customers/{id}): a later SES event brings no personal data back
        facts = erase_facts(facts)
    created_at = datetime.fromisoformat(created) if created else None
    return {
        "facts": facts_to_json(facts) or None,
        "seen": set(facts.seen) if facts.omitted_events else None,
        "tallies": set(facts.tallies),
        "status": facts.status.value,
        "stats": stat_texts(stat_times(facts, created_at)) or None,
    }


def write_facts(item: RecipientItem, facts: RecipientFacts) -> None:
    for name, value in written_values(facts, bool(item.erased_at), item.gsi1sk).items():
        setattr(item, name, value)


# A statistics mark as stored: "<metric code>@<hours since the epoch>" (a reason: "r.<code>@...");
# the recipient's kind completes it. A stored format: a code never changes meaning.
_METRIC_CODES: dict[str, str] = {
    Metric.SENT: "s",
    Metric.DELIVERED: "d",
    Metric.BOUNCED_HARD: "bh",
    Metric.BOUNCED_SOFT: "bs",
    Metric.COMPLAINT: "x",
    Metric.DROPPED: "dr",
    Metric.OPENED: "o",
    Metric.CLICKED: "c",
    Metric.MACHINE_OPENED: "mo",
}
_METRICS_BY_CODE = {code: metric for metric, code in _METRIC_CODES.items()}
_REASON_CODE = "r."
_HOUR_SECONDS = 3600


def stat_texts(times: Mapping[str, datetime]) -> set[str]:
    out = set()
    for metric, at in times.items():
        code = _METRIC_CODES.get(metric) or _REASON_CODE + metric.removeprefix(REASON_PREFIX)
        out.add(f"{code}@{micros(hour_of(at)) // 1_000_000 // _HOUR_SECONDS}")
    return out


def stat_marks_from_texts(texts: Iterable[str], kind: str) -> frozenset[StatMark]:
    marks = set()
    for text in texts:
        code, _, hours = text.rpartition("@")
        metric = _METRICS_BY_CODE.get(code) or REASON_PREFIX + code.removeprefix(_REASON_CODE)
        marks.add(StatMark(from_micros(int(hours) * _HOUR_SECONDS * 1_000_000), kind, metric))
    return frozenset(marks)
