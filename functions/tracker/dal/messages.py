"""Writing messages and their recipients (the send path's first step)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tracker.dal import keys
from tracker.dal.ingest_store import store_errors
from tracker.dal.models import MessageItem, RecipientItem
from tracker.dal.recipients import write_facts
from tracker.domain.facts import RecipientFacts
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
        email=recipient.email.lower(),
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


def put_message(message: NewMessage, recipients: Sequence[NewRecipient]) -> None:
    """Write the message (with its initial per-status counts) and then its recipients."""
    with store_errors("create message"):
        message_item(message, recipients).save()
        with RecipientItem.batch_write() as batch:
            for recipient in recipients:
                batch.save(recipient_item(message, recipient))
