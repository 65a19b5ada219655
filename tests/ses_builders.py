"""Builders of SES event records, SNS envelopes and Lambda SQS events, in exactly the shapes AWS uses.

Plain functions returning plain dicts (no pytest fixtures), for unit, property and integration tests.
Event shapes follow the SES developer guide examples field for field ("Examples of event data that
Amazon SES publishes to Amazon SNS" and "Amazon SNS notification examples for Amazon SES"); the copies
of those examples live in ``tests/fixtures/ses/``.

Every event builder takes the SES message id and the recipient address(es) positionally, everything
else by keyword with guide-like defaults. Datetimes must be timezone-aware; they are written the way
SES writes them (``2017-08-05T00:41:02.669Z``).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from local.lambda_runtime import sqs_lambda_record
from tracker.constants import (
    CONFIGURATION_SET_NAME,
    EVENTS_QUEUE_NAME,
    EVENTS_TOPIC_NAME,
    TAG_MESSAGE,
    TAG_RECIPIENT,
    TAG_TENANT,
)

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
SENDER = "sender@example.com"
SUBJECT = "Message sent from Amazon SES"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:{EVENTS_TOPIC_NAME}"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{EVENTS_QUEUE_NAME}"
DEFAULT_SENT_AT = datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=UTC)
DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 10_3_3 like Mac OS X) "
    "AppleWebKit/603.3.8 (KHTML, like Gecko) Mobile/14G60"
)
DEFAULT_LINK = "https://example.com/invoices/INV-1001"

Destination = str | Sequence[str]


# --- small helpers -----------------------------------------------------------


def ses_timestamp(value: datetime) -> str:
    """``2017-08-05T00:41:02.669Z``: UTC, milliseconds, ``Z``."""
    if value.tzinfo is None:
        raise ValueError("use timezone-aware datetimes in tests")
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def tags_for(tenant_id: str, message_id: str, recipient_id: str) -> dict[str, str]:
    """The SES message tags our sender attaches to every recipient's message."""
    return {TAG_TENANT: tenant_id, TAG_MESSAGE: message_id, TAG_RECIPIENT: recipient_id}


def _addresses(destination: Destination) -> list[str]:
    return [destination] if isinstance(destination, str) else list(destination)


def _feedback_id(*parts: object) -> str:
    digest = hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()
    return f"0100018f{digest[:8]}-{digest[8:16]}-{digest[16:20]}-{digest[20:24]}-{digest[24:36]}-000000"


def _at(at: datetime | None, sent_at: datetime, seconds: float) -> datetime:
    return at if at is not None else sent_at + timedelta(seconds=seconds)


# --- mail object ---------------------------------------------------------------


def mail(
    ses_message_id: str,
    destination: Destination,
    sent_at: datetime = DEFAULT_SENT_AT,
    tags: Mapping[str, str] | None = None,
    *,
    source: str = SENDER,
    subject: str | None = SUBJECT,
) -> dict[str, Any]:
    """The ``mail`` object of a configuration-set event record (with SES's own ``ses:*`` tags)."""
    recipients = _addresses(destination)
    all_tags: dict[str, list[str]] = {
        "ses:configuration-set": [CONFIGURATION_SET_NAME],
        "ses:source-ip": ["192.0.2.0"],
        "ses:from-domain": [source.rsplit("@", 1)[-1].rstrip(">")],
        "ses:caller-identity": ["ses_user"],
    }
    all_tags.update({name: [value] for name, value in (tags or {}).items()})
    headers = [
        {"name": "From", "value": source},
        {"name": "To", "value": ", ".join(recipients)},
    ]
    common_headers: dict[str, Any] = {"from": [source], "to": list(recipients), "messageId": ses_message_id}
    if subject is not None:
        headers.append({"name": "Subject", "value": subject})
        common_headers["subject"] = subject
    headers += [
        {"name": "MIME-Version", "value": "1.0"},
        {"name": "Content-Type", "value": "text/html; charset=UTF-8"},
        {"name": "Content-Transfer-Encoding", "value": "7bit"},
    ]
    return {
        "timestamp": ses_timestamp(sent_at),
        "source": source,
        "sourceArn": f"arn:aws:ses:{REGION}:{ACCOUNT_ID}:identity/{source}",
        "sendingAccountId": ACCOUNT_ID,
        "messageId": ses_message_id,
        "destination": list(recipients),
        "headersTruncated": False,
        "headers": headers,
        "commonHeaders": common_headers,
        "tags": all_tags,
    }


