"""Writing messages and their recipients (the send path's first step).

Order and retries (``put_message``): the content item; the message header, with zero counts and
without its list keys; every recipient; then the header's list keys. The projector counts each
recipient from its creation on the table's stream (tracker.logic.projector), so the header must
exist before its recipients; a crash part-way leaves a header no list shows. Re-running the same
call rewrites the same items: the recipient writes are plain puts of the initial state, which is
safe because nothing else writes these recipients before their send jobs are queued, and that
happens only after this returns (a put that changes nothing makes no stream record, and one that
does changes no tally); the header is written only if absent, so a repeat never resets its counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import PutError

from tracker import constants
from tracker.dal import keys
from tracker.dal.models import MessageContentItem, MessageItem, RecipientItem
from tracker.dal.recipients import write_facts
from tracker.dal.support import is_condition_failure, store_errors
from tracker.domain.facts import RecipientFacts
from tracker.domain.ids import normalize_email
from tracker.domain.links import MessageLink
from tracker.domain.messages import MessageContent, PlannedMessage
from tracker.domain.retention import DEFAULT_RETENTION, Retention
from tracker.domain.status import Status
from tracker.domain.tracking import Tracking


@dataclass(frozen=True)
class NewMessage:
    tenant_id: str
    message_id: str
    kind: str
    subject: str
    created_at: datetime
    invoice_id: str | None = None
    payment_id: str | None = None
    created_by: str | None = None
    resent_from: MessageLink | None = None
    tracking: Tracking = Tracking.ON


@dataclass(frozen=True)
class NewRecipient:
    recipient_id: str
    customer_id: str
    email: str
    name: str | None = None
    send_outcome: Status = Status.QUEUED
    send_outcome_reason: str | None = None
    ses_message_id: str | None = None


def _document_key(message: NewMessage) -> str | None:
    if message.invoice_id:
        return keys.invoice_pk(message.tenant_id, message.invoice_id)
    if message.payment_id:
        return keys.payment_pk(message.tenant_id, message.payment_id)
    return None


def message_item(
    message: NewMessage, recipients: Sequence[NewRecipient], retention: Retention = DEFAULT_RETENTION
) -> MessageItem:
    """The complete header (``header_item`` and its ``list_keys``)."""
    item = header_item(message, recipients, retention)
    for name, value in list_keys(message).items():
        setattr(item, name, value)
    return item


def list_keys(message: NewMessage) -> dict[str, str | None]:
    """The header's keys in the messages lists (and an invoice's or payment's log)."""
    list_sk = keys.message_list_sk(message.created_at, message.message_id)
    document = _document_key(message)
    return {
        "gsi1pk": keys.messages_pk(message.tenant_id),
        "gsi1sk": list_sk,
        "gsi2pk": keys.messages_by_kind_pk(message.tenant_id, message.kind),
        "gsi2sk": list_sk,
        "gsi3pk": document,
        "gsi3sk": keys.document_sk(message.created_at, message.message_id, keys.MESSAGE_SK)
        if document
        else None,
    }


def header_item(
    message: NewMessage, recipients: Sequence[NewRecipient] | int, retention: Retention = DEFAULT_RETENTION
) -> MessageItem:
    """The header as first written: zero counts (the projector counts the recipients), no list keys."""
    pk = keys.message_pk(message.tenant_id, message.message_id)
    return MessageItem(
        pk,
        keys.MESSAGE_SK,
        tenant_id=message.tenant_id,
        message_id=message.message_id,
        kind=message.kind,
        subject=message.subject,
        created_at=keys.iso(message.created_at),
        recipient_count=recipients if isinstance(recipients, int) else len(recipients),
        invoice_id=message.invoice_id,
        payment_id=message.payment_id,
        created_by=message.created_by,
        projected={},
        expires_at=retention.message_expiry(message.created_at),
        attention={},
        resent_from=(
            {"message_id": message.resent_from.message_id, "recipient_id": message.resent_from.recipient_id}
            if message.resent_from
            else None
        ),
        tracking=None if message.tracking is Tracking.ON else message.tracking.value,
    )


