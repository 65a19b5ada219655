"""The attention facts on a message item (tracker.domain.attention; docs/data-model.md, "The
attention queue"): what the projector reads of a recipient image, the actions it adds to its count
update, and the queue place (gsi4) it derives from the item afterwards.

The entries, counts and times change only inside the count update, under the same per-shard mark
as the counts, so each stream record moves them exactly once. The queue place (``attention_at``,
``attention_problem`` and the gsi4 keys) is then a function of the item: derived from the update's
answer (the item after it, or as it was when the mark said the records were counted already) and
written only when it differs, conditioned on the mark it was derived at. A crash between the two
writes is repaired by the redelivery, whose refused count update answers with the item.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action

from tracker.dal import keys
from tracker.dal.models import MessageItem, RecipientItem
from tracker.dal.recipients import facts_from_json, from_micros, micros
from tracker.domain.attention import (
    FAILED_STATUSES,
    AttentionFacts,
    Concern,
    Who,
    attention_due,
    category,
    concern_of,
    is_concern,
)
from tracker.domain.engagement import DEFAULT_RULES
from tracker.domain.records import MessageKey, RecipientKey
from tracker.domain.status import Status
from tracker.logic.message_changes import AttentionChange

logger = logging.getLogger(__name__)

FAILED, PENDING = "failed", "pending"
_COUNT_ATTRIBUTES = {FAILED: MessageItem.attention_failed, PENDING: MessageItem.attention_pending}


# --- the listed entries: compact JSON, one per recipient ------------------------------------------


def entry_text(entry: Concern) -> str:
    data: dict[str, Any] = {"s": entry.status.value, "u": entry.customer_id, "e": entry.email}
    optional = {
        "n": entry.name,
        "t": micros(entry.since) // 1000 if entry.since else None,
        "c": entry.code,
        "r": entry.raw_reason,
    }
    data.update({k: v for k, v in optional.items() if v is not None})
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def entry_from_text(recipient_id: str, text: str) -> Concern:
    data = json.loads(text)
    return Concern(
        recipient_id=recipient_id,
        customer_id=str(data["u"]),
        email=str(data["e"]),
        name=data.get("n"),
        status=Status(data["s"]),
        since=from_micros(int(data["t"]) * 1000) if "t" in data else None,
        code=data.get("c"),
        raw_reason=data.get("r"),
    )


# --- a recipient image's attention ----------------------------------------------------------------


def _text(image: Mapping[str, Any], name: str) -> str | None:
    value = image.get(name)
    return str(value["S"]) if isinstance(value, Mapping) and "S" in value else None


def image_attention(
    image: Mapping[str, Any], facts: Mapping[str, Any], key: RecipientKey, changed_at: datetime
) -> dict[str, Any]:
    """The RecipientImage fields of attention (concern, since, entry, sent_at) of one image."""
    status = Status(_text(image, RecipientItem.status.attr_name) or Status.QUEUED.value)
    resolved = RecipientItem.resent_as.attr_name in image or RecipientItem.dismissed.attr_name in image
    sent_at = from_micros(int(facts["sa"])) if facts.get("sa") is not None else None
    out: dict[str, Any] = {"sent_at": sent_at}
    if not is_concern(status, resolved):
        return out
    failed = status in FAILED_STATUSES
    out["concern"] = FAILED if failed else PENDING
    listed = bool(image.get(RecipientItem.attention_listed.attr_name, {}).get("BOOL"))
    if failed or listed:
        who = Who(
            key.recipient_id,
            _text(image, RecipientItem.customer_id.attr_name) or "",
            _text(image, RecipientItem.email.attr_name) or "",
            _text(image, RecipientItem.name.attr_name),
        )
        entry = concern_of(
            who, status, lambda: facts_from_json(facts, frozenset(), DEFAULT_RULES), sent_at, changed_at
        )
        out["since"] = entry.since
        out["entry"] = entry if listed else None
    return out


# --- the count update's actions -----------------------------------------------------------------


def _entry_path(recipient_id: str) -> Path:
    return cast(Path, cast(Any, MessageItem.attention)[recipient_id])


def attention_actions(change: AttentionChange | None) -> list[Action]:
    if change is None:
        return []
    actions: list[Action] = [
        _COUNT_ATTRIBUTES[name].add(n)
        for name, n in sorted(change.concerned.items())
        if name in _COUNT_ATTRIBUTES
    ]
    for recipient_id, entry in sorted(change.entries.items()):
        path = _entry_path(recipient_id)
        actions.append(path.remove() if entry is None else path.set(entry_text(entry)))
    if change.failed_since is not None:
        since = MessageItem.attention_failed_since
        actions.append(since.set(since | keys.iso(change.failed_since)))
    if change.first_sent_at is not None:
        sent = MessageItem.first_sent_at
        actions.append(sent.set(sent | keys.iso(change.first_sent_at)))
    return actions


# --- the queue place, derived from the item -----------------------------------------------------


def _number(raw: Mapping[str, Any], name: str) -> int:
    value = raw.get(name, {}).get("N")
    return int(value) if value is not None else 0


def _time(raw: Mapping[str, Any], name: str) -> datetime | None:
    value = _text(raw, name)
    return keys.parse_iso(value) if value else None


def queue_place(raw: Mapping[str, Any], message: MessageKey, stuck_after: timedelta) -> dict[str, str | None]:
    """The attributes of the message's place in the attention queue (None: absent), from its item."""
    created = _time(raw, MessageItem.created_at.attr_name)
    failed = _number(raw, MessageItem.attention_failed.attr_name)
    facts = AttentionFacts(
        failed=failed,
        pending=_number(raw, MessageItem.attention_pending.attr_name),
        failed_since=_time(raw, MessageItem.attention_failed_since.attr_name),
        first_sent_at=_time(raw, MessageItem.first_sent_at.attr_name),
        created_at=created or datetime(1970, 1, 1, tzinfo=UTC),
    )
    due = attention_due(facts, stuck_after)
    place: dict[str, str | None] = {
        MessageItem.attention_failed_since.attr_name: _text(raw, MessageItem.attention_failed_since.attr_name)
        if failed > 0
        else None,
        MessageItem.attention_at.attr_name: None,
        MessageItem.attention_problem.attr_name: None,
        MessageItem.gsi4pk.attr_name: None,
        MessageItem.gsi4sk.attr_name: None,
    }
    if due is not None:
        problem, at = due
        kind = _text(raw, MessageItem.kind.attr_name) or "email"
        place.update(
            {
                MessageItem.attention_at.attr_name: keys.iso(at),
                MessageItem.attention_problem.attr_name: problem.value,
                MessageItem.gsi4pk.attr_name: keys.attention_pk(message.tenant_id, category(kind)),
                MessageItem.gsi4sk.attr_name: keys.attention_sk(at, message.message_id),
            }
        )
    return place


def settle_actions(raw: Mapping[str, Any], message: MessageKey, stuck_after: timedelta) -> list[Action]:
    """The writes that bring the item's queue place in line with its facts (none: it is)."""
    actions: list[Action] = []
    for name, wanted in queue_place(raw, message, stuck_after).items():
        if _text(raw, name) == wanted:
            continue
        attribute = getattr(MessageItem, name)
        actions.append(attribute.remove() if wanted is None else attribute.set(wanted))
    return actions