def _record(event_type: str, mail_obj: dict[str, Any], key: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"eventType": event_type, "mail": mail_obj, key: body}


# --- configuration-set event records (eventType) -------------------------------


def send_event(
    ses_message_id: str,
    destination: Destination,
    *,
    sent_at: datetime = DEFAULT_SENT_AT,
    tags: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    return _record("Send", mail(ses_message_id, destination, sent_at, tags), "send", {})


def delivery_event(
    ses_message_id: str,
    destination: Destination,
    *,
    sent_at: datetime = DEFAULT_SENT_AT,
    at: datetime | None = None,
    tags: Mapping[str, str] | None = None,
    recipients: Sequence[str] | None = None,
    smtp_response: str = "250 2.6.0 Message received",
    processing_time_ms: int | None = None,
    reporting_mta: str = "a8-70.smtp-out.amazonses.com",
) -> dict[str, Any]:
    """``recipients`` defaults to every destination address."""
    delivered_at = _at(at, sent_at, 5)
    processing = processing_time_ms
    if processing is None:
        processing = max(0, int((delivered_at - sent_at).total_seconds() * 1000))
    return _record(
        "Delivery",
        mail(ses_message_id, destination, sent_at, tags),
        "delivery",
        {
            "timestamp": ses_timestamp(delivered_at),
            "processingTimeMillis": processing,
            "recipients": list(recipients) if recipients is not None else _addresses(destination),
            "smtpResponse": smtp_response,
            "reportingMTA": reporting_mta,
        },
    )


def open_event(
    ses_message_id: str,
    destination: Destination,
    *,
    sent_at: datetime = DEFAULT_SENT_AT,
    at: datetime | None = None,
    tags: Mapping[str, str] | None = None,
    ip: str = "192.0.2.1",
    user_agent: str = DEFAULT_USER_AGENT,
) -> dict[str, Any]:
    return _record(
        "Open",
        mail(ses_message_id, destination, sent_at, tags),
        "open",
        {"ipAddress": ip, "timestamp": ses_timestamp(_at(at, sent_at, 60)), "userAgent": user_agent},
    )


def click_event(
    ses_message_id: str,
    destination: Destination,
    *,
    sent_at: datetime = DEFAULT_SENT_AT,
    at: datetime | None = None,
    tags: Mapping[str, str] | None = None,
    link: str = DEFAULT_LINK,
    link_tags: Mapping[str, Sequence[str]] | None = None,
    ip: str = "192.0.2.1",
    user_agent: str = DEFAULT_USER_AGENT,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ipAddress": ip,
        "link": link,
        "linkTags": {name: list(values) for name, values in (link_tags or {}).items()},
        "timestamp": ses_timestamp(_at(at, sent_at, 90)),
        "userAgent": user_agent,
    }
    return _record("Click", mail(ses_message_id, destination, sent_at, tags), "click", body)


def _bounce_body(
    bounced: Sequence[str],
    *,
    at: datetime,
    bounce_type: str,
    bounce_subtype: str,
    diagnostic_code: str | None,
    status: str | None,
    action: str | None,
    reporting_mta: str | None,
    feedback_id: str,
) -> dict[str, Any]:
    recipients = []
    for address in bounced:
        recipient: dict[str, Any] = {"emailAddress": address}
        if action is not None:
            recipient["action"] = action
        if status is not None:
            recipient["status"] = status
        if diagnostic_code is not None:
            recipient["diagnosticCode"] = diagnostic_code
        recipients.append(recipient)
    body: dict[str, Any] = {
        "bounceType": bounce_type,
        "bounceSubType": bounce_subtype,
        "bouncedRecipients": recipients,
        "timestamp": ses_timestamp(at),
        "feedbackId": feedback_id,
    }
    if reporting_mta is not None:
        body["reportingMTA"] = reporting_mta
    return body


def bounce_event(
    ses_message_id: str,
    destination: Destination,
    *,
    sent_at: datetime = DEFAULT_SENT_AT,
    at: datetime | None = None,
    tags: Mapping[str, str] | None = None,
    bounced: Sequence[str] | None = None,
    bounce_type: str = "Permanent",
    bounce_subtype: str = "General",
    diagnostic_code: str | None = "smtp; 550 5.1.1 user unknown",
    status: str | None = "5.1.1",
    action: str | None = "failed",
    reporting_mta: str | None = "dsn; mta.example.com",
    feedback_id: str | None = None,
) -> dict[str, Any]:
    """``bounced`` defaults to every destination address; ``None`` DSN fields are left out."""
    bounced_at = _at(at, sent_at, 30)
    body = _bounce_body(
        list(bounced) if bounced is not None else _addresses(destination),
        at=bounced_at,
        bounce_type=bounce_type,
        bounce_subtype=bounce_subtype,
        diagnostic_code=diagnostic_code,
        status=status,
        action=action,
        reporting_mta=reporting_mta,
        feedback_id=feedback_id or _feedback_id(ses_message_id, "bounce", bounced_at),
    )
    return _record("Bounce", mail(ses_message_id, destination, sent_at, tags), "bounce", body)


def _complaint_body(
    complained: Sequence[str],
    *,
    at: datetime,
    feedback_type: str | None,
    complaint_subtype: str | None,
    user_agent: str | None,
    arrival_date: datetime | None,
    feedback_id: str,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "complainedRecipients": [{"emailAddress": address} for address in complained],
        "timestamp": ses_timestamp(at),
        "feedbackId": feedback_id,
    }
    if complaint_subtype is not None:
        body["complaintSubType"] = complaint_subtype
    if user_agent is not None:
        body["userAgent"] = user_agent
    if feedback_type is not None:
        body["complaintFeedbackType"] = feedback_type
    if arrival_date is not None:
        body["arrivalDate"] = ses_timestamp(arrival_date)
    return body


def complaint_event(
    ses_message_id: str,
    destination: Destination,
    *,
    sent_at: datetime = DEFAULT_SENT_AT,
    at: datetime | None = None,
    tags: Mapping[str, str] | None = None,
    complained: Sequence[str] | None = None,
    feedback_type: str | None = "abuse",
    complaint_subtype: str | None = None,
    user_agent: str | None = "AnyCompany Feedback Loop (V0.01)",
    arrival_date: datetime | None = None,
    feedback_id: str | None = None,
) -> dict[str, Any]:
    """``complained`` defaults to every destination address; ``arrival_date`` defaults to ``at``."""
    complained_at = _at(at, sent_at, 3600)
    body = _complaint_body(
        list(complained) if complained is not None else _addresses(destination),
        at=complained_at,
        feedback_type=feedback_type,
        complaint_subtype=complaint_subtype,
        user_agent=user_agent,
        arrival_date=arrival_date if arrival_date is not None else complained_at,
        feedback_id=feedback_id or _feedback_id(ses_message_id, "complaint", complained_at),
    )
    return _record("Complaint", mail(ses_message_id, destination, sent_at, tags), "complaint", body)


def reject_event(
    ses_message_id: str,
    destination: Destination,
    *,
    sent_at: datetime = DEFAULT_SENT_AT,
    tags: Mapping[str, str] | None = None,
    reason: str = "Bad content",
) -> dict[str, Any]:
    return _record("Reject", mail(ses_message_id, destination, sent_at, tags), "reject", {"reason": reason})


def rendering_failure_event(
    ses_message_id: str,
    destination: Destination,
    *,
    sent_at: datetime = DEFAULT_SENT_AT,
    tags: Mapping[str, str] | None = None,
    error_message: str = "Attribute 'attributeName' is not present in the rendering data.",
    template_name: str = "MyTemplate",
) -> dict[str, Any]:
    """Like the guide's example, the ``mail`` object carries no headers (the message was never rendered)."""
    mail_obj = mail(ses_message_id, destination, sent_at, tags)
    for key in ("headers", "commonHeaders"):
        del mail_obj[key]
    return _record(
        "Rendering Failure",
        mail_obj,
        "failure",
        {"errorMessage": error_message, "templateName": template_name},
    )


def delivery_delay_event(
    ses_message_id: str,
    destination: Destination,
    *,
    sent_at: datetime = DEFAULT_SENT_AT,
    at: datetime | None = None,
    tags: Mapping[str, str] | None = None,
    delayed: Sequence[str] | None = None,
    delay_type: str = "TransientCommunicationFailure",
    status: str = "4.4.1",
    diagnostic_code: str = "smtp; 421 4.4.1 Unable to connect to remote host",
    expiration_time: datetime | None = None,
) -> dict[str, Any]:
    """``delayed`` defaults to every destination address; expiration defaults to ``sent_at`` + 14 h."""
    delayed_at = _at(at, sent_at, 600)
    expires = expiration_time if expiration_time is not None else sent_at + timedelta(hours=14)
    return _record(
        "DeliveryDelay",
        mail(ses_message_id, destination, sent_at, tags),
        "deliveryDelay",
        {
            "timestamp": ses_timestamp(delayed_at),
            "delayType": delay_type,
            "expirationTime": ses_timestamp(expires),
            "delayedRecipients": [
                {"emailAddress": address, "status": status, "diagnosticCode": diagnostic_code}
                for address in (list(delayed) if delayed is not None else _addresses(destination))
            ],
        },
    )


def subscription_event(
    ses_message_id: str,
    destination: Destination,
    *,
    sent_at: datetime = DEFAULT_SENT_AT,
    at: datetime | None = None,
    tags: Mapping[str, str] | None = None,
    contact_list: str = "ContactListName",
    source: str = "UnsubscribeHeader",
    topic_name: str = "ExampleTopicName",
    unsubscribe_all: bool = True,
    previously_unsubscribed_all: bool = False,
    subscription_status: str = "OptOut",
) -> dict[str, Any]:
    def preferences(unsubscribed: bool) -> dict[str, Any]:
        return {
            "unsubscribeAll": unsubscribed,
            "topicSubscriptionStatus": [{"topicName": topic_name, "subscriptionStatus": subscription_status}],
        }

    return _record(
        "Subscription",
        mail(ses_message_id, destination, sent_at, tags),
        "subscription",
        {
            "contactList": contact_list,
            "timestamp": ses_timestamp(_at(at, sent_at, 120)),
            "source": source,
            "newTopicPreferences": preferences(unsubscribe_all),
            "oldTopicPreferences": preferences(previously_unsubscribed_all),
        },
    )


# --- identity feedback notifications (notificationType; no tags) -------------


def notification_mail(
    ses_message_id: str,
    destination: Destination,
    sent_at: datetime = DEFAULT_SENT_AT,
    *,
    source: str = SENDER,
) -> dict[str, Any]:
    """The ``mail`` object of an identity notification: ``sourceIp``, no ``tags``."""
    mail_obj = mail(ses_message_id, destination, sent_at, None, source=source)
    del mail_obj["tags"]
    mail_obj["sourceIp"] = "127.0.3.0"
    return mail_obj


def notification_bounce(
    ses_message_id: str,
    destination: Destination,
    *,
    sent_at: datetime = DEFAULT_SENT_AT,
    at: datetime | None = None,
    bounced: Sequence[str] | None = None,
    bounce_type: str = "Permanent",
    bounce_subtype: str = "General",
    diagnostic_code: str | None = "smtp; 550 5.1.1 user unknown",
    status: str | None = "5.1.1",
    action: str | None = "failed",
    reporting_mta: str | None = "dsn; mta.example.com",
    feedback_id: str | None = None,
) -> dict[str, Any]:
    bounced_at = _at(at, sent_at, 30)
    body = _bounce_body(
        list(bounced) if bounced is not None else _addresses(destination),
        at=bounced_at,
        bounce_type=bounce_type,
        bounce_subtype=bounce_subtype,
        diagnostic_code=diagnostic_code,
        status=status,
        action=action,
        reporting_mta=reporting_mta,
        feedback_id=feedback_id or _feedback_id(ses_message_id, "bounce", bounced_at),
    )
    body["remoteMtaIp"] = "127.0.2.0"
    return {
        "notificationType": "Bounce",
        "bounce": body,
        "mail": notification_mail(ses_message_id, destination, sent_at),
    }


def notification_complaint(
    ses_message_id: str,
    destination: Destination,
    *,
    sent_at: datetime = DEFAULT_SENT_AT,
    at: datetime | None = None,
    complained: Sequence[str] | None = None,
    feedback_type: str | None = "abuse",
    complaint_subtype: str | None = None,
    user_agent: str | None = "AnyCompany Feedback Loop (V0.01)",
    arrival_date: datetime | None = None,
    feedback_id: str | None = None,
) -> dict[str, Any]:
    complained_at = _at(at, sent_at, 3600)
    body = _complaint_body(
        list(complained) if complained is not None else _addresses(destination),
        at=complained_at,
        feedback_type=feedback_type,
        complaint_subtype=complaint_subtype,
        user_agent=user_agent,
        arrival_date=arrival_date if arrival_date is not None else complained_at,
        feedback_id=feedback_id or _feedback_id(ses_message_id, "complaint", complained_at),
    )
    return {
        "notificationType": "Complaint",
        "complaint": body,
        "mail": notification_mail(ses_message_id, destination, sent_at),
    }


def notification_delivery(
    ses_message_id: str,
    destination: Destination,
    *,
    sent_at: datetime = DEFAULT_SENT_AT,
    at: datetime | None = None,
    recipients: Sequence[str] | None = None,
    smtp_response: str = "250 ok:  Message 64111812 accepted",
    processing_time_ms: int = 546,
    reporting_mta: str = "a8-70.smtp-out.amazonses.com",
) -> dict[str, Any]:
    return {
        "notificationType": "Delivery",
        "mail": notification_mail(ses_message_id, destination, sent_at),
        "delivery": {
            "timestamp": ses_timestamp(_at(at, sent_at, 5)),
            "recipients": list(recipients) if recipients is not None else _addresses(destination),
            "processingTimeMillis": processing_time_ms,
            "reportingMTA": reporting_mta,
            "smtpResponse": smtp_response,
            "remoteMtaIp": "127.0.2.0",
        },
    }


# --- SNS and SQS / Lambda shapes -------------------------------------------------


def sns_wrap(
    event: Mapping[str, Any],
    message_id: str | None = None,
    *,
    topic_arn: str = TOPIC_ARN,
    published_at: datetime | None = None,
) -> dict[str, Any]:
    """The SNS ``Notification`` JSON (raw message delivery off); ``event`` is JSON-encoded in ``Message``."""
    sns_message_id = message_id or str(uuid.uuid4())
    when = published_at if published_at is not None else datetime.now(UTC)
    return {
        "Type": "Notification",
        "MessageId": sns_message_id,
        "TopicArn": topic_arn,
        "Message": json.dumps(event),
        "Timestamp": ses_timestamp(when),
        "SignatureVersion": "1",
        "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N85==",
        "SigningCertURL": f"https://sns.{REGION}.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
        "UnsubscribeURL": (
            f"https://sns.{REGION}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={topic_arn}:"
            "c9135db0-26c4-47ec-8998-413945fb5a96"
        ),
    }


def sns_body(event: Mapping[str, Any], message_id: str | None = None) -> str:
    """``json.dumps(sns_wrap(event))``: what an SQS record body holds for an SES event."""
    return json.dumps(sns_wrap(event, message_id))


def sqs_record(
    body: str,
    message_id: str | None = None,
    receive_count: int = 1,
    *,
    queue_arn: str = QUEUE_ARN,
    sent_at: datetime | None = None,
) -> dict[str, Any]:
    """One element of ``Records`` in the event Lambda receives from an SQS event source mapping."""
    sent = sent_at if sent_at is not None else datetime.now(UTC)
    sent_ms = str(int(sent.timestamp() * 1000))
    sqs_message_id = message_id or str(uuid.uuid4())
    return sqs_lambda_record(
        sqs_message_id,
        body,
        queue_arn=queue_arn,
        receipt_handle="AQEB" + hashlib.sha256(f"{sqs_message_id}:{receive_count}".encode()).hexdigest(),
        attributes={
            "ApproximateReceiveCount": receive_count,
            "SentTimestamp": sent_ms,
            "SenderId": "AIDAIT2UOQQY3AUEKVGXU",
            "ApproximateFirstReceiveTimestamp": sent_ms,
        },
    )


def sqs_event(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The whole Lambda event for a batch of SQS records."""
    return {"Records": [dict(record) for record in records]}
