"""The objects of SES event records, field for field as the SES developer guide documents them
(camelCase aliases; snake_case attribute names also accepted). Unknown fields are kept: SES
"reserves the right to add additional fields"."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from tracker.models.ses.timestamps import UtcDatetime


class SesModel(BaseModel):
    """``defer_build``: an object validated only inside an SES record goes through the record union's
    one validator (tracker.models.ses.records.SES_EVENT), which builds its schema inline; a
    validator and a serializer of its own class, built at import, would never run."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="allow",
        frozen=True,
        defer_build=True,
    )


class SesSection(SesModel):
    """A record's type-specific object: dumped on its own (hashed into the event id), so its class
    builds its serializer at import like any model (a deferred one would build it on first use)."""

    model_config = ConfigDict(defer_build=False)


class MailHeader(SesModel):
    name: str
    value: str


class CommonHeaders(SesModel):
    """``mail.commonHeaders``; ``from``/``to`` are lists, every field may be absent."""

    from_: list[str] | None = Field(default=None, alias="from")
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
    headers_truncated: bool | None = None
    headers: list[MailHeader] | None = None
    common_headers: CommonHeaders | None = None
    tags: dict[str, list[str]] | None = None  # absent in identity notifications

    @property
    def subject(self) -> str | None:
        return self.common_headers.subject if self.common_headers is not None else None


class BouncedRecipient(SesModel):
    email_address: str
    action: str | None = None
    status: str | None = None
    diagnostic_code: str | None = None


class Bounce(SesSection):
    bounce_type: str  # Undetermined | Permanent | Transient
    bounce_sub_type: str  # General, NoEmail, Suppressed, OnAccountSuppressionList, MailboxFull, ...
    bounced_recipients: list[BouncedRecipient]
    timestamp: UtcDatetime
    feedback_id: str | None = None
    reporting_mta: str | None = Field(default=None, alias="reportingMTA")
    remote_mta_ip: str | None = None  # identity notifications only


class ComplainedRecipient(SesModel):
    email_address: str


class Complaint(SesSection):
    complained_recipients: list[ComplainedRecipient]
    timestamp: UtcDatetime
    feedback_id: str | None = None
    complaint_sub_type: str | None = None  # null or OnAccountSuppressionList
    user_agent: str | None = None
    complaint_feedback_type: str | None = None  # abuse, auth-failure, fraud, not-spam, other, virus
    # Copied by SES from the ISP's feedback report; kept verbatim because its format is the ISP's.
    arrival_date: str | None = None


class Delivery(SesSection):
    timestamp: UtcDatetime
    recipients: list[str]
    processing_time_millis: int | None = None
    smtp_response: str | None = None
    reporting_mta: str | None = Field(default=None, alias="reportingMTA")
    remote_mta_ip: str | None = None  # identity notifications only


class Send(SesSection):
    """Always an empty object."""


class Reject(SesSection):
    reason: str | None = None  # only documented value: "Bad content"


class Open(SesSection):
    timestamp: UtcDatetime
    ip_address: str | None = None
    user_agent: str | None = None


class Click(SesSection):
    timestamp: UtcDatetime
    link: str
    ip_address: str | None = None
    user_agent: str | None = None
    link_tags: dict[str, list[str]] | None = None


class RenderingFailure(SesSection):
    """Published under the top-level key ``failure`` (not ``renderingFailure``)."""

    error_message: str | None = None
    template_name: str | None = None


class DelayedRecipient(SesModel):
    email_address: str
    status: str | None = None
    diagnostic_code: str | None = None


class DeliveryDelay(SesSection):
    timestamp: UtcDatetime
    delayed_recipients: list[DelayedRecipient]
    delay_type: str | None = None  # TransientCommunicationFailure, MailboxFull, SpamDetected, ...
    expiration_time: UtcDatetime | None = None
    reporting_mta: str | None = Field(default=None, alias="reportingMTA")


class TopicSubscriptionStatus(SesModel):
    topic_name: str
    subscription_status: str  # OptIn | OptOut


class TopicPreferences(SesSection):
    unsubscribe_all: bool | None = None
    topic_subscription_status: list[TopicSubscriptionStatus] | None = None
    topic_default_subscription_status: list[TopicSubscriptionStatus] | None = None


class Subscription(SesSection):
    timestamp: UtcDatetime
    contact_list: str | None = None
    source: str | None = None  # e.g. UnsubscribeHeader
    new_topic_preferences: TopicPreferences | None = None
    old_topic_preferences: TopicPreferences | None = None


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
