"""The objects of SES event records, field for field as the SES developer guide documents them
(camelCase names). Unknown fields are allowed: SES "reserves the right to add additional fields";
the ones inside a record's type-specific object are hashed into the event id with it
(tracker.models.ses.sections)."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from tracker.models.ses.lax import LaxBool, LaxInt, lax_bool, lax_int
from tracker.models.ses.timestamps import UtcDatetime


class SesModel(msgspec.Struct, rename="camel"):
    """An object of an SES record (msgspec: a fraction of pydantic's import time, docs/architecture.md)."""


class MailHeader(SesModel):
    name: str
    value: str


class CommonHeaders(SesModel):
    """``mail.commonHeaders``; ``from``/``to`` are lists, every field may be absent."""

    from_: list[str] | None = msgspec.field(default=None, name="from")
    to: list[str] | None = None
    message_id: str | None = None
    subject: str | None = None
    date: str | None = None


class Mail(SesModel):
    """The ``mail`` object: the original message that produced the event."""

    timestamp: UtcDatetime
    message_id: str
    destination: list[str]
    source: str | None = None
    source_arn: str | None = None
    source_ip: str | None = None  # identity notifications only
    sending_account_id: str | None = None
    headers_truncated: LaxBool | None = None
    headers: list[MailHeader] | None = None
    common_headers: CommonHeaders | None = None
    tags: dict[str, list[str]] | None = None  # absent in identity notifications

    def __post_init__(self) -> None:
        self.headers_truncated = lax_bool(self.headers_truncated, "headersTruncated")

    @property
    def subject(self) -> str | None:
        return self.common_headers.subject if self.common_headers is not None else None


class BouncedRecipient(SesModel):
    email_address: str
    action: str | None = None
    status: str | None = None
    diagnostic_code: str | None = None


class Bounce(SesModel):
    bounce_type: str  # Undetermined | Permanent | Transient
    bounce_sub_type: str  # General, NoEmail, Suppressed, OnAccountSuppressionList, MailboxFull, ...
    bounced_recipients: list[BouncedRecipient]
    timestamp: UtcDatetime
    feedback_id: str | None = None
    reporting_mta: str | None = msgspec.field(default=None, name="reportingMTA")
    remote_mta_ip: str | None = None  # identity notifications only


class ComplainedRecipient(SesModel):
    email_address: str


class Complaint(SesModel):
    complained_recipients: list[ComplainedRecipient]
    timestamp: UtcDatetime
    feedback_id: str | None = None
    complaint_sub_type: str | None = None  # null or OnAccountSuppressionList
    user_agent: str | None = None
    complaint_feedback_type: str | None = None  # abuse, auth-failure, fraud, not-spam, other, virus
    # Copied by SES from the ISP's feedback report; kept verbatim because its format is the ISP's.
    arrival_date: str | None = None


class Delivery(SesModel):
    timestamp: UtcDatetime
    recipients: list[str]
    processing_time_millis: LaxInt | None = None
    smtp_response: str | None = None
    reporting_mta: str | None = msgspec.field(default=None, name="reportingMTA")
    remote_mta_ip: str | None = None  # identity notifications only

    def __post_init__(self) -> None:
        self.processing_time_millis = lax_int(self.processing_time_millis, "processingTimeMillis")


class Send(SesModel):
    """Always an empty object."""


class Reject(SesModel):
    reason: str | None = None  # only documented value: "Bad content"


class Open(SesModel):
    timestamp: UtcDatetime
    ip_address: str | None = None
    user_agent: str | None = None


class Click(SesModel):
    timestamp: UtcDatetime
    link: str
    ip_address: str | None = None
    user_agent: str | None = None
    link_tags: dict[str, list[str]] | None = None


class RenderingFailure(SesModel):
    """Published under the top-level key ``failure`` (not ``renderingFailure``)."""

    error_message: str | None = None
    template_name: str | None = None


class DelayedRecipient(SesModel):
    email_address: str
    status: str | None = None
    diagnostic_code: str | None = None


class DeliveryDelay(SesModel):
    timestamp: UtcDatetime
    delayed_recipients: list[DelayedRecipient]
    delay_type: str | None = None  # TransientCommunicationFailure, MailboxFull, SpamDetected, ...
    expiration_time: UtcDatetime | None = None
    reporting_mta: str | None = msgspec.field(default=None, name="reportingMTA")


class TopicSubscriptionStatus(SesModel):
    topic_name: str
    subscription_status: str  # OptIn | OptOut


class TopicPreferences(SesModel):
    unsubscribe_all: LaxBool | None = None
    topic_subscription_status: list[TopicSubscriptionStatus] | None = None
    topic_default_subscription_status: list[TopicSubscriptionStatus] | None = None

    def __post_init__(self) -> None:
        self.unsubscribe_all = lax_bool(self.unsubscribe_all, "unsubscribeAll")


class Subscription(SesModel):
    timestamp: UtcDatetime
    contact_list: str | None = None
    source: str | None = None  # e.g. UnsubscribeHeader
    new_topic_preferences: TopicPreferences | None = None
    old_topic_preferences: TopicPreferences | None = None


class SnsNotification(msgspec.Struct):
    """The SNS ``Notification`` JSON that SQS holds when raw message delivery is off."""

    type: Literal["Notification"] = msgspec.field(name="Type")
    message_id: str = msgspec.field(name="MessageId")
    message: str = msgspec.field(name="Message")
    topic_arn: str | None = msgspec.field(default=None, name="TopicArn")
    subject: str | None = msgspec.field(default=None, name="Subject")
    timestamp: str | None = msgspec.field(default=None, name="Timestamp")
    signature_version: str | None = msgspec.field(default=None, name="SignatureVersion")
    signature: str | None = msgspec.field(default=None, name="Signature")
    signing_cert_url: str | None = msgspec.field(default=None, name="SigningCertURL")
    unsubscribe_url: str | None = msgspec.field(default=None, name="UnsubscribeURL")
    message_attributes: dict[str, Any] | None = msgspec.field(default=None, name="MessageAttributes")
