"""SES event records, one class per record type, and the one registry everything else is built from.

Two record formats reach us, both as the ``Message`` of an SNS notification:

* **Event publishing** (configuration set → SNS event destination): top-level ``eventType`` is one of
  ``Send``, ``Delivery``, ``Open``, ``Click``, ``Bounce``, ``Complaint``, ``Reject``,
  ``Rendering Failure``, ``DeliveryDelay`` or ``Subscription``. Reference: SES developer guide,
  "Contents of event data that Amazon SES publishes to Amazon SNS" and "Examples of event data ...".
* **Identity feedback notifications** (the older format): top-level ``notificationType`` is ``Bounce``,
  ``Complaint`` or ``Delivery``. Reference: "Amazon SNS notification contents for Amazon SES" and
  "Amazon SNS notification examples for Amazon SES". These records carry no ``mail.tags``.

Each record class names its format and type once (msgspec's ``tag_field`` and ``tag``: the format's
type field and the type's name) and says how it applies to each recipient (``occurrence``);
:data:`RECORD_TYPES` lists them, and the tagged unions (one per format) and the lookup by type name
are derived from that list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Union

import msgspec

from tracker.domain.events import EventKind
from tracker.models.ses.objects import (
    Bounce,
    Click,
    Complaint,
    Delivery,
    DeliveryDelay,
    Mail,
    Open,
    Reject,
    RenderingFailure,
    Send,
    SesModel,
    Subscription,
)
from tracker.models.ses.sections import preferences_json
from tracker.models.ses.timestamps import decode_hook, format_ses_timestamp

Format = Literal["event", "notification"]
# The top-level field that names a record's type, per format.
TYPE_FIELD: Mapping[Format, str] = {"event": "eventType", "notification": "notificationType"}
EVENT, NOTIFICATION = TYPE_FIELD["event"], TYPE_FIELD["notification"]


@dataclass(frozen=True)
class Occurrence:
    """When an event happened, its type-specific object (hashed into the event id: ``key`` names it
    in the record) and the details it carries for each recipient address it names."""

    at: datetime
    key: str
    section: SesModel
    recipients: list[tuple[str, dict[str, Any]]]


class EventRecord(SesModel, dict=True, kw_only=True):
    """A record of either format. ``document`` (set by :func:`convert_record`) is the record as
    published: its unknown fields are kept there, and its type-specific object is hashed from it."""

    KIND: ClassVar[EventKind]
    # Events without a timestamp of their own are identified by the send time as well.
    STAMPED_BY_MAIL: ClassVar[bool] = False
    mail: Mail
    if TYPE_CHECKING:
        document: Mapping[str, Any]

    @classmethod
    def format(cls) -> Format:
        return "event" if cls.__struct_config__.tag_field == EVENT else "notification"

    @classmethod
    def type_name(cls) -> str:
        """The name of the record's type as published (its ``eventType`` or ``notificationType``)."""
        return str(cls.__struct_config__.tag)

    @classmethod
    def tag(cls) -> str:
        return f"{cls.format()}:{cls.type_name()}"

    def occurrence(self) -> Occurrence:
        raise NotImplementedError

    def _to_all(self, at: datetime, key: str, section: SesModel, details: dict[str, Any]) -> Occurrence:
        """An event about the message as a whole: it applies to every destination address."""
        return Occurrence(at, key, section, [(address, dict(details)) for address in self.mail.destination])


# --- event publishing (eventType) ---------------------------------------------------------


class SendEvent(EventRecord, tag_field=EVENT, tag="Send"):
    KIND = EventKind.SEND
    STAMPED_BY_MAIL = True
    send: Send = msgspec.field(default_factory=Send)

    def occurrence(self) -> Occurrence:
        return self._to_all(self.mail.timestamp, "send", self.send, {})


class _Delivered(EventRecord):
    KIND = EventKind.DELIVERY
    delivery: Delivery

    def occurrence(self) -> Occurrence:
        delivery = self.delivery
        details = {
            "smtp_response": delivery.smtp_response,
            "processing_time_ms": delivery.processing_time_millis,
            "reporting_mta": delivery.reporting_mta,
        }
        return Occurrence(
            delivery.timestamp,
            "delivery",
            delivery,
            [(address, dict(details)) for address in delivery.recipients],
        )


class DeliveryEvent(_Delivered, tag_field=EVENT, tag="Delivery"):
    pass


class OpenEvent(EventRecord, tag_field=EVENT, tag="Open"):
    KIND = EventKind.OPEN
    open: Open

    def occurrence(self) -> Occurrence:
        opened = self.open
        return self._to_all(
            opened.timestamp,
            "open",
            opened,
            {"ip_address": opened.ip_address, "user_agent": opened.user_agent},
        )


class ClickEvent(EventRecord, tag_field=EVENT, tag="Click"):
    KIND = EventKind.CLICK
    click: Click

    def occurrence(self) -> Occurrence:
        click = self.click
        link_tags = (
            {name: list(values) for name, values in click.link_tags.items()} if click.link_tags else None
        )
        details = {
            "ip_address": click.ip_address,
            "user_agent": click.user_agent,
            "link": click.link,
            "link_tags": link_tags,
        }
        return self._to_all(click.timestamp, "click", click, details)


