"""SES event parsing: the developer guide's examples, both record formats, SNS envelopes, errors, ids."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests import ses_builders as b
from tracker.constants import TAG_MESSAGE, TAG_RECIPIENT, TAG_TENANT
from tracker.domain.errors import InvalidEventError
from tracker.domain.events import EventKind, RecipientEvent
from tracker.domain.ids import normalize_email
from tracker.domain.timeline import SHORT_ID
from tracker.models.ses import (
    BounceEvent,
    BounceNotification,
    ClickEvent,
    ComplaintEvent,
    ComplaintNotification,
    DeliveryDelayEvent,
    DeliveryEvent,
    DeliveryNotification,
    EventRecord,
    OpenEvent,
    RejectEvent,
    RenderingFailureEvent,
    SendEvent,
    SesEvent,
    SubscriptionEvent,
    format_ses_timestamp,
    normalize_address,
    parse_notification_body,
    parse_ses_timestamp,
    to_recipient_events,
)
from tracker.models.ses.records import UNIONS, Format
from tracker.models.ses.timestamps import decode_hook

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ses"
GUIDE_MESSAGE_ID = "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000"
GUIDE_TAGS = {
    "ses:configuration-set": "ConfigSet",
    "ses:source-ip": "192.0.2.0",
    "ses:from-domain": "example.com",
    "ses:caller-identity": "ses_user",
}


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def parse(event: dict[str, Any], *, wrapped: bool = True, sns_message_id: str | None = None) -> SesEvent:
    body = b.sns_body(event, sns_message_id) if wrapped else json.dumps(event)
    return parse_notification_body(body)


def recipient_events(event: dict[str, Any], *, wrapped: bool = True) -> list[RecipientEvent]:
    return to_recipient_events(parse(event, wrapped=wrapped))


def only(event: dict[str, Any]) -> RecipientEvent:
    results = recipient_events(event)
    assert len(results) == 1
    return results[0]


def reason_of(body: str) -> InvalidEventError:
    with pytest.raises(InvalidEventError) as caught:
        parse_notification_body(body)
    return caught.value


# --- every guide example parses, bare and wrapped in SNS --------------------------

ALL_FIXTURES = {
    "bounce": (BounceEvent, EventKind.BOUNCE),
    "complaint": (ComplaintEvent, EventKind.COMPLAINT),
    "delivery": (DeliveryEvent, EventKind.DELIVERY),
    "send": (SendEvent, EventKind.SEND),
    "reject": (RejectEvent, EventKind.REJECT),
    "open": (OpenEvent, EventKind.OPEN),
    "click": (ClickEvent, EventKind.CLICK),
    "rendering_failure": (RenderingFailureEvent, EventKind.RENDERING_FAILURE),
    "delivery_delay": (DeliveryDelayEvent, EventKind.DELIVERY_DELAY),
    "subscription": (SubscriptionEvent, EventKind.SUBSCRIPTION),
    "notification_bounce": (BounceNotification, EventKind.BOUNCE),
    "notification_bounce_no_dsn": (BounceNotification, EventKind.BOUNCE),
    "notification_complaint": (ComplaintNotification, EventKind.COMPLAINT),
    "notification_complaint_no_feedback": (ComplaintNotification, EventKind.COMPLAINT),
    "notification_delivery": (DeliveryNotification, EventKind.DELIVERY),
}


def test_every_fixture_file_is_covered() -> None:
    assert {path.stem for path in FIXTURES.glob("*.json")} == set(ALL_FIXTURES)


@pytest.mark.parametrize("name", sorted(ALL_FIXTURES))
@pytest.mark.parametrize("wrapped", [True, False], ids=["sns", "bare"])
def test_fixture_parses_to_its_model_and_kind(name: str, wrapped: bool) -> None:
    model, kind = ALL_FIXTURES[name]
    fixture = load(name)

    event = parse(fixture, wrapped=wrapped)

    assert type(event) is model
    results = to_recipient_events(event)
    assert results
    for result in results:
        assert result.kind is kind
        assert result.ses_message_id == fixture["mail"]["messageId"]
        assert result.mail_sent_at == utc(fixture["mail"]["timestamp"])
        assert result.at.tzinfo is not None
        assert result.at.utcoffset() == timedelta(0)
        assert result.mail_sent_at.utcoffset() == timedelta(0)
        assert len(result.event_id) == SHORT_ID
        int(result.event_id, 16)
        json.dumps(dict(result.details))  # JSON-safe


@pytest.mark.parametrize("name", sorted(ALL_FIXTURES))
def test_wrapped_and_bare_records_normalize_identically(name: str) -> None:
    fixture = load(name)
    assert recipient_events(fixture, wrapped=True) == recipient_events(fixture, wrapped=False)


@pytest.mark.parametrize("name", sorted(ALL_FIXTURES))
def test_the_tagged_union_of_its_format_converts_each_fixture(name: str) -> None:
    model, _ = ALL_FIXTURES[name]
    fixture = load(name)
    fmt: Format = "event" if "eventType" in fixture else "notification"
    assert type(msgspec.convert(fixture, UNIONS[fmt], dec_hook=decode_hook)) is model


@pytest.mark.parametrize("name", sorted(ALL_FIXTURES))
def test_the_object_hashed_into_the_event_id_is_a_field_the_record_declares(name: str) -> None:
    event = parse(load(name))
    occurrence = event.occurrence()
    fields = {field.encode_name: field.name for field in msgspec.structs.fields(type(event))}
    assert getattr(event, fields[occurrence.key]) is occurrence.section


# --- field values from the guide's examples -------------------------------------


def test_bounce_example() -> None:
    result = only(load("bounce"))

    assert result.email == "recipient@example.com"
    assert result.at == datetime(2017, 8, 5, 0, 41, 2, 669000, tzinfo=UTC)
    assert result.mail_sent_at == datetime(2017, 8, 5, 0, 40, 2, 12000, tzinfo=UTC)
    assert result.ses_message_id == GUIDE_MESSAGE_ID
    assert result.tags == GUIDE_TAGS
    assert result.details == {
        "bounce_type": "Permanent",
        "bounce_subtype": "General",
        "diagnostic_code": "smtp; 550 5.1.1 user unknown",
        "status": "5.1.1",
        "action": "failed",
        "reporting_mta": "dsn; mta.example.com",
        "feedback_id": "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
    }


def test_bounce_model_keeps_mail_fields() -> None:
    event = parse(load("bounce"))
    assert isinstance(event, BounceEvent)
    assert event.mail.source == "Sender Name <sender@example.com>"
    assert event.mail.subject == "Message sent from Amazon SES"
    assert event.mail.tags is not None
    assert event.mail.tags["ses:configuration-set"] == ["ConfigSet"]
    assert event.bounce.bounced_recipients[0].diagnostic_code == "smtp; 550 5.1.1 user unknown"


def test_complaint_example() -> None:
    result = only(load("complaint"))

    assert result.email == "recipient@example.com"
    assert result.at == utc("2017-08-05T00:41:02.669Z")
    assert result.mail_sent_at == utc("2017-08-05T00:40:01.123Z")
    assert result.details == {
        "feedback_type": "abuse",
        "complaint_subtype": None,
        "user_agent": (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/60.0.3112.90 Safari/537.36"
        ),
        "feedback_id": "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
        "arrival_date": "2017-08-05T00:41:02.669Z",
    }


def test_delivery_example() -> None:
    result = only(load("delivery"))

    assert result.email == "recipient@example.com"
    assert result.at == utc("2016-10-19T23:21:04.133Z")
    assert result.mail_sent_at == utc("2016-10-19T23:20:52.240Z")
    assert result.details == {
        "smtp_response": "250 2.6.0 Message received",
        "processing_time_ms": 11893,
        "reporting_mta": "mta.example.com",
    }
    assert result.tags == {
        **GUIDE_TAGS,
        "ses:outgoing-ip": "192.0.2.0",
        "myCustomTag1": "myCustomTagValue1",
        "myCustomTag2": "myCustomTagValue2",
    }


def test_send_example_uses_the_mail_timestamp() -> None:
    result = only(load("send"))

    assert result.email == "recipient@example.com"
    assert result.at == utc("2016-10-14T05:02:16.645Z")
    assert result.at == result.mail_sent_at
    assert result.details == {}
    assert result.tags["myCustomTag1"] == "myCustomTagValue1"


def test_reject_example() -> None:
    result = only(load("reject"))

    # The guide's Reject example really has destination ["sender@example.com"] (To: recipient@...).
    assert result.email == "sender@example.com"
    assert result.at == utc("2016-10-14T17:38:15.211Z")
    assert result.details == {"reason": "Bad content"}


def test_open_example() -> None:
    result = only(load("open"))

    assert result.email == "recipient@example.com"
    assert result.at == utc("2017-08-09T22:00:19.652Z")
    assert result.mail_sent_at == utc("2017-08-09T21:59:49.927Z")
    assert result.details == {
        "ip_address": "192.0.2.1",
        "user_agent": (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 10_3_3 like Mac OS X) AppleWebKit/603.3.8 "
            "(KHTML, like Gecko) Mobile/14G60"
        ),
        "fetch_class": "mail_client",  # iOS Mail, who fetched it (docs/engagement.md)
    }


def test_click_example() -> None:
    result = only(load("click"))

    assert result.email == "recipient@example.com"
    assert result.at == utc("2017-08-09T23:51:25.570Z")
    assert (
        result.details["link"] == "http://docs.aws.amazon.com/ses/latest/DeveloperGuide/send-email-smtp.html"
    )
    assert result.details["link_tags"] == {"samplekey0": ["samplevalue0"], "samplekey1": ["samplevalue1"]}
    assert result.details["ip_address"] == "192.0.2.1"
    assert result.details["user_agent"].endswith("Chrome/60.0.3112.90 Safari/537.36")


def test_rendering_failure_example() -> None:
    result = only(load("rendering_failure"))

    assert result.email == "recipient@example.com"
    assert result.at == utc("2018-01-22T18:43:06.197Z")
    assert result.details == {
        "error_message": "Attribute 'attributeName' is not present in the rendering data.",
        "template_name": "MyTemplate",
    }
    assert result.tags == {"ses:configuration-set": "ConfigSet"}


def test_delivery_delay_example() -> None:
    result = only(load("delivery_delay"))

    assert result.email == "recipient@example.com"
    assert result.at == utc("2020-06-16T00:25:40.095Z")
    assert result.mail_sent_at == utc("2020-06-16T00:15:40.641Z")
    assert result.details == {
        "delay_type": "TransientCommunicationFailure",
        "status": "4.4.1",
        "diagnostic_code": "smtp; 421 4.4.1 Unable to connect to remote host",
        "expiration_time": "2020-06-16T00:25:40.914Z",
        "reporting_mta": None,
    }


def test_subscription_example() -> None:
    result = only(load("subscription"))

    assert result.email == "recipient@example.com"
    assert result.ses_message_id == "EXAMPLEe4bccb684-777bc8de-afa7-4970-92b0-f515137b1497-000000"
    assert result.at == utc("2022-01-12T01:00:17.910Z")
    assert result.details == {
        "contact_list": "ContactListName",
        "source": "UnsubscribeHeader",
        "new_topic_preferences": {
            "unsubscribe_all": True,
            "topic_subscription_status": [
                {"topic_name": "ExampleTopicName", "subscription_status": "OptOut"}
            ],
        },
        "old_topic_preferences": {
            "unsubscribe_all": False,
            "topic_subscription_status": [
                {"topic_name": "ExampleTopicName", "subscription_status": "OptOut"}
            ],
        },
    }
    assert result.tags["ses:operation"] == "SendEmail"


# --- the older identity-notification format ----------------------------------------


def test_notification_bounce_example() -> None:
    event = parse(load("notification_bounce"))
    assert isinstance(event, BounceNotification)
    assert event.bounce.remote_mta_ip == "127.0.2.0"
    assert event.mail.source_ip == "127.0.3.0"

    result = only(load("notification_bounce"))

    assert result.email == "jane@example.com"
    assert result.at == utc("2016-01-27T14:59:38.237Z")
    assert result.tags == {}
    assert result.details == {
        "bounce_type": "Permanent",
        "bounce_subtype": "General",
        "diagnostic_code": "smtp; 550 5.1.1 <jane@example.com>... User",
        "status": "5.1.1",
        "action": "failed",
        "reporting_mta": "dns; email.example.com",
        "feedback_id": "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa068a-000000",
    }


def test_notification_bounce_without_dsn_has_one_event_per_bounced_recipient() -> None:
    results = recipient_events(load("notification_bounce_no_dsn"))

    assert [result.email for result in results] == ["jane@example.com", "richard@example.com"]
    assert len({result.event_id for result in results}) == 2
    for result in results:
        assert result.details["diagnostic_code"] is None
        assert result.details["status"] is None
        assert result.details["action"] is None
        assert result.details["reporting_mta"] is None
        assert result.details["bounce_type"] == "Permanent"


def test_notification_complaint_examples() -> None:
    with_report = only(load("notification_complaint"))
    without_report = only(load("notification_complaint_no_feedback"))

    assert with_report.email == without_report.email == "richard@example.com"
    assert with_report.details == {
        "feedback_type": "abuse",
        "complaint_subtype": None,
        "user_agent": "AnyCompany Feedback Loop (V0.01)",
        "feedback_id": "000001378603177f-18c07c78-fa81-4a58-9dd1-fedc3cb8f49a-000000",
        "arrival_date": "2016-01-27T14:59:38.237Z",
    }
    assert without_report.details["feedback_type"] is None
    assert without_report.details["user_agent"] is None
    assert without_report.tags == {}


def test_notification_delivery_example() -> None:
    result = only(load("notification_delivery"))

    assert result.kind is EventKind.DELIVERY
    assert result.email == "jane@example.com"
    assert result.at == utc("2016-01-27T14:59:38.237Z")
    assert result.details == {
        "smtp_response": "250 ok:  Message 64111812 accepted",
        "processing_time_ms": 546,
        "reporting_mta": "a8-70.smtp-out.amazonses.com",
    }


@pytest.mark.parametrize(
    ("new_format", "old_format"),
    [
        (b.bounce_event, b.notification_bounce),
        (b.complaint_event, b.notification_complaint),
        (b.delivery_event, b.notification_delivery),
    ],
)
def test_both_formats_produce_the_same_kind_and_details(new_format: Any, old_format: Any) -> None:
    at = b.DEFAULT_SENT_AT + timedelta(seconds=7)
    kwargs: dict[str, Any] = {"at": at}
    if new_format is b.delivery_event:
        kwargs["processing_time_ms"] = 546
        kwargs["smtp_response"] = "250 ok"
    new = only(new_format("ses-1", "a@example.com", **kwargs))
    old = only(old_format("ses-1", "a@example.com", **kwargs))

    assert (new.kind, new.email, new.at, new.mail_sent_at, new.ses_message_id) == (
        old.kind,
        old.email,
        old.at,
        old.mail_sent_at,
        old.ses_message_id,
    )
    assert new.details == old.details


# --- recipients and addresses ---------------------------------------------------


def test_multi_recipient_bounce_gives_one_event_per_bounced_address() -> None:
    event = b.bounce_event(
        "ses-multi",
        ["a@example.com", "b@example.com", "c@example.com"],
        bounced=["a@example.com", "c@example.com"],
    )

    results = recipient_events(event)

    assert [result.email for result in results] == ["a@example.com", "c@example.com"]
    assert len({result.event_id for result in results}) == 2
    assert all(result.details["diagnostic_code"] == "smtp; 550 5.1.1 user unknown" for result in results)


def test_engagement_events_fan_out_over_the_destination() -> None:
    results = recipient_events(b.open_event("ses-2", ["a@example.com", "b@example.com"]))
    assert [result.email for result in results] == ["a@example.com", "b@example.com"]
    assert results[0].event_id != results[1].event_id


def test_named_destination_addresses_are_reduced_to_the_address() -> None:
    event = b.open_event("ses-3", ['"Jane Doe" <Jane.Doe@Example.COM>', "  Bob <BOB@example.com> "])
    assert [result.email for result in recipient_events(event)] == ["jane.doe@example.com", "bob@example.com"]


def test_recipient_addresses_are_lowercased_and_stripped() -> None:
    event = b.bounce_event("ses-4", "x@example.com", bounced=["  Someone@Example.COM "])
    assert only(event).email == "someone@example.com"


def test_a_repeated_address_gives_a_single_event() -> None:
    event = b.delivery_event("ses-5", ["a@example.com", "A@example.com"])
    assert [result.email for result in recipient_events(event)] == ["a@example.com"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("user@example.com", "user@example.com"),
        ("USER@Example.com ", "user@example.com"),
        ("Name <user@example.com>", "user@example.com"),
        ('"Last, First" <First.Last@example.com>', "first.last@example.com"),
    ],
)
def test_normalize_address(raw: str, expected: str) -> None:
    assert normalize_address(raw) == expected


# Pieces of addresses as SES may list them: atoms, dots, "@", and what display names, quoting and
# comments are made of.
ADDRESS_PARTS = ["a", "Xy", "0", "_%+-", ".", "@", "@", "(", ")", "<", ">", '"', " ", ",", ";", ":", "[", "]"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(ADDRESS_PARTS), max_size=12).map("".join))
@example("a(comment)@b.c")
@example("Name <a@b.c>")
@example("a@b@c")
def test_normalize_address_gives_what_parseaddr_and_the_normaliser_give(raw: str) -> None:
    """The plain-address shortcut changes nothing: the full path is ``parseaddr`` then the normaliser."""
    _, parsed = parseaddr(raw)
    assert normalize_address(raw) == normalize_email(parsed or raw)


# --- tags ---------------------------------------------------------------------------


def test_our_correlation_tags_come_through_as_single_values() -> None:
    tags = b.tags_for("tenant-1", "msg-1", "rcp-1")
    result = only(b.delivery_event("ses-6", "a@example.com", tags=tags))

    assert result.tags[TAG_TENANT] == "tenant-1"
    assert result.tags[TAG_MESSAGE] == "msg-1"
    assert result.tags[TAG_RECIPIENT] == "rcp-1"
    assert result.tags["ses:configuration-set"] == "delivery-tracker"


def test_absent_tags_give_an_empty_mapping() -> None:
    event = b.send_event("ses-7", "a@example.com")
    del event["mail"]["tags"]
    assert only(event).tags == {}


# --- event ids ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ALL_FIXTURES))
def test_event_id_is_stable_across_sns_rewrapping(name: str) -> None:
    fixture = load(name)
    first = to_recipient_events(parse(fixture, sns_message_id="11111111-1111-1111-1111-111111111111"))
    second = to_recipient_events(parse(fixture, sns_message_id="22222222-2222-2222-2222-222222222222"))
    assert [result.event_id for result in first] == [result.event_id for result in second]


def test_event_id_ignores_json_formatting_and_key_order() -> None:
    fixture = load("open")
    reordered = json.loads(json.dumps(fixture, sort_keys=True))
    compact = json.dumps(reordered, separators=(",", ":"))
    assert only(fixture).event_id == to_recipient_events(parse_notification_body(compact))[0].event_id


def test_event_id_matches_the_documented_recipe() -> None:
    fixture = load("open")
    canonical = json.dumps(
        {
            "kind": "open",
            "ses_message_id": GUIDE_MESSAGE_ID,
            "recipient": "recipient@example.com",
            "event": fixture["open"],
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    assert only(fixture).event_id == hashlib.sha256(canonical.encode()).hexdigest()[:SHORT_ID]


def test_distinct_opens_get_distinct_ids() -> None:
    at = b.DEFAULT_SENT_AT + timedelta(minutes=5)
    base = only(b.open_event("ses-8", "a@example.com", at=at)).event_id
    later = only(b.open_event("ses-8", "a@example.com", at=at + timedelta(milliseconds=1))).event_id
    other_ip = only(b.open_event("ses-8", "a@example.com", at=at, ip="198.51.100.7")).event_id
    other_agent = only(b.open_event("ses-8", "a@example.com", at=at, user_agent="Thunderbird")).event_id
    same = only(b.open_event("ses-8", "a@example.com", at=at)).event_id

    assert len({base, later, other_ip, other_agent}) == 4
    assert same == base


def test_ids_differ_between_kinds_messages_and_send_times() -> None:
    at = b.DEFAULT_SENT_AT + timedelta(seconds=30)
    ids = {
        only(b.delivery_event("ses-9", "a@example.com", at=at)).event_id,
        only(b.open_event("ses-9", "a@example.com", at=at)).event_id,
        only(b.open_event("ses-10", "a@example.com", at=at)).event_id,
        only(b.send_event("ses-9", "a@example.com")).event_id,
        only(b.send_event("ses-9", "a@example.com", sent_at=at)).event_id,
        only(b.reject_event("ses-9", "a@example.com")).event_id,
        only(b.rendering_failure_event("ses-9", "a@example.com")).event_id,
    }
    assert len(ids) == 7


def test_send_id_does_not_depend_on_tags_or_headers() -> None:
    plain = only(b.send_event("ses-11", "a@example.com")).event_id
    tagged = only(b.send_event("ses-11", "a@example.com", tags={"extra": "x"})).event_id
    assert plain == tagged


# --- errors -------------------------------------------------------------------------


def test_unknown_event_type() -> None:
    event = b.send_event("ses-12", "a@example.com")
    event["eventType"] = "Unsubscribe"
    error = reason_of(b.sns_body(event))
    assert error.reason == "unknown_event_type"
    assert "Unsubscribe" in error.detail


def test_unknown_notification_type() -> None:
    record = {"notificationType": "Received", "mail": load("notification_delivery")["mail"], "receipt": {}}
    error = reason_of(json.dumps(record))
    assert error.reason == "unknown_event_type"
    assert "Received" in error.detail


def test_notification_type_only_knows_the_three_feedback_types() -> None:
    record = load("open")
    del record["eventType"]
    record["notificationType"] = "Open"
    assert reason_of(json.dumps(record)).reason == "unknown_event_type"


def test_non_string_event_type_is_unknown() -> None:
    record = load("send")
    record["eventType"] = 7
    error = reason_of(json.dumps(record))
    assert error.reason == "unknown_event_type"
    assert "7" in error.detail


@pytest.mark.parametrize("body", ["", "not json", "{", '{"Type": "Notification",', "\x00"])
def test_malformed_json(body: str) -> None:
    assert reason_of(body).reason == "malformed_json"


def test_sns_message_that_is_not_json() -> None:
    envelope = b.sns_wrap(load("send"))
    envelope["Message"] = "Hello from the console"
    error = reason_of(json.dumps(envelope))
    assert error.reason == "malformed_json"
    assert "SNS Message" in error.detail


def test_sns_subscription_confirmation() -> None:
    confirmation = {
        "Type": "SubscriptionConfirmation",
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": "2336412f37",
        "TopicArn": b.TOPIC_ARN,
        "Message": "You have chosen to subscribe to the topic ...",
        "SubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription",
        "Timestamp": "2012-04-26T20:45:04.751Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLE",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem",
    }
    error = reason_of(json.dumps(confirmation))
    assert error.reason == "not_a_notification"
    assert "SubscriptionConfirmation" in error.detail


@pytest.mark.parametrize(
    "document",
    [[1, 2], "a string", 42, None, {"hello": "world"}, {"mail": {}}],
    ids=["array", "string", "number", "null", "object", "mail-only"],
)
def test_json_that_is_neither_sns_nor_ses(document: Any) -> None:
    assert reason_of(json.dumps(document)).reason == "not_a_notification"


def test_sns_message_that_is_json_but_not_an_ses_record() -> None:
    envelope = b.sns_wrap({"hello": "world"})
    assert reason_of(json.dumps(envelope)).reason == "not_a_notification"
    envelope["Message"] = "[1, 2, 3]"
    assert reason_of(json.dumps(envelope)).reason == "not_a_notification"


def test_sns_notification_without_message() -> None:
    envelope = b.sns_wrap(load("send"))
    del envelope["Message"]
    error = reason_of(json.dumps(envelope))
    assert error.reason == "invalid_event"
    assert "Message" in error.detail


def _without(record: dict[str, Any], path: str) -> dict[str, Any]:
    *parents, leaf = path.split(".")
    node: Any = record
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    del node[leaf]
    return record


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("bounce", "mail.messageId"),
        ("bounce", "mail.timestamp"),
        ("bounce", "mail.destination"),
        ("bounce", "bounce"),
        ("bounce", "bounce.bounceType"),
        ("bounce", "bounce.bounceSubType"),
        ("bounce", "bounce.bouncedRecipients"),
        ("bounce", "bounce.bouncedRecipients.0.emailAddress"),
        ("bounce", "bounce.timestamp"),
        ("complaint", "complaint.complainedRecipients"),
        ("complaint", "complaint.timestamp"),
        ("delivery", "delivery.recipients"),
        ("delivery", "delivery.timestamp"),
        ("open", "open"),
        ("open", "open.timestamp"),
        ("click", "click.link"),
        ("click", "click.timestamp"),
        ("delivery_delay", "deliveryDelay.delayedRecipients"),
        ("delivery_delay", "deliveryDelay.timestamp"),
        ("subscription", "subscription.timestamp"),
        ("reject", "reject"),
        ("rendering_failure", "failure"),
        ("notification_bounce", "bounce.bouncedRecipients"),
        ("notification_delivery", "delivery.timestamp"),
        ("notification_complaint", "mail.messageId"),
    ],
)
def test_missing_required_field_is_an_invalid_event(name: str, path: str) -> None:
    record = _without(load(name), path)
    error = reason_of(b.sns_body(record))
    assert error.reason == "invalid_event"
    assert error.detail.startswith(path + ":"), error.detail


def test_unparseable_timestamp_is_an_invalid_event() -> None:
    record = load("open")
    record["open"]["timestamp"] = "yesterday"
    error = reason_of(json.dumps(record))
    assert error.reason == "invalid_event"
    assert error.detail.startswith("open.timestamp:")


def test_wrong_types_are_invalid_events() -> None:
    record = load("bounce")
    record["bounce"]["bouncedRecipients"] = "recipient@example.com"
    assert reason_of(json.dumps(record)).reason == "invalid_event"
    record = load("delivery")
    record["mail"]["tags"] = {"ses:configuration-set": "ConfigSet"}
    error = reason_of(json.dumps(record))
    assert error.reason == "invalid_event"
    assert error.detail.startswith("mail.tags.ses:configuration-set")


# --- tolerance ----------------------------------------------------------------------


def test_unknown_fields_are_kept() -> None:
    record = load("open")
    record["newTopLevel"] = {"x": 1}
    record["mail"]["brandNewField"] = "value"
    record["open"]["deviceClass"] = "phone"

    event = parse(record)

    assert isinstance(event, OpenEvent)
    assert event.document["newTopLevel"] == {"x": 1}
    assert event.document["mail"]["brandNewField"] == "value"
    # The type-specific object's unknown fields are part of what identifies the event.
    assert to_recipient_events(event)[0].event_id != only(load("open")).event_id
    assert only(record).event_id == only(record).event_id


def test_optional_send_object_and_headers_may_be_absent() -> None:
    record = {
        "eventType": "Send",
        "mail": {
            "timestamp": "2024-01-01T00:00:00.000Z",
            "messageId": "m-1",
            "destination": ["a@example.com"],
        },
    }
    result = only(record)
    assert result.kind is EventKind.SEND
    assert result.at == datetime(2024, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2017-08-05T00:41:02.669Z", datetime(2017, 8, 5, 0, 41, 2, 669000, tzinfo=UTC)),
        ("2017-08-05T02:41:02.669+02:00", datetime(2017, 8, 5, 0, 41, 2, 669000, tzinfo=UTC)),
        ("2009-12-03T04:24:21.000-05:00", datetime(2009, 12, 3, 9, 24, 21, tzinfo=UTC)),
        ("2018-10-08T14:05:45 +0000", datetime(2018, 10, 8, 14, 5, 45, tzinfo=UTC)),
        ("2018-10-08T14:05:45", datetime(2018, 10, 8, 14, 5, 45, tzinfo=UTC)),
    ],
)
def test_timestamps_become_aware_utc(text: str, expected: datetime) -> None:
    parsed = parse_ses_timestamp(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


def test_non_utc_event_timestamp_is_converted() -> None:
    record = load("click")
    record["click"]["timestamp"] = "2017-08-10T01:51:25.570+02:00"
    assert only(record).at == utc("2017-08-09T23:51:25.570Z")


def test_format_ses_timestamp_round_trips() -> None:
    assert format_ses_timestamp(utc("2017-08-05T00:41:02.669Z")) == "2017-08-05T00:41:02.669Z"
    assert parse_ses_timestamp(format_ses_timestamp(b.DEFAULT_SENT_AT)) == b.DEFAULT_SENT_AT


def test_suppression_list_bounce_keeps_its_subtype() -> None:
    event = b.bounce_event(
        "ses-13",
        "a@example.com",
        bounce_subtype="OnAccountSuppressionList",
        diagnostic_code="Amazon SES did not send the message to this address because it is on the "
        "suppression list for your account.",
        status=None,
        action=None,
        reporting_mta=None,
    )
    details = only(event).details
    assert details["bounce_subtype"] == "OnAccountSuppressionList"
    assert details["status"] is None


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    ["Type", "Message", "MessageId", "eventType", "notificationType", "mail", "bounce"]
                )
                | st.text(max_size=5),
                children,
                max_size=4,
            )
        ),
        max_leaves=12,
    )
)
def test_arbitrary_json_never_escapes_as_anything_but_invalid_event(document: Any) -> None:
    wrapped = b.sns_wrap(document) if isinstance(document, dict) else document
    for body in (json.dumps(document), json.dumps(wrapped)):
        assert outcome(body) in {
            "ok",
            "malformed_json",
            "not_a_notification",
            "unknown_event_type",
            "invalid_event",
        }


def outcome(body: str) -> str:
    """``"ok"`` or the reason of the InvalidEventError; any other exception propagates."""
    try:
        to_recipient_events(parse_notification_body(body))
    except InvalidEventError as error:
        return error.reason
    return "ok"


# --- builders -----------------------------------------------------------------------

BUILDERS: dict[str, tuple[Callable[..., dict[str, Any]], type[EventRecord]]] = {
    "send": (b.send_event, SendEvent),
    "delivery": (b.delivery_event, DeliveryEvent),
    "open": (b.open_event, OpenEvent),
    "click": (b.click_event, ClickEvent),
    "bounce": (b.bounce_event, BounceEvent),
    "complaint": (b.complaint_event, ComplaintEvent),
    "reject": (b.reject_event, RejectEvent),
    "rendering_failure": (b.rendering_failure_event, RenderingFailureEvent),
    "delivery_delay": (b.delivery_delay_event, DeliveryDelayEvent),
    "subscription": (b.subscription_event, SubscriptionEvent),
    "notification_bounce": (b.notification_bounce, BounceNotification),
    "notification_complaint": (b.notification_complaint, ComplaintNotification),
    "notification_delivery": (b.notification_delivery, DeliveryNotification),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_builders_have_the_shape_of_the_guide_examples(name: str) -> None:
    builder, model = BUILDERS[name]
    built = builder("ses-14", "a@example.com")
    fixture = load(name)

    assert set(built) == set(fixture)
    assert set(built["mail"]) <= set(fixture["mail"]) | {"headers", "commonHeaders", "sourceArn"}
    type_key = next(key for key in fixture if key not in {"eventType", "notificationType", "mail"})
    assert set(built[type_key]) <= set(fixture[type_key]) | {
        "complaintSubType",
        "reportingMTA",
        "remoteMtaIp",
        "linkTags",
    }
    event = parse(built)
    assert type(event) is model
    result = only(built)
    assert result.email == "a@example.com"
    assert result.ses_message_id == "ses-14"
    assert result.mail_sent_at == b.DEFAULT_SENT_AT


def test_builder_timestamps_are_written_like_ses() -> None:
    built = b.open_event("ses-15", "a@example.com", at=datetime(2024, 5, 1, 12, 1, 2, 345678, tzinfo=UTC))
    assert built["mail"]["timestamp"] == "2024-05-01T12:00:00.123Z"
    assert built["open"]["timestamp"] == "2024-05-01T12:01:02.345Z"


def test_sns_wrap_shape() -> None:
    event = b.send_event("ses-16", "a@example.com")
    envelope = b.sns_wrap(event, "sns-id-1")

    assert envelope["Type"] == "Notification"
    assert envelope["MessageId"] == "sns-id-1"
    assert envelope["TopicArn"] == b.TOPIC_ARN
    assert json.loads(envelope["Message"]) == event
    assert {"Timestamp", "SignatureVersion", "Signature", "SigningCertURL", "UnsubscribeURL"} <= set(envelope)


def test_sqs_event_shape_matches_what_lambda_sends() -> None:
    body = b.sns_body(b.delivery_event("ses-17", "a@example.com"))
    record = b.sqs_record(body, "sqs-id-1", receive_count=3)
    lambda_event = b.sqs_event([record])

    assert lambda_event == {"Records": [record]}
    assert record["messageId"] == "sqs-id-1"
    assert record["body"] == body
    assert record["attributes"]["ApproximateReceiveCount"] == "3"
    assert record["attributes"]["SentTimestamp"].isdigit()
    assert record["md5OfBody"] == hashlib.md5(body.encode(), usedforsecurity=False).hexdigest()
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == b.QUEUE_ARN
    assert record["awsRegion"] == "us-east-1"
    assert record["messageAttributes"] == {}
    assert record["receiptHandle"]
    assert only_kind(record["body"]) is EventKind.DELIVERY


def only_kind(body: str) -> EventKind:
    (result,) = to_recipient_events(parse_notification_body(body))
    return result.kind
