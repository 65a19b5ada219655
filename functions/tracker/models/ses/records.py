"""SES event records, one class per record type, and the one registry everything else is built from.

Two record formats reach us, both as the ``Message`` of an SNS notification:

* **Event publishing** (configuration set → SNS event destination): top-level ``eventType`` is one of
  ``Send``, ``Delivery``, ``Open``, ``Click``, ``Bounce``, ``Complaint``, ``Reject``,
  ``Rendering Failure``, ``DeliveryDelay`` or ``Subscription``. Reference: SES developer guide,
  "Contents of event data that Amazon SES publishes to Amazon SNS" and "Examples of event data ...".
* **Identity feedback notifications** (the older format): top-level ``notificationType`` is ``Bounce``,
  ``Complaint`` or ``Delivery``. Reference: "Amazon SNS notification contents for Amazon SES" and
  "Amazon SNS notification examples for Amazon SES". These records carry no ``mail.tags``.

Each record class names its format and type once (``FORMAT``, ``TYPE_NAME``) and says how it
applies to each recipient (``occurrence``); :data:`RECORD_TYPES` lists them, and the discriminated
union :data:`SesEvent` and the lookup by type name are derived from that list.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter

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
    TopicPreferences,
)
from tracker.models.ses.timestamps import format_ses_timestamp

Format = Literal["event", "notification"]
# The top-level field that names a record's type, per format.
TYPE_FIELD: Mapping[Format, str] = {"event": "eventType", "notification": "notificationType"}


@dataclass(frozen=True)
class Occurrence:
    """When an event happened, its type-specific object (hashed into the event id) and the details
    it carries for each recipient address it names."""

    at: datetime
    section: BaseModel
    recipients: list[tuple[str, dict[str, Any]]]


class EventRecord(SesModel):
    """Event records are only validated through :data:`SesEvent`'s one validator and never dumped:
    ``defer_build`` spares building a validator and a serializer per record class at import,
    which nothing would use."""

    model_config = ConfigDict(defer_build=True)

    FORMAT: ClassVar[Format]
    TYPE_NAME: ClassVar[str]
    KIND: ClassVar[EventKind]
    # Events without a timestamp of their own are identified by the send time as well.
    STAMPED_BY_MAIL: ClassVar[bool] = False
    mail: Mail
    # The name of the record's type as published (the registry chose the class by it already).
    event_type: str | None = None
    notification_type: str | None = None

    @classmethod
    def tag(cls) -> str:
        return f"{cls.FORMAT}:{cls.TYPE_NAME}"

    def occurrence(self) -> Occurrence:
        raise NotImplementedError

    def _to_all(self, at: datetime, section: BaseModel, details: dict[str, Any]) -> Occurrence:
        """An event about the message as a whole: it applies to every destination address."""
        return Occurrence(at, section, [(address, dict(details)) for address in self.mail.destination])


# --- event publishing (eventType) ---------------------------------------------------------


class SendEvent(EventRecord):
    FORMAT = "event"
    TYPE_NAME = "Send"
    KIND = EventKind.SEND
    STAMPED_BY_MAIL = True
    send: Send = Field(default_factory=Send)

    def occurrence(self) -> Occurrence:
        return self._to_all(self.mail.timestamp, self.send, {})


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
            delivery.timestamp, delivery, [(address, dict(details)) for address in delivery.recipients]
        )


class DeliveryEvent(_Delivered):
    FORMAT = "event"
    TYPE_NAME = "Delivery"


class OpenEvent(EventRecord):
    FORMAT = "event"
    TYPE_NAME = "Open"
    KIND = EventKind.OPEN
    open: Open

    def occurrence(self) -> Occurrence:
        opened = self.open
        return self._to_all(
            opened.timestamp, opened, {"ip_address": opened.ip_address, "user_agent": opened.user_agent}
        )


class ClickEvent(EventRecord):
    FORMAT = "event"
    TYPE_NAME = "Click"
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
        return self._to_all(click.timestamp, click, details)


class _Bounced(EventRecord):
    KIND = EventKind.BOUNCE
    bounce: Bounce

    def occurrence(self) -> Occurrence:
        bounce = self.bounce
        return Occurrence(
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


class BounceEvent(_Bounced):
    FORMAT = "event"
    TYPE_NAME = "Bounce"


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
            complaint,
            [(recipient.email_address, dict(details)) for recipient in complaint.complained_recipients],
        )


class ComplaintEvent(_Complained):
    FORMAT = "event"
    TYPE_NAME = "Complaint"


class RejectEvent(EventRecord):
    FORMAT = "event"
    TYPE_NAME = "Reject"
    KIND = EventKind.REJECT
    STAMPED_BY_MAIL = True
    reject: Reject

    def occurrence(self) -> Occurrence:
        return self._to_all(self.mail.timestamp, self.reject, {"reason": self.reject.reason})


class RenderingFailureEvent(EventRecord):
    """Published under the top-level key ``failure`` (not ``renderingFailure``)."""

    FORMAT = "event"
    TYPE_NAME = "Rendering Failure"
    KIND = EventKind.RENDERING_FAILURE
    STAMPED_BY_MAIL = True
    failure: RenderingFailure

    def occurrence(self) -> Occurrence:
        failure = self.failure
        return self._to_all(
            self.mail.timestamp,
            failure,
            {"error_message": failure.error_message, "template_name": failure.template_name},
        )


class DeliveryDelayEvent(EventRecord):
    FORMAT = "event"
    TYPE_NAME = "DeliveryDelay"
    KIND = EventKind.DELIVERY_DELAY
    delivery_delay: DeliveryDelay

    def occurrence(self) -> Occurrence:
        delay = self.delivery_delay
        expiration = format_ses_timestamp(delay.expiration_time) if delay.expiration_time else None
        return Occurrence(
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


def _preferences(value: TopicPreferences | None) -> dict[str, Any] | None:
    return value.model_dump(mode="json", exclude_none=True) if value is not None else None


class SubscriptionEvent(EventRecord):
    FORMAT = "event"
    TYPE_NAME = "Subscription"
    KIND = EventKind.SUBSCRIPTION
    subscription: Subscription

    def occurrence(self) -> Occurrence:
        subscription = self.subscription
        details = {
            "contact_list": subscription.contact_list,
            "source": subscription.source,
            "new_topic_preferences": _preferences(subscription.new_topic_preferences),
            "old_topic_preferences": _preferences(subscription.old_topic_preferences),
        }
        return self._to_all(subscription.timestamp, subscription, details)


# --- identity feedback notifications (notificationType) ----------------------------------


class BounceNotification(_Bounced):
    FORMAT = "notification"
    TYPE_NAME = "Bounce"


class ComplaintNotification(_Complained):
    FORMAT = "notification"
    TYPE_NAME = "Complaint"


class DeliveryNotification(_Delivered):
    FORMAT = "notification"
    TYPE_NAME = "Delivery"


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
TYPE_NAMES: Mapping[Format, frozenset[str]] = {
    fmt: frozenset(t.TYPE_NAME for t in RECORD_TYPES if fmt == t.FORMAT) for fmt in TYPE_FIELD
}


def record_tag(value: Any) -> str | None:
    """Discriminator of :data:`SesEvent`: ``"event:<eventType>"`` or ``"notification:<type>"``."""
    if isinstance(value, EventRecord):
        return value.tag()
    if not isinstance(value, Mapping):
        return None
    for fmt, field in TYPE_FIELD.items():
        name = value.get(field, value.get("event_type" if fmt == "event" else "notification_type"))
        if name is not None:
            return f"{fmt}:{name}"
    return None


if TYPE_CHECKING:
    SesEvent = EventRecord
else:
    SesEvent = Annotated[
        functools.reduce(operator.or_, [Annotated[t, Tag(t.tag())] for t in RECORD_TYPES]),
        Discriminator(record_tag),
    ]
"""Any SES event record of either format (``TypeAdapter(SesEvent)`` validates one directly)."""

SES_EVENT: TypeAdapter[SesEvent] = TypeAdapter(SesEvent)
