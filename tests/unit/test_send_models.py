"""Send path pieces without AWS: ids, request normalization, job bodies and SES error classification."""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pydantic import ValidationError

from tracker.api.body import MAX_REQUEST_BYTES
from tracker.dal.jobs import InvalidJobError, SendJobBody
from tracker.dal.outbound import SesMailer, classify_client_error
from tracker.domain.errors import (
    RecipientRejectedError,
    SendingBlockedError,
    SendThrottledError,
    SendUnavailableError,
)
from tracker.domain.ids import new_message_id, recipient_id
from tracker.domain.messages import MAX_JOB_RECIPIENTS, MessageContent, OutgoingMail, SendJob
from tracker.domain.text import has_control_characters
from tracker.domain.tracking import Tracking
from tracker.logic.creation import first_duplicate
from tracker.models.send import (
    MAX_BODY_BYTES,
    MAX_NAME_CHARS,
    MAX_RECIPIENTS,
    MAX_SUBJECT_CHARS,
    NO_CONTROL_CHARACTERS,
    ONE_LINE_NOT_BLANK,
    SendMessageRequest,
)

TAG_SAFE = re.compile(r"^[A-Za-z0-9_-]+$")


def test_message_ids_are_time_sortable_and_tag_safe() -> None:
    at = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    earlier, later = new_message_id(at), new_message_id(at + timedelta(milliseconds=1))
    assert earlier < later
    assert new_message_id(at) != earlier, "random part"
    assert re.fullmatch(r"m\d{13}[0-9a-f]{16}", earlier)
    assert TAG_SAFE.match(earlier)
    assert [recipient_id(i) for i in (0, 9, 499)] == ["r0000", "r0009", "r0499"]


def test_request_addresses_are_normalized_and_names_trimmed() -> None:
    request = SendMessageRequest.model_validate(
        {
            "kind": "invoice",
            "subject": "Invoice INV-1",
            "html": "<p>Due</p>",
            "invoice_id": "INV-1",
            "recipients": [{"customer_id": "c-1", "email": "Ann.Lee@Example.COM", "name": "  Ann Lee  "}],
        }
    )
    (recipient,) = request.recipients
    assert recipient.email == "ann.lee@example.com"
    assert recipient.name == "Ann Lee"
    draft = request.to_draft()
    assert draft.content == MessageContent(subject="Invoice INV-1", text=None, html="<p>Due</p>")
    assert draft.invoice_id == "INV-1"


def test_the_largest_body_the_schema_admits_fits_under_the_request_limit() -> None:
    """Every field at its limit, each character escaped the longest way JSON allows: a control
    character is 1 byte of content and 6 of JSON (\\u0001), an astral character counts once
    against a length limit and takes 12 (a \\u-escaped surrogate pair)."""
    astral = "\U0001f600"
    domain = f"{'d' * 63}.{'e' * 63}.{'f' * 57}.com"
    body = {
        "kind": "invoice",
        "invoice_id": "I" * 128,
        "subject": astral * MAX_SUBJECT_CHARS,
        "text": "\x01" * MAX_BODY_BYTES,
        "recipients": [
            {
                "customer_id": "c" * 124 + f"{i:04d}",
                "email": f"{i:04d}{'a' * 60}@{domain}",
                "name": astral * MAX_NAME_CHARS,
            }
            for i in range(MAX_RECIPIENTS)
        ],
    }
    document = json.dumps(body)  # ensure_ascii: every non-ASCII character \\u-escaped
    request = SendMessageRequest.model_validate_json(document)
    assert len(request.recipients) == MAX_RECIPIENTS
    assert len(request.recipients[0].email) == 254
    assert 2_900_000 < len(document.encode()) < MAX_REQUEST_BYTES


def test_a_name_with_a_line_break_is_refused() -> None:
    with pytest.raises(ValidationError) as error:
        SendMessageRequest.model_validate(
            {
                "kind": "email",
                "subject": "Hi",
                "text": "x",
                "recipients": [{"customer_id": "c", "email": "a@example.com", "name": "A\r\nBcc: x@y.z"}],
            }
        )
    assert error.value.errors()[0]["loc"] == ("recipients", 0, "name")


