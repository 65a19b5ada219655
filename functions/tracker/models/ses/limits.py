"""What an SES event may carry into our records, and how much of it.

SES bounds its own fields loosely (a remote server's diagnostic can be any length), and an event
we store is kept on the recipient's item, which DynamoDB caps at 400 KB. So every text an event
brings is cut to a documented length, with a marker saying how much was cut; the full original is
kept nowhere (the SQS message is gone once applied). Times outside the span SES can report are
refused: the event is quarantined, never stored. Limits: docs/data-model.md, "Field limits".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

# SES started in 2011; no event can be older. Nothing is from after 2100 either, and both bounds
# leave room for any retention period on top (expiry times stay valid datetimes).
EARLIEST_EVENT_TIME = datetime(2011, 1, 1, tzinfo=UTC)
LATEST_EVENT_TIME = datetime(2100, 1, 1, tzinfo=UTC)

# Per detail field (characters). What a person reads in full stays in full: SMTP diagnostics are
# a line or two, user agents a few hundred characters, links are bounded by the ones we send.
FIELD_LIMITS: Mapping[str, int] = {
    "diagnostic_code": 1000,
    "smtp_response": 1000,
    "error_message": 1000,
    "user_agent": 512,
    "link": 2048,
    "status": 32,
    "action": 32,
    "bounce_type": 32,
    "bounce_subtype": 64,
    "delay_type": 64,
    "feedback_type": 64,
    "complaint_subtype": 64,
    "ip_address": 64,
    "reason": 256,
    "reporting_mta": 256,
    "feedback_id": 256,
    "arrival_date": 64,
    "expiration_time": 32,
    "template_name": 256,
    "contact_list": 256,
    "source": 256,
}
DEFAULT_FIELD_LIMIT = 256
# Nested values (link tags, topic preferences): at most this many entries, this deep.
MAX_ENTRIES = 20
MAX_DEPTH = 3
# SES sends one message to at most 50 destinations; its message ids are about 60 characters.
MAX_RECIPIENTS_PER_EVENT = 50
MAX_SES_MESSAGE_ID = 256
MAX_ADDRESS = 320
MAX_TAGS = 60
MAX_TAG_TEXT = 256


def truncated(text: str, limit: int) -> str:
    """``text`` if it fits, else its start and a marker saying how much was cut (within ``limit``)."""
    if len(text) <= limit:
        return text
    marker = f"…[truncated {len(text) - limit:,} characters]"
    keep = max(0, limit - len(marker))
    return text[:keep] + f"…[truncated {len(text) - keep:,} characters]"


def bounded(value: Any, limit: int = DEFAULT_FIELD_LIMIT, depth: int = 0) -> Any:
    """A JSON-safe value with every string cut to ``limit`` and every container to MAX_ENTRIES."""
    if isinstance(value, str):
        return truncated(value, limit)
    if isinstance(value, Mapping):
        if depth >= MAX_DEPTH:
            return None
        items = list(value.items())[:MAX_ENTRIES]
        return {
            truncated(str(key), DEFAULT_FIELD_LIMIT): bounded(item, limit, depth + 1) for key, item in items
        }
    if isinstance(value, list | tuple):
        if depth >= MAX_DEPTH:
            return None
        return [bounded(item, limit, depth + 1) for item in list(value)[:MAX_ENTRIES]]
    return value


def bounded_details(details: Mapping[str, Any]) -> dict[str, Any]:
    return {key: bounded(value, FIELD_LIMITS.get(key, DEFAULT_FIELD_LIMIT)) for key, value in details.items()}


OUT_OF_RANGE = "is outside the times SES can report"


class EventTimeOutOfRangeError(ValueError):
    """A time no SES event can carry. The parser gives it its own reason by this type (msgspec
    keeps it as the cause of its error): the message quotes the input, so its text cannot tell."""


def out_of_range(value: str) -> EventTimeOutOfRangeError:
    earliest, latest = EARLIEST_EVENT_TIME.date().isoformat(), LATEST_EVENT_TIME.date().isoformat()
    return EventTimeOutOfRangeError(f"{value} {OUT_OF_RANGE} ({earliest} to {latest})")


def check_event_time(value: datetime) -> datetime:
    if not EARLIEST_EVENT_TIME <= value < LATEST_EVENT_TIME:
        raise out_of_range(value.isoformat())
    return value
