"""Writing messages and their recipients (the send path's first step).

Order and retries (``put_message``): the content item, then every recipient, then the message
item with its initial per-status counts **last**. A crash part-way leaves recipients without a
message header, never a header whose counts disagree with its recipients, and the message only
appears in lists once it is complete. Re-running the same call rewrites the same items: the
recipient writes are plain puts of the initial state, which is safe because nothing else writes
these recipients before their send jobs are queued, and that happens only after this returns; the
header is written only if absent, so a repeated call never resets counts that moved meanwhile.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import PutError

from tracker.dal import keys
from tracker.dal.models import MessageContentItem, MessageItem, RecipientItem
from tracker.dal.recipients import write_facts
from tracker.dal.support import is_condition_failure, store_errors
from tracker.domain.facts import RecipientFacts
from tracker.domain.ids import normalize_email
from tracker.domain.messages import MessageContent, PlannedMessage
from tracker.domain.status import Status


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


def message_item(message: NewMessage, recipients: Sequence[NewRecipient]) -> MessageItem:
    pk = keys.message_pk(message.tenant_id, message.message_id)
    list_sk = keys.message_list_sk(message.created_at, message.message_id)
    document = _document_key(message)
    item = MessageItem(
        pk,
        keys.MESSAGE_SK,
        tenant_id=message.tenant_id,
        message_id=message.message_id,
        kind=message.kind,
        subject=message.subject,
        created_at=keys.iso(message.created_at),
        recipient_count=len(recipients),
        invoice_id=message.invoice_id,
        payment_id=message.payment_id,
        created_by=message.created_by,
        gsi1pk=keys.messages_pk(message.tenant_id),
        gsi1sk=list_sk,
        gsi2pk=keys.messages_by_kind_pk(message.tenant_id, message.kind),
        gsi2sk=list_sk,
        gsi3pk=document,
        gsi3sk=keys.document_sk(message.created_at, message.message_id, keys.MESSAGE_SK)
        if document
        else None,
    )
    item.set_counts(dict(Counter(r.send_outcome for r in recipients)))
    return item


def recipient_item(message: NewMessage, recipient: NewRecipient) -> RecipientItem:
    pk = keys.message_pk(message.tenant_id, message.message_id)
    sk = keys.recipient_sk(recipient.recipient_id)
    document = _document_key(message)
    item = RecipientItem(
        pk,
        sk,
        tenant_id=message.tenant_id,
        message_id=message.message_id,
        recipient_id=recipient.recipient_id,
        customer_id=recipient.customer_id,
        email=normalize_email(recipient.email),
        name=recipient.name,
        kind=message.kind,
        subject=message.subject,
        message_created_at=keys.iso(message.created_at),
        invoice_id=message.invoice_id,
        payment_id=message.payment_id,
        ses_message_id=recipient.ses_message_id,
        gsi1pk=keys.customer_pk(message.tenant_id, recipient.customer_id),
        gsi1sk=keys.customer_sk(message.created_at, message.message_id, recipient.recipient_id),
        gsi2pk=keys.ses_lookup_pk(recipient.ses_message_id) if recipient.ses_message_id else None,
        gsi2sk=sk if recipient.ses_message_id else None,
        gsi3pk=document,
        gsi3sk=keys.document_sk(message.created_at, message.message_id, sk) if document else None,
    )
    write_facts(
        item,
        RecipientFacts(
            send_outcome=recipient.send_outcome, send_outcome_reason=recipient.send_outcome_reason
        ),
    )
    return item


def content_item(message: NewMessage, content: MessageContent) -> MessageContentItem:
    return MessageContentItem(
        keys.message_pk(message.tenant_id, message.message_id),
        keys.CONTENT_SK,
        tenant_id=message.tenant_id,
        message_id=message.message_id,
        subject=content.subject,
        text=content.text or None,
        html=content.html or None,
    )


def put_message(
    message: NewMessage, recipients: Sequence[NewRecipient], content: MessageContent | None = None
) -> None:
    """Write the content, then the recipients, then the message with its initial counts (see above)."""
    with store_errors("create message"):
        if content is not None:
            content_item(message, content).save()
        with RecipientItem.batch_write() as batch:  # 25 items a request; unprocessed ones are retried
            for recipient in recipients:
                batch.save(recipient_item(message, recipient))
        try:
            message_item(message, recipients).save(condition=MessageItem.pk.does_not_exist())
        except PutError as error:
            if not is_condition_failure(error):
                raise  # store_errors makes it transient
            # Written by an earlier run of this same call: keep it (its counts may have moved since).


def load_content(tenant_id: str, message_id: str) -> MessageContent | None:
    with store_errors("load message content"):
        try:
            item = MessageContentItem.get(
                keys.message_pk(tenant_id, message_id), keys.CONTENT_SK, consistent_read=True
            )
        except MessageContentItem.DoesNotExist:
            return None
    return MessageContent(subject=item.subject, text=item.text, html=item.html)


class DynamoMessageStore:
    """logic.ports.MessageStore on the single table."""

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
        )