def recipient_item(
    message: NewMessage,
    recipient: NewRecipient,
    retention: Retention = DEFAULT_RETENTION,
    listed: bool = False,
) -> RecipientItem:
    pk = keys.message_pk(message.tenant_id, message.message_id)
    sk = keys.recipient_sk(recipient.recipient_id)
    document = _document_key(message)
    item = RecipientItem(
        pk,
        sk,
        customer_id=recipient.customer_id,
        email=normalize_email(recipient.email),
        name=recipient.name,
        kind=message.kind,
        gsi1pk=keys.customer_pk(message.tenant_id, recipient.customer_id),
        gsi1sk=keys.customer_sk(message.created_at),
        gsi3pk=document,
        gsi3sk=keys.document_recipient_sk(message.created_at, message.message_id) if document else None,
        expires_at=retention.recipient_expiry(message.created_at),
        attention_listed=True if listed else None,
    )
    if recipient.ses_message_id:
        set_ses_message_id(item, recipient.ses_message_id)
    write_facts(
        item,
        RecipientFacts(
            send_outcome=recipient.send_outcome, send_outcome_reason=recipient.send_outcome_reason
        ),
    )
    return item


def set_ses_message_id(item: RecipientItem, ses_message_id: str) -> None:
    """The lookup key of SES events without our tags (access pattern 9)."""
    item.gsi2pk = keys.ses_lookup_pk(ses_message_id)
    item.gsi2sk = keys.RECIPIENT_INDEX_SK


def content_item(
    message: NewMessage, content: MessageContent, retention: Retention = DEFAULT_RETENTION
) -> MessageContentItem:
    return MessageContentItem(
        keys.message_pk(message.tenant_id, message.message_id),
        keys.CONTENT_SK,
        tenant_id=message.tenant_id,
        message_id=message.message_id,
        subject=content.subject,
        text=content.text or None,
        html=content.html or None,
        expires_at=retention.content_expiry(message.created_at),
    )


def put_message(
    message: NewMessage,
    recipients: Sequence[NewRecipient],
    content: MessageContent | None = None,
    retention: Retention = DEFAULT_RETENTION,
) -> None:
    """Content, header, recipients, then the header's list keys (see above)."""
    with store_errors("create message"):
        header = put_header(message, recipients, content, retention)
        write_recipients(message, recipients, len(recipients) <= constants.LISTED_RECIPIENTS_MAX, retention)
        list_message(header, message)


def put_header(
    message: NewMessage,
    recipients: Sequence[NewRecipient] | int,
    content: MessageContent | None = None,
    retention: Retention = DEFAULT_RETENTION,
) -> MessageItem:
    """The content and the header without list keys; a header already there is kept."""
    if content is not None:
        content_item(message, content, retention).save()
    header = header_item(message, recipients, retention)
    try:
        header.save(condition=MessageItem.pk.does_not_exist())
    except PutError as error:
        if not is_condition_failure(error):
            raise  # store_errors makes it transient
        # Written by an earlier run of this same call: keep it (its counts may have moved since).
    return header


def write_recipients(
    message: NewMessage,
    recipients: Sequence[NewRecipient],
    listed: bool,
    retention: Retention = DEFAULT_RETENTION,
) -> None:
    with RecipientItem.batch_write() as batch:  # 25 items a request; unprocessed ones are retried
        for recipient in recipients:
            batch.save(recipient_item(message, recipient, retention, listed))


def list_message(header: MessageItem, message: NewMessage) -> None:
    header.update(
        actions=[getattr(MessageItem, name).set(value) for name, value in list_keys(message).items() if value]
    )


def content_of(item: MessageContentItem) -> MessageContent:
    return MessageContent(subject=item.subject, text=item.text, html=item.html)


def load_content(tenant_id: str, message_id: str) -> MessageContent | None:
    with store_errors("load message content"):
        try:
            item = MessageContentItem.get(
                keys.message_pk(tenant_id, message_id), keys.CONTENT_SK, consistent_read=True
            )
        except MessageContentItem.DoesNotExist:
            return None
    return content_of(item)


class DynamoMessageStore:
    """logic.ports.MessageStore on the single table."""

    def __init__(self, retention: Retention = DEFAULT_RETENTION) -> None:
        self._retention = retention

    def create(self, message: PlannedMessage) -> None:
        put_message(
            NewMessage(
                tenant_id=message.tenant_id,
                message_id=message.message_id,
                kind=message.kind,
                subject=message.content.subject,
                created_at=message.created_at,
                invoice_id=message.invoice_id,
                payment_id=message.payment_id,
                created_by=message.created_by,
                resent_from=message.resent_from,
                tracking=message.tracking,
            ),
            [
                NewRecipient(
                    recipient_id=r.recipient_id,
                    customer_id=r.customer_id,
                    email=r.email,
                    name=r.name,
                    send_outcome=r.status,
                    send_outcome_reason=r.reason,
                )
                for r in message.recipients
            ],
            message.content,
            self._retention,
        )
