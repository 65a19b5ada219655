"""The SES models read numbers and booleans written as strings exactly as they did as pydantic models
(tracker.models.ses.lax): pydantic's lax mode is the reference here, the only place it is used."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from tests import ses_builders as b
from tracker.domain.errors import InvalidEventError
from tracker.models.ses import parse_record_body
from tracker.models.ses.lax import lax_bool, lax_int

PYDANTIC_INT: TypeAdapter[int | None] = TypeAdapter(int | None)
PYDANTIC_BOOL: TypeAdapter[bool | None] = TypeAdapter(bool | None)

SPELLINGS = [
    "",
    " ",
    "+",
    "-",
    "_",
    ".",
    "0",
    "1",
    "5",
    "00",
    "e",
    "true",
    "yes",
    "On",
    "N",
    "f",
    "T",
    "x",
    "\u0665",
    "\x1c",
    "\t",
]
VALUES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.lists(st.sampled_from(SPELLINGS), max_size=4).map("".join)
    | st.text(max_size=6)
    | st.lists(st.integers(), max_size=1)
)


def pydantic_quirk(value: Any) -> bool:
    """Spellings pydantic-core reads by accident, which no SES record has: a sign after leading zeros
    (``"0-1"`` is -1) and runs of underscores within them (``"0__0"``)."""
    return isinstance(value, str) and ("__" in value or any(sign in value.strip()[1:] for sign in "+-"))


def pydantic_reads(adapter: TypeAdapter[Any], value: Any) -> tuple[str, Any]:
    try:
        return ("ok", adapter.validate_python(value))
    except ValidationError:
        return ("refused", None)


def lax_reads(read: Any, value: Any) -> tuple[str, Any]:
    try:
        return ("ok", read(value, "field"))
    except ValueError:
        return ("refused", None)


@settings(max_examples=1000, deadline=None)
@given(VALUES)
@example(" 5 ")
@example("\x1c5")
@example("\u20285\u00a0")
@example("1_000")
@example("5.00")
@example("1e3")
@example(1e20)
@example(True)
def test_integers_are_read_as_pydantic_read_them(value: Any) -> None:
    assume(not pydantic_quirk(value))
    found = lax_reads(lax_int, value)
    assert found == pydantic_reads(PYDANTIC_INT, value)
    assert found[1] is None or type(found[1]) is int


@settings(max_examples=1000, deadline=None)
@given(VALUES)
@example("YES")
@example(" true")
@example(1.0)
@example(2)
def test_booleans_are_read_as_pydantic_read_them(value: Any) -> None:
    assert lax_reads(lax_bool, value) == pydantic_reads(PYDANTIC_BOOL, value)


def test_a_number_written_as_a_string_identifies_the_event_as_the_number_does() -> None:
    as_number = b.delivery_event("ses-1", "a@example.com", processing_time_ms=546)
    as_text = b.delivery_event("ses-1", "a@example.com", processing_time_ms=546)
    as_text["delivery"]["processingTimeMillis"] = "546"
    [number] = parse_record_body(b.sns_body(as_number))
    [text] = parse_record_body(b.sns_body(as_text))
    assert (text.event_id, text.details) == (number.event_id, number.details)


@pytest.mark.parametrize(
    ("where", "field", "value", "path"),
    [
        ("delivery", "processingTimeMillis", 5.5, "delivery.processingTimeMillis"),
        ("mail", "headersTruncated", "maybe", "mail.headersTruncated"),
    ],
)
def test_a_refused_value_is_named_by_its_path(where: str, field: str, value: Any, path: str) -> None:
    event = b.delivery_event("ses-1", "a@example.com")
    event[where][field] = value
    with pytest.raises(InvalidEventError) as caught:
        parse_record_body(b.sns_body(event))
    assert caught.value.reason == "invalid_event"
    assert caught.value.detail.startswith(f"{path}: Input should be a valid"), caught.value.detail