class _Bounced(EventRecord):
    KIND = EventKind.BOUNCE
    bounce: Bounce

    def occurrence(self) -> Occurrence:
        bounce = self.bounce
        return Occurrence(
            bounce.timestamp,
            "bounce",
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


class BounceEvent(_Bounced, tag_field=EVENT, tag="Bounce"):
    pass


class _Complained(EventRecord):
    KIND = EventKind.COMPLAINT
    complaint: Complaint

    def occurrence(self) -> Occurrence:
        complaint = self.complaint
        details: dict[str, Any] = {
            "feedback_type": complaint.complaint_feedback_type,
            "complaint_subtype": complaint.complaint_sub_type,
            "user_agent": complaint.user_agent,
            "feedback_id": complaint.feedback_id,
            "arrival_date": complaint.arrival_date,
        }
        return Occurrence(
            complaint.timestamp,
            "complaint",
            complaint,
            [(recipient.email_address, dict(details)) for recipient in complaint.complained_recipients],
        )


class ComplaintEvent(_Complained, tag_field=EVENT, tag="Complaint"):
    pass


class RejectEvent(EventRecord, tag_field=EVENT, tag="Reject"):
    KIND = EventKind.REJECT
    STAMPED_BY_MAIL = True
    reject: Reject

    def occurrence(self) -> Occurrence:
        return self._to_all(self.mail.timestamp, "reject", self.reject, {"reason": self.reject.reason})


class RenderingFailureEvent(EventRecord, tag_field=EVENT, tag="Rendering Failure"):
    """Published under the top-level key ``failure`` (not ``renderingFailure``)."""

    KIND = EventKind.RENDERING_FAILURE
    STAMPED_BY_MAIL = True
    failure: RenderingFailure

    def occurrence(self) -> Occurrence:
        failure = self.failure
        return self._to_all(
            self.mail.timestamp,
            "failure",
            failure,
            {"error_message": failure.error_message, "template_name": failure.template_name},
        )


class DeliveryDelayEvent(EventRecord, tag_field=EVENT, tag="DeliveryDelay"):
    KIND = EventKind.DELIVERY_DELAY
    delivery_delay: DeliveryDelay

    def occurrence(self) -> Occurrence:
        delay = self.delivery_delay
        expiration = format_ses_timestamp(delay.expiration_time) if delay.expiration_time else None
        return Occurrence(
            delay.timestamp,
            "deliveryDelay",
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


class SubscriptionEvent(EventRecord, tag_field=EVENT, tag="Subscription"):
    KIND = EventKind.SUBSCRIPTION
    subscription: Subscription

    def occurrence(self) -> Occurrence:
        subscription = self.subscription
        raw = self.document["subscription"]
        details = {
            "contact_list": subscription.contact_list,
            "source": subscription.source,
            "new_topic_preferences": preferences_json(
                subscription.new_topic_preferences, raw.get("newTopicPreferences")
            ),
            "old_topic_preferences": preferences_json(
                subscription.old_topic_preferences, raw.get("oldTopicPreferences")
            ),
        }
        return self._to_all(subscription.timestamp, "subscription", subscription, details)


# --- identity feedback notifications (notificationType) ----------------------------------


class BounceNotification(_Bounced, tag_field=NOTIFICATION, tag="Bounce"):
    pass


class ComplaintNotification(_Complained, tag_field=NOTIFICATION, tag="Complaint"):
    pass


class DeliveryNotification(_Delivered, tag_field=NOTIFICATION, tag="Delivery"):
    pass


# --- the registry ---------------------------------------------------------------------------

RECORD_TYPES: tuple[type[EventRecord], ...] = (
    SendEvent,
    DeliveryEvent,
    OpenEvent,
    ClickEvent,
    BounceEvent,
    ComplaintEvent,
    RejectEvent,
    RenderingFailureEvent,
    DeliveryDelayEvent,
    SubscriptionEvent,
    BounceNotification,
    ComplaintNotification,
    DeliveryNotification,
)
UNIONS: Mapping[Format, Any] = {
    fmt: Union[tuple(t for t in RECORD_TYPES if t.format() == fmt)]  # noqa: UP007 (built at run time)
    for fmt in TYPE_FIELD
}
"""The tagged union of each format's record types (``msgspec.convert(document, UNIONS[fmt])``)."""
TYPE_NAMES: Mapping[Format, frozenset[str]] = {
    fmt: frozenset(t.type_name() for t in RECORD_TYPES if t.format() == fmt) for fmt in TYPE_FIELD
}

if TYPE_CHECKING:
    SesEvent = EventRecord
else:
    SesEvent = Union[RECORD_TYPES]  # noqa: UP007 (built at run time)
"""Any SES event record of either format."""


def convert_record(document: Mapping[str, Any], fmt: Format) -> SesEvent:
    """The record of format ``fmt`` that ``document`` holds (its type field chooses the class).
    Raises :class:`msgspec.ValidationError` (tracker.models.ses.errors words it for quarantine)."""
    record: EventRecord = msgspec.convert(document, UNIONS[fmt], dec_hook=decode_hook)
    record.document = document
    return record