@pytest.mark.parametrize(
    "subject",
    [
        "Spring term \u200f\u05e9\u05dc\u05d5\u05dd",  # a right-to-left mark (Cf) in Hebrew text
        "Family plan \U0001f468\u200d\U0001f469\u200d\U0001f467",  # zero-width joiners (Cf)
        "Non\u00adbreaking soft hyphen, \u00a0no-break space",
    ],
)
def test_format_characters_and_spaces_are_text_in_a_subject(subject: str) -> None:
    request = SendMessageRequest.model_validate(
        {
            "kind": "email",
            "subject": subject,
            "text": "x",
            "recipients": [{"customer_id": "c", "email": "a@example.com"}],
        }
    )
    assert request.subject == subject


def test_the_documented_patterns_spell_the_control_characters_the_validators_refuse() -> None:
    # ECMA-262 (the document's regex dialect) anchors ^...$ at the ends of the string: Python's
    # fullmatch, not its match (whose $ also matches before a final line break).
    one_character = re.compile(NO_CONTROL_CHARACTERS.removeprefix("^").removesuffix("$"))
    disagreeing = [
        hex(code)
        for code in range(sys.maxunicode + 1)
        if (one_character.fullmatch(chr(code)) is None) != has_control_characters(chr(code))
    ]
    assert disagreeing == []
    subject = re.compile(ONE_LINE_NOT_BLANK.removeprefix("^").removesuffix("$"))
    assert subject.fullmatch("Spring term \u200f")
    assert not subject.fullmatch("   ")
    assert not subject.fullmatch("Spring\tterm")


def test_first_duplicate_is_case_insensitive() -> None:
    assert first_duplicate(["a@x.io", "b@x.io", "A@X.io"]) == (2, 0)
    assert first_duplicate(["a@x.io", "b@x.io"]) is None


def test_job_bodies_round_trip_and_stay_small() -> None:
    job = SendJob(
        "tenant-a",
        "m17300000000001234567890abcdef",
        tuple(recipient_id(i) for i in range(MAX_JOB_RECIPIENTS)),
    )
    body = SendJobBody.from_job(job).to_json()
    assert len(body.encode()) < 2_000, "a job carries ids, never the content"
    assert SendJobBody.from_json(body).to_job() == job
    with pytest.raises(InvalidJobError):
        SendJobBody.from_json('{"v": 1, "tenant_id": "t#x", "message_id": "m", "recipient_ids": ["r1"]}')


def test_job_bodies_are_the_compact_json_of_their_four_fields() -> None:
    body = SendJobBody.from_job(SendJob("tenant-a", "m1", ("r1", "r2"))).to_json()
    assert body == '{"v":1,"tenant_id":"tenant-a","message_id":"m1","recipient_ids":["r1","r2"]}'
    assert SendJobBody.from_json('{"tenant_id": "t", "message_id": "m", "recipient_ids": ["r"]}').v == 1


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        '{"v": 2, "tenant_id": "t", "message_id": "m", "recipient_ids": ["r"]}',
        '{"v": "1", "tenant_id": "t", "message_id": "m", "recipient_ids": ["r"]}',
        '{"tenant_id": "t", "message_id": "m", "recipient_ids": ["r"], "extra": 1}',
        '{"tenant_id": "t", "recipient_ids": ["r"]}',
        '{"tenant_id": 7, "message_id": "m", "recipient_ids": ["r"]}',
        '{"tenant_id": "t", "message_id": "", "recipient_ids": ["r"]}',
        '{"tenant_id": "t", "message_id": "m\\n", "recipient_ids": ["r"]}',
        '{"tenant_id": "t", "message_id": "m", "recipient_ids": []}',
        '{"tenant_id": "t", "message_id": "m", "recipient_ids": "r"}',
        '{"tenant_id": "t", "message_id": "m", "recipient_ids": ["r", null]}',
        json.dumps({"tenant_id": "t", "message_id": "m", "recipient_ids": ["r"] * (MAX_JOB_RECIPIENTS + 1)}),
    ],
)
def test_job_bodies_we_never_write_are_refused(body: str) -> None:
    with pytest.raises(InvalidJobError):
        SendJobBody.from_json(body)


def error(code: str, message: str = "", status: int = 400) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "SendEmail",
    )


