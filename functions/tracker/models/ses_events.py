"""Pydantic models of the SES event records we ingest, and their normalization.

Two record formats reach us, both as the ``Message`` of an SNS notification:

* **Event publishing** (configuration set → SNS event destination): top-level ``eventType`` is one of
  ``Send``, ``Delivery``, ``Open``, ``Click``, ``Bounce``, ``Complaint``, ``Reject``,
  ``Rendering Failure``, ``DeliveryDelay`` or ``Subscription``. Reference: SES developer guide,
  "Contents of event data that Amazon SES publishes to Amazon SNS" and "Examples of event data ...".
* **Identity feedback notifications** (the older format): top-level ``notificationType`` is ``Bounce``,
  ``Complaint`` or ``Delivery``. Reference: "Amazon SNS notification contents for Amazon SES" and
  "Amazon SNS notification examples for Amazon SES". These records carry no ``mail.tags``.

The models follow the guide field for field (camelCase aliases; snake_case attribute names also
accepted). Unknown fields are kept (SES "reserves the right to add additional fields"); only the fields
the tracker depends on are required: ``mail.timestamp``, ``mail.messageId``, ``mail.destination``, the
type-specific timestamp and recipient lists, bounce type/subtype and the clicked link.

Public API: :func:`parse_notification_body` (SQS record body → :data:`SesEvent`) and
:func:`to_recipient_events` (:data:`SesEvent` → one :class:`RecipientEvent` per recipient address).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    Tag,
    TypeAdapter,
    ValidationError,
)
from pydantic.alias_generators import to_camel

from tracker.domain.errors import InvalidEventError
from tracker.domain.events import EventKind, RecipientEvent

__all__ = [
    "Bounce",
    "BounceEvent",
    "BounceNotification",
    "BouncedRecipient",
    "Click",
    "ClickEvent",
    "CommonHeaders",
    "ComplainedRecipient",
    "Complaint",
    "ComplaintEvent",
    "ComplaintNotification",
    "DelayedRecipient",
    "Delivery",
    "DeliveryDelay",
    "DeliveryDelayEvent",
    "DeliveryEvent",
    "DeliveryNotification",
    "Mail",
    "MailHeader",
    "Open",
    "OpenEvent",
    "Reject",
    "RejectEvent",
    "RenderingFailure",
    "RenderingFailureEvent",
    "Send",
    "SendEvent",
    "SesEvent",
    "SnsNotification",
    "Subscription",
    "SubscriptionEvent",
    "TopicPreferences",
    "TopicSubscriptionStatus",
    "format_ses_timestamp",
    "normalize_address",
    "parse_notification_body",
    "parse_ses_timestamp",
    "to_recipient_events",
]

# --- timestamps --------------------------------------------------------------

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
    return parsed.astimezone(UTC)


def format_ses_timestamp(value: datetime) -> str:
    """Format like SES does: UTC, millisecond precision, ``Z`` suffix (``2017-08-05T00:41:02.669Z``)."""
    utc = parse_ses_timestamp(value)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


UtcDatetime = Annotated[
    datetime,
    BeforeValidator(parse_ses_timestamp),
    PlainSerializer(format_ses_timestamp, return_type=str, when_used="json"),
]


# --- shared building blocks -------------------------------------------------


class _SesModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="allow",
        frozen=True,
    )


class MailHeader(_SesModel):
    name: str
    value: str


class CommonHeaders(_SesModel):
    """``mail.commonHeaders``; ``from``/``to`` are lists, every field may be absent."""

    from_: list[str] | None = Field(default=None, alias="from")
    to: list[str] | None = None
    message_id: str | None = None
    subject: str | None = None
    date: str | None = None


class Mail(_SesModel):
    """The ``mail`` object: the original message that produced the event."""

    timestamp: UtcDatetime
    message_id: str
    destination: list[str]
    source: str | None = None
    source_arn: str | None = None
    source_ip: str | None = None  # identity notifications only
    sending_account_id: str | None = None
    headers_truncated: bool | None = None
    headers: list[MailHeader] | None = None
    common_headers: CommonHeaders | None = None
    tags: dict[str, list[str]] | None = None  # absent in identity notifications

    @property
    def subject(self) -> str | None:
        return self.common_headers.subject if self.common_headers is not None else None


# --- type-specific objects --------------------------------------------------


class BouncedRecipient(_SesModel):
    email_address: str
    action: str | None = None
    status: str | None = None
    diagnostic_code: str | None = None


class Bounce(_SesModel):
    bounce_type: str  # Undetermined | Permanent | Transient
    bounce_sub_type: str  # General, NoEmail, Suppressed, OnAccountSuppressionList, MailboxFull, ...
    bounced_recipients: list[BouncedRecipient]
    timestamp: UtcDatetime
    feedback_id: str | None = None
    reporting_mta: str | None = Field(default=None, alias="reportingMTA")
    remote_mta_ip: str | None = None  # identity notifications only


class ComplainedRecipient(_SesModel):
    email_address: str


class Complaint(_SesModel):
    complained_recipients: list[ComplainedRecipient]
    timestamp: UtcDatetime
    feedback_id: str | None = None
    complaint_sub_type: str | None = None  # null or OnAccountSuppressionList
    user_agent: str | None = None
    complaint_feedback_type: str | None = None  # abuse, auth-failure, fraud, not-spam, other, virus
    # Copied by SES from the ISP's feedback report; kept verbatim because its format is the ISP's.
    arrival_date: str | None = None


class Delivery(_SesModel):
    timestamp: UtcDatetime
    recipients: list[str]
    processing_time_millis: int | None = None
    smtp_response: str | None = None
    reporting_mta: str | None = Field(default=None, alias="reportingMTA")
    remote_mta_ip: str | None = None  # identity notifications only


class Send(_SesModel):
    """Always an empty object."""


class Reject(_SesModel):
    reason: str | None = None  # only documented value: "Bad content"


class Open(_SesModel):
    timestamp: UtcDatetime
    ip_address: str | None = None
    user_agent: str | None = None


class Click(_SesModel):
    timestamp: UtcDatetime
    link: str
    ip_address: str | None = None
    user_agent: str | None = None
    link_tags: dict[str, list[str]] | None = None


class RenderingFailure(_SesModel):
    """Published under the top-level key ``failure`` (not ``renderingFailure``)."""

    error_message: str | None = None
    template_name: str | None = None


class DelayedRecipient(_SesModel):
    email_address: str
    status: str | None = None
    diagnostic_code: str | None = None


class DeliveryDelay(_SesModel):
    timestamp: UtcDatetime
    delayed_recipients: list[DelayedRecipient]
    delay_type: str | None = None  # TransientCommunicationFailure, MailboxFull, SpamDetected, ...
    expiration_time: UtcDatetime | None = None
    reporting_mta: str | None = Field(default=None, alias="reportingMTA")


class TopicSubscriptionStatus(_SesModel):
    topic_name: str
    subscription_status: str  # OptIn | OptOut


class TopicPreferences(_SesModel):
    unsubscribe_all: bool | None = None
    topic_subscription_status: list[TopicSubscriptionStatus] | None = None
    topic_default_subscription_status: list[TopicSubscriptionStatus] | None = None


class Subscription(_SesModel):
    timestamp: UtcDatetime
    contact_list: str | None = None
    source: str | None = None  # e.g. UnsubscribeHeader
    new_topic_preferences: TopicPreferences | None = None
    old_topic_preferences: TopicPreferences | None = None


# --- event records: configuration-set event publishing (eventType) ---------


class _EventRecord(_SesModel):
    """Event records are only validated through :data:`SesEvent`'s one validator (``_SES_EVENT``,
    built below) and never dumped: ``defer_build`` spares building a validator and a serializer per
    record class at import, which nothing would use."""

    model_config = ConfigDict(defer_build=True)

    KIND: ClassVar[EventKind]
    mail: Mail


class SendEvent(_EventRecord):
    KIND = EventKind.SEND
    event_type: Literal["Send"]
    send: Send = Field(default_factory=Send)


class DeliveryEvent(_EventRecord):
    KIND = EventKind.DELIVERY
    event_type: Literal["Delivery"]
    delivery: Delivery


class OpenEvent(_EventRecord):
    KIND = EventKind.OPEN
    event_type: Literal["Open"]
    open: Open


class ClickEvent(_EventRecord):
    KIND = EventKind.CLICK
    event_type: Literal["Click"]
    click: Click


class BounceEvent(_EventRecord):
    KIND = EventKind.BOUNCE
    event_type: Literal["Bounce"]
    bounce: Bounce


class ComplaintEvent(_EventRecord):
    KIND = EventKind.COMPLAINT
    event_type: Literal["Complaint"]
    complaint: Complaint


class RejectEvent(_EventRecord):
    KIND = EventKind.REJECT
    event_type: Literal["Reject"]
    reject: Reject


class RenderingFailureEvent(_EventRecord):
    KIND = EventKind.RENDERING_FAILURE
    event_type: Literal["Rendering Failure"]
    failure: RenderingFailure


class DeliveryDelayEvent(_EventRecord):
    KIND = EventKind.DELIVERY_DELAY
    event_type: Literal["DeliveryDelay"]
    delivery_delay: DeliveryDelay


class SubscriptionEvent(_EventRecord):
    KIND = EventKind.SUBSCRIPTION
    event_type: Literal["Subscription"]
    subscription: Subscription


# --- event records: identity feedback notifications (notificationType) -----


class BounceNotification(_EventRecord):
    KIND = EventKind.BOUNCE
    notification_type: Literal["Bounce"]
    bounce: Bounce


class ComplaintNotification(_EventRecord):
    KIND = EventKind.COMPLAINT
    notification_type: Literal["Complaint"]
    complaint: Complaint


class DeliveryNotification(_EventRecord):
    KIND = EventKind.DELIVERY
    notification_type: Literal["Delivery"]
    delivery: Delivery


_EVENT_TYPES: dict[str, type[_EventRecord]] = {
    "Send": SendEvent,
    "Delivery": DeliveryEvent,
    "Open": OpenEvent,
    "Click": ClickEvent,
    "Bounce": BounceEvent,
    "Complaint": ComplaintEvent,
    "Reject": RejectEvent,
    "Rendering Failure": RenderingFailureEvent,
    "DeliveryDelay": DeliveryDelayEvent,
    "Subscription": SubscriptionEvent,
}
_NOTIFICATION_TYPES: dict[str, type[_EventRecord]] = {
    "Bounce": BounceNotification,
    "Complaint": ComplaintNotification,
    "Delivery": DeliveryNotification,
}


def _record_tag(value: Any) -> str | None:
    """Discriminator of :data:`SesEvent`: ``"event:<eventType>"`` or ``"notification:<type>"``."""
    if isinstance(value, _EventRecord):
        extra = value.model_extra or {}
        event_type = getattr(value, "event_type", None)
        notification_type = getattr(value, "notification_type", extra.get("notificationType"))
    elif isinstance(value, Mapping):
        event_type = value.get("eventType", value.get("event_type"))
        notification_type = value.get("notificationType", value.get("notification_type"))
    else:
        return None
    if event_type is not None:
        return f"event:{event_type}"
    if notification_type is not None:
        return f"notification:{notification_type}"
    return None


SesEvent = Annotated[
    Annotated[SendEvent, Tag("event:Send")]
    | Annotated[DeliveryEvent, Tag("event:Delivery")]
    | Annotated[OpenEvent, Tag("event:Open")]
    | Annotated[ClickEvent, Tag("event:Click")]
    | Annotated[BounceEvent, Tag("event:Bounce")]
    | Annotated[ComplaintEvent, Tag("event:Complaint")]
    | Annotated[RejectEvent, Tag("event:Reject")]
    | Annotated[RenderingFailureEvent, Tag("event:Rendering Failure")]
    | Annotated[DeliveryDelayEvent, Tag("event:DeliveryDelay")]
    | Annotated[SubscriptionEvent, Tag("event:Subscription")]
    | Annotated[BounceNotification, Tag("notification:Bounce")]
    | Annotated[ComplaintNotification, Tag("notification:Complaint")]
    | Annotated[DeliveryNotification, Tag("notification:Delivery")],
    Discriminator(_record_tag),
]
"""Any SES event record of either format (``TypeAdapter(SesEvent)`` validates one directly)."""

_SES_EVENT: TypeAdapter[SesEvent] = TypeAdapter(SesEvent)


# --- SNS envelope -------------------------------------------------------------


class SnsNotification(BaseModel):
    """The SNS ``Notification`` JSON that SQS holds when raw message delivery is off."""

    model_config = ConfigDict(populate_by_name=True, extra="allow", frozen=True)

    type: Literal["Notification"] = Field(alias="Type")
    message_id: str = Field(alias="MessageId")
    message: str = Field(alias="Message")
    topic_arn: str | None = Field(default=None, alias="TopicArn")
    subject: str | None = Field(default=None, alias="Subject")
    timestamp: str | None = Field(default=None, alias="Timestamp")
    signature_version: str | None = Field(default=None, alias="SignatureVersion")
    signature: str | None = Field(default=None, alias="Signature")
    signing_cert_url: str | None = Field(default=None, alias="SigningCertURL")
    unsubscribe_url: str | None = Field(default=None, alias="UnsubscribeURL")
    message_attributes: dict[str, Any] | None = Field(default=None, alias="MessageAttributes")


# --- parsing -----------------------------------------------------------------

_MAX_DETAIL = 300


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 3] + "..."


def _first_error(error: ValidationError, skip: str | None = None) -> str:
    first = error.errors(include_url=False, include_input=False)[0]
    loc = list(first["loc"])
    if loc and skip is not None and loc[0] == skip:
        loc = loc[1:]  # the union tag pydantic puts first
    path = ".".join(str(part) for part in loc) or "<root>"
    return _clip(f"{path}: {first['msg']}")


def _load_json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, TypeError, RecursionError) as exc:
        raise InvalidEventError("malformed_json", _clip(f"{what} is not JSON: {exc}")) from None


def _is_sns_envelope(document: Mapping[str, Any]) -> bool:
    return "Type" in document and "eventType" not in document and "notificationType" not in document


def _validate_record(document: Mapping[str, Any]) -> SesEvent:
    if "eventType" in document:
        field, value, table = "eventType", document["eventType"], _EVENT_TYPES
    elif "notificationType" in document:
        field, value, table = "notificationType", document["notificationType"], _NOTIFICATION_TYPES
    else:
        raise InvalidEventError(
            "not_a_notification",
            "JSON object is neither an SNS Notification nor an SES event record "
            "(no Type, eventType or notificationType)",
        )
    if not isinstance(value, str) or value not in table:
        raise InvalidEventError("unknown_event_type", _clip(f"{field}={value!r}"))
    try:
        return _SES_EVENT.validate_python(document)
    except ValidationError as exc:
        raise InvalidEventError("invalid_event", _first_error(exc, skip=_record_tag(document))) from None


def parse_notification_body(body: str) -> SesEvent:
    """Parse one SQS record body into an SES event model.

    The body is normally the SNS Notification JSON whose ``Message`` is the SES record as a string;
    a body that is directly an SES record (no SNS envelope) is accepted as well.

    Raises :class:`InvalidEventError` with reason ``malformed_json``, ``not_a_notification``,
    ``unknown_event_type`` or ``invalid_event``; never a JSON or pydantic error.
    """
    document = _load_json(body, "SQS body")
    if not isinstance(document, dict):
        raise InvalidEventError(
            "not_a_notification", f"SQS body is a JSON {type(document).__name__}, not an object"
        )
    if _is_sns_envelope(document):
        if document["Type"] != "Notification":
            raise InvalidEventError("not_a_notification", _clip(f"SNS message of Type={document['Type']!r}"))
        try:
            envelope = SnsNotification.model_validate(document)
        except ValidationError as exc:
            raise InvalidEventError("invalid_event", "SNS " + _first_error(exc)) from None
        document = _load_json(envelope.message, "SNS Message")
        if not isinstance(document, dict):
            raise InvalidEventError(
                "not_a_notification", f"SNS Message is a JSON {type(document).__name__}, not an object"
            )
    return _validate_record(document)


# --- normalization -------------------------------------------------------------


def normalize_address(address: str) -> str:
    """``"Jane Doe" <Jane@Example.com>`` → ``jane@example.com``; a bare address is stripped and lowercased."""
    _, parsed = parseaddr(address)
    return (parsed or address).strip().lower()


def _section(model: BaseModel) -> dict[str, Any]:
    """The type-specific object as published, in a deterministic JSON-safe form."""
    dumped: dict[str, Any] = model.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return dumped


def _event_id(kind: EventKind, mail: Mail, email: str, section: Mapping[str, Any], with_sent_at: bool) -> str:
    payload: dict[str, Any] = {
        "kind": kind.value,
        "ses_message_id": mail.message_id,
        "recipient": email,
        "event": section,
    }
    if with_sent_at:
        payload["mail_timestamp"] = format_ses_timestamp(mail.timestamp)
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def _tags(mail: Mail) -> dict[str, str]:
    return {name: values[0] for name, values in (mail.tags or {}).items() if values}


def _details_per_recipient(
    event: _EventRecord,
) -> tuple[datetime, BaseModel, Iterable[tuple[str, dict[str, Any]]]]:
    """(when, type-specific object, [(raw address, details)]) for one event record."""
    mail = event.mail

    def to_all(details: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        return [(address, dict(details)) for address in mail.destination]

    if isinstance(event, BounceEvent | BounceNotification):
        bounce = event.bounce
        return (
            bounce.timestamp,
            bounce,
            [
                (
                    recipient.email_address,
                    {
                        "bounce_type": bounce.bounce_type,
                        "bounce_subtype": bounce.bounce_sub_type,
                        "diagnostic_code": recipient.diagnostic_code,
                        "status": recipient.status,
                        "action": recipient.action,
                        "reporting_mta": bounce.reporting_mta,
                        "feedback_id": bounce.feedback_id,
                    },
                )
                for recipient in bounce.bounced_recipients
            ],
        )
    if isinstance(event, ComplaintEvent | ComplaintNotification):
        complaint = event.complaint
        details: dict[str, Any] = {
            "feedback_type": complaint.complaint_feedback_type,
            "complaint_subtype": complaint.complaint_sub_type,
            "user_agent": complaint.user_agent,
            "feedback_id": complaint.feedback_id,
            "arrival_date": complaint.arrival_date,
        }
        return (
            complaint.timestamp,
            complaint,
            [(recipient.email_address, dict(details)) for recipient in complaint.complained_recipients],
        )
    if isinstance(event, DeliveryEvent | DeliveryNotification):
        delivery = event.delivery
        details = {
            "smtp_response": delivery.smtp_response,
            "processing_time_ms": delivery.processing_time_millis,
            "reporting_mta": delivery.reporting_mta,
        }
        return delivery.timestamp, delivery, [(address, dict(details)) for address in delivery.recipients]
    if isinstance(event, DeliveryDelayEvent):
        delay = event.delivery_delay
        expiration = format_ses_timestamp(delay.expiration_time) if delay.expiration_time else None
        return (
            delay.timestamp,
            delay,
            [
                (
                    recipient.email_address,
                    {
                        "delay_type": delay.delay_type,
                        "status": recipient.status,
                        "diagnostic_code": recipient.diagnostic_code,
                        "expiration_time": expiration,
                        "reporting_mta": delay.reporting_mta,
                    },
                )
                for recipient in delay.delayed_recipients
            ],
        )
    if isinstance(event, OpenEvent):
        opened = event.open
        return (
            opened.timestamp,
            opened,
            to_all({"ip_address": opened.ip_address, "user_agent": opened.user_agent}),
        )
    if isinstance(event, ClickEvent):
        click = event.click
        link_tags = (
            {name: list(values) for name, values in click.link_tags.items()} if click.link_tags else None
        )
        return (
            click.timestamp,
            click,
            to_all(
                {
                    "ip_address": click.ip_address,
                    "user_agent": click.user_agent,
                    "link": click.link,
                    "link_tags": link_tags,
                }
            ),
        )
    if isinstance(event, SubscriptionEvent):
        subscription = event.subscription

        def preferences(value: TopicPreferences | None) -> dict[str, Any] | None:
            return value.model_dump(mode="json", exclude_none=True) if value is not None else None

        return (
            subscription.timestamp,
            subscription,
            to_all(
                {
                    "contact_list": subscription.contact_list,
                    "source": subscription.source,
                    "new_topic_preferences": preferences(subscription.new_topic_preferences),
                    "old_topic_preferences": preferences(subscription.old_topic_preferences),
                }
            ),
        )
    if isinstance(event, SendEvent):
        return mail.timestamp, event.send, to_all({})
    if isinstance(event, RejectEvent):
        return mail.timestamp, event.reject, to_all({"reason": event.reject.reason})
    if isinstance(event, RenderingFailureEvent):
        failure = event.failure
        return (
            mail.timestamp,
            failure,
            to_all({"error_message": failure.error_message, "template_name": failure.template_name}),
        )
    raise TypeError(f"not an SES event model: {type(event).__name__}")


# Events without a timestamp of their own are identified by the send time as well.
_STAMPED_BY_MAIL = frozenset({EventKind.SEND, EventKind.REJECT, EventKind.RENDERING_FAILURE})


def to_recipient_events(event: SesEvent) -> list[RecipientEvent]:
    """One :class:`RecipientEvent` per affected recipient address (duplicates within a record dropped).

    Recipients: bounce → ``bouncedRecipients``; complaint → ``complainedRecipients``; delivery →
    ``delivery.recipients``; delivery delay → ``delayedRecipients``; every other type → ``mail.destination``.
    ``at`` is the type-specific timestamp (``mail.timestamp`` for Send, Reject, Rendering Failure).
    """
    kind = event.KIND
    mail = event.mail
    at, section_model, recipients = _details_per_recipient(event)
    section = _section(section_model)
    tags = _tags(mail)
    with_sent_at = kind in _STAMPED_BY_MAIL
    results: list[RecipientEvent] = []
    seen: set[str] = set()
    for address, details in recipients:
        email = normalize_address(address)
        if not email or email in seen:
            continue
        seen.add(email)
        results.append(
            RecipientEvent(
                event_id=_event_id(kind, mail, email, section, with_sent_at),
                kind=kind,
                at=at,
                ses_message_id=mail.message_id,
                email=email,
                mail_sent_at=mail.timestamp,
                tags=dict(tags),
                details=details,
            )
        )
    return results
