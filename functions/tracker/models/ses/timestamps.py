"""SES timestamps: ISO 8601 in, aware UTC datetimes inside, SES's own spelling out."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from tracker.models.ses.limits import check_event_time, out_of_range

# The guide's own mail-object example (notification contents) writes "2018-10-08T14:05:45 +0000".
_SPACED_OFFSET = re.compile(r"^(?P<stamp>.*\d)\s+(?P<offset>[+-]\d{2}:?\d{2})$")


def parse_ses_timestamp(value: object) -> datetime:
    """Parse an SES ISO 8601 timestamp (``2017-08-05T00:41:02.669Z``) into an aware UTC datetime.

    A timestamp without an offset is taken as UTC: the guide documents every SES timestamp as UTC.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            match = _SPACED_OFFSET.match(text)
            if match is None:
                raise ValueError(f"not an ISO 8601 timestamp: {value!r}") from None
            try:
                parsed = datetime.fromisoformat(match["stamp"] + match["offset"])
            except ValueError:
                raise ValueError(f"not an ISO 8601 timestamp: {value!r}") from None
    else:
        raise ValueError("expected an ISO 8601 timestamp string")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:30-01:00 is valid ISO 8601, its UTC instant is past year 9999
        raise out_of_range(parsed.isoformat()) from None


def format_ses_timestamp(value: datetime) -> str:
    """Format like SES does: UTC, millisecond precision, ``Z`` suffix (``2017-08-05T00:41:02.669Z``)."""
    utc = parse_ses_timestamp(value)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


class UtcDatetime(datetime):
    """The type of an SES time field: msgspec hands its value to :func:`decode_hook`, which parses
    it like SES writes it and checks its range (msgspec's own datetime parsing is stricter than
    the guide's examples). A plain :class:`datetime` otherwise."""

    __slots__ = ()


def decode_hook(kind: type, value: Any) -> Any:
    """``dec_hook`` of the SES models: their only type msgspec does not know is :class:`UtcDatetime`.
    A ValueError becomes a :class:`msgspec.ValidationError` at the field's path."""
    if kind is UtcDatetime:
        parsed = check_event_time(parse_ses_timestamp(value))
        return UtcDatetime.combine(parsed.date(), parsed.timetz())
    raise NotImplementedError(kind)


def plain_datetime(value: datetime) -> datetime:
    """``value`` as a :class:`datetime` itself, so the parser's type stays inside the boundary."""
    return datetime.combine(value.date(), value.timetz())