@pytest.mark.parametrize(
    ("client_error", "kind"),
    [
        (error("TooManyRequestsException", "Too many requests", 429), SendThrottledError),
        (error("LimitExceededException", "Daily quota exceeded"), SendThrottledError),
        (error("Throttling", "Maximum sending rate exceeded."), SendThrottledError),
        (error("SomethingElse", "Maximum sending rate exceeded."), SendThrottledError),
        (error("MessageRejected", "Email address is not verified."), RecipientRejectedError),
        (error("BadRequestException", "Illegal address"), RecipientRejectedError),
        (error("AccountSuspendedException"), SendingBlockedError),
        (error("SendingPausedException"), SendingBlockedError),
        (error("MailFromDomainNotVerifiedException"), SendingBlockedError),
        (error("NotFoundException", "Configuration set does not exist"), SendingBlockedError),
        (error("InternalFailure", "", 500), SendUnavailableError),
        (error("SomethingNew", "whatever", 400), RecipientRejectedError),
    ],
)
def test_ses_errors_are_classified(client_error: ClientError, kind: type[Exception]) -> None:
    assert type(classify_client_error(client_error)) is kind


class RecordingClient:
    def __init__(self) -> None:
        self.kwargs: dict[str, Any] = {}

    def send_email(self, **kwargs: Any) -> dict[str, Any]:
        self.kwargs = kwargs
        return {"MessageId": "0100-abc"}


def test_the_mailer_sends_one_message_with_the_configuration_set_and_tags() -> None:
    client = RecordingClient()
    mailer = SesMailer(client, "billing@studio.example", "delivery-tracker")  # type: ignore[arg-type]
    mail = OutgoingMail(
        to="zoe@example.com",
        name="Zoë Ångström",
        content=MessageContent(subject="Receipt", text="Thanks"),
        tags={"tracker_tenant": "t", "tracker_message": "m", "tracker_recipient": "r0000"},
    )
    assert mailer.send(mail) == "0100-abc"
    sent = client.kwargs
    assert sent["FromEmailAddress"] == "billing@studio.example"
    assert sent["ConfigurationSetName"] == "delivery-tracker"
    (to,) = sent["Destination"]["ToAddresses"]
    assert to.endswith(" <zoe@example.com>")
    assert to.isascii(), "a non-ASCII display name is RFC 2047-encoded"
    assert sent["Content"]["Simple"]["Body"] == {"Text": {"Data": "Thanks", "Charset": "UTF-8"}}
    assert sent["EmailTags"] == [
        {"Name": "tracker_message", "Value": "m"},
        {"Name": "tracker_recipient", "Value": "r0000"},
        {"Name": "tracker_tenant", "Value": "t"},
    ]


def test_a_mailer_without_a_sender_address_blocks_the_job() -> None:
    mailer = SesMailer(RecordingClient(), None, "delivery-tracker")  # type: ignore[arg-type]
    with pytest.raises(SendingBlockedError):
        mailer.send(OutgoingMail("a@example.com", None, MessageContent("s", "t"), {}))


def test_the_mailer_adds_the_headers_and_picks_the_untracked_set_for_untracked_mail() -> None:
    client = RecordingClient()
    mailer = SesMailer(client, "billing@studio.example", "tracked", "untracked")  # type: ignore[arg-type]
    headers = (("List-Unsubscribe", "<https://api.example/unsubscribe/t>"), ("List-Unsubscribe-Post", "x"))
    mailer.send(OutgoingMail("a@example.com", None, MessageContent("s", "t"), {}, headers=headers))
    assert client.kwargs["ConfigurationSetName"] == "tracked"
    assert client.kwargs["Content"]["Simple"]["Headers"] == [
        {"Name": "List-Unsubscribe", "Value": "<https://api.example/unsubscribe/t>"},
        {"Name": "List-Unsubscribe-Post", "Value": "x"},
    ]
    mailer.send(OutgoingMail("a@example.com", None, MessageContent("s", "t"), {}, tracked=False))
    assert client.kwargs["ConfigurationSetName"] == "untracked"
    assert "Headers" not in client.kwargs["Content"]["Simple"]


def test_job_bodies_carry_the_kind_and_tracking_the_message_was_created_with() -> None:
    job = SendJob("tenant-a", "m1", ("r1",), "invoice", Tracking.OFF)
    body = SendJobBody.from_job(job).to_json()
    assert body == (
        '{"v":1,"tenant_id":"tenant-a","message_id":"m1","recipient_ids":["r1"],'
        '"kind":"invoice","tracking":"off"}'
    )
    assert SendJobBody.from_json(body).to_job() == job
    for bad in ('"kind":"fax"', '"tracking":"maybe"'):
        with pytest.raises(InvalidJobError):
            SendJobBody.from_json('{"tenant_id":"t","message_id":"m","recipient_ids":["r"],' + bad + "}")
