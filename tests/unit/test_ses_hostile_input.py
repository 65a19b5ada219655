"""SES records no SES would send, which the parser must refuse with a reason (the ingest path then
quarantines them) rather than raise something else: times whose offset crosses the calendar's
ends, text that is not Unicode, objects nested past what can be serialized."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests import ses_builders as b
from tracker.domain.errors import InvalidEventError
from tracker.models.ses import parse_record_body
from tracker.models.ses.limits import OUT_OF_RANGE


def refusal(body: str) -> InvalidEventError:
    with pytest.raises(InvalidEventError) as caught:
        parse_record_body(body)
    return caught.value


def an_open() -> dict[str, Any]:
    return b.open_event("ses-1", "person0@example.com", tags=b.tags_for("tenant-a", "msg-1", "r0"))


# --- times at the calendar's ends ---------------------------------------------------------------


@pytest.mark.parametrize(
    "stamp",
    [
        "9999-12-31T23:30:00.000-01:00",  # a valid ISO time whose UTC instant is past year 9999
        "0001-01-01T00:30:00.000+01:00",  # ... and before year 1
    ],
)
@pytest.mark.parametrize("where", ["open", "mail"])
def test_an_offset_that_crosses_the_calendars_end_is_out_of_range(stamp: str, where: str) -> None:
    event = an_open()
    event[where]["timestamp"] = stamp
    error = refusal(b.sns_body(event))
    assert error.reason == "time_out_of_range"
    assert error.detail.startswith(f"{where}.timestamp:"), error.detail


def test_a_timestamp_that_only_quotes_the_out_of_range_wording_is_an_invalid_event() -> None:
    # The reason comes from the kind of error, not from its text, which can carry the input.
    event = an_open()
    event["open"]["timestamp"] = f"soon {OUT_OF_RANGE}"
    error = refusal(b.sns_body(event))
    assert error.reason == "invalid_event"
    assert error.detail.startswith("open.timestamp:"), error.detail


# --- text that is not Unicode ------------------------------------------------------------------


def with_text(event: dict[str, Any], path: tuple[str | int, ...], text: str) -> str:
    """The SNS body of ``event`` with ``text`` at ``path``. The builders write JSON as ASCII, with
    escapes: a lone surrogate can be put on the wire no other way."""
    node: Any = event
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = text
    return b.sns_body(event)


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        (("mail", "messageId"), "mail.messageId"),
        (("mail", "destination", 0), "mail.destination.0"),
        (("mail", "tags", "tracker_recipient", 0), "mail.tags.tracker_recipient.0"),
        (("open", "userAgent"), "open.userAgent"),
        (("open", "deviceClass"), "open.deviceClass"),  # a field we do not read: still not text
    ],
)
@pytest.mark.parametrize(
    "surrogate", [chr(0xD800), chr(0xDFFF), "ok" + chr(0xDBFF)], ids=["high", "low", "after text"]
)
def test_a_lone_surrogate_anywhere_is_refused_with_where_it_is(
    path: tuple[str | int, ...], shown: str, surrogate: str
) -> None:
    body = with_text(an_open(), path, surrogate)
    assert surrogate not in body  # escaped: what SQS can carry
    error = refusal(body)
    assert error.reason == "invalid_unicode"
    assert error.detail.startswith(f"{shown}:"), error.detail


def test_a_lone_surrogate_in_a_key_is_named_with_an_escape_so_the_detail_can_be_stored() -> None:
    event = an_open()
    event["open"]["x" + chr(0xD800)] = "value"
    error = refusal(b.sns_body(event))
    assert error.reason == "invalid_unicode"
    assert error.detail.startswith("open.x\\ud800:"), error.detail
    error.detail.encode("utf-8")  # text DynamoDB takes


def test_a_lone_surrogate_in_the_sns_envelope_is_refused_too() -> None:
    envelope = b.sns_wrap(an_open())
    envelope["Signature"] = chr(0xD800)
    error = refusal(json.dumps(envelope))
    assert error.reason == "invalid_unicode"
    assert error.detail.startswith("SNS Signature:"), error.detail


def test_an_escaped_surrogate_pair_is_text_and_applies() -> None:
    body = with_text(an_open(), ("open", "userAgent"), "Mail 😀")
    assert "\\\\ud83d\\\\ude00" in body  # written as the two escapes (inside the SNS Message)
    [event] = parse_record_body(body)
    assert event.details["user_agent"] == "Mail 😀"


# --- nesting ----------------------------------------------------------------------------------


def nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


def test_a_type_specific_object_nested_past_serialization_is_an_invalid_event() -> None:
    event = an_open()
    event["open"]["extra"] = nested(300)  # JSON reads it; its event id cannot be computed
    error = refusal(b.sns_body(event))
    assert error.reason == "invalid_event"
    assert error.detail.startswith("open: cannot be serialized"), error.detail
    assert "depth" in error.detail


@pytest.mark.parametrize("preferences", ["newTopicPreferences", "oldTopicPreferences"])
def test_topic_preferences_nested_past_serialization_are_an_invalid_event(preferences: str) -> None:
    event = b.subscription_event("ses-1", "a@example.com")
    event["subscription"][preferences]["extra"] = nested(300)  # kept on the event, as published
    error = refusal(b.sns_body(event))
    assert error.reason == "invalid_event"
    assert "depth" in error.detail


def test_nesting_past_what_json_reads_is_malformed_json() -> None:
    body = b.sns_body(an_open()).replace('"Type"', '"deep": ' + "[" * 5000 + "]" * 5000 + ', "Type"', 1)
    assert refusal(body).reason == "malformed_json"


def test_nesting_a_few_levels_deep_in_a_field_we_keep_unread_still_applies() -> None:
    event = an_open()
    event["open"]["extra"] = nested(20)
    [applied] = parse_record_body(b.sns_body(event))
    assert applied.ses_message_id == "ses-1"
