"""Resend and dismiss (``POST /messages/{id}/recipients/{rid}/resend`` and ``/dismiss``).

A resend is a new message through the one creation path (MessageService): the same kind, content
and invoice or payment id, to that customer alone, at the address given or the old one. It is
linked both ways: the old recipient gets ``resent_as`` (by whom, when) and the new message
``resent_from``. The link is claimed first, with the new message's id chosen beforehand, so two
resends of one recipient cannot both send; if the message cannot be created the claim is released.
Either action takes the recipient off the attention queue (the projector sees its change).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from tracker.domain.errors import (
    AddressSuppressedError,
    AlreadyResentError,
    ContentExpiredError,
    NotFoundError,
)
from tracker.domain.ids import new_message_id, normalize_email, recipient_id
from tracker.domain.links import Dismissal, MessageLink, ResendLink
from tracker.domain.messages import CreatedMessage, MessageDraft, RecipientDraft
from tracker.domain.records import RecipientKey
from tracker.logic.creation import MessageService
from tracker.logic.ports import RecipientActions, SuppressionCheck


class RecipientActionService:
    def __init__(
        self,
        actions: RecipientActions,
        messages: MessageService,
        suppressions: SuppressionCheck,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._actions = actions
        self._messages = messages
        self._suppressions = suppressions
        self._clock = clock

    def resend(
        self, tenant_id: str, actor: str, message_id: str, old_recipient: str, email: str | None = None
    ) -> CreatedMessage:
        source = self._actions.resend_source(tenant_id, message_id, old_recipient)
        if source is None:
            raise NotFoundError("recipient not found")
        if source.content is None:
            raise ContentExpiredError(
                "this message's content is no longer kept (it expires CONTENT_RETENTION_DAYS after "
                "the message was created): send a new message with POST /messages instead"
            )
        if source.resent_as is not None:
            raise AlreadyResentError(
                f"this recipient was already resent as message {source.resent_as.message_id}"
            )
        address = normalize_email(email or source.email)
        suppressed = self._suppressions.active_reasons(tenant_id, [address])
        if suppressed:
            raise AddressSuppressedError(
                f"{address} is suppressed ({suppressed[address]}): lift the suppression first with "
                f"DELETE /suppressions/{address}, or resend to another address"
            )
        now = self._clock()
        link = ResendLink(new_message_id(now), recipient_id(0), now, actor)
        key = RecipientKey(tenant_id, message_id, old_recipient)
        earlier = self._actions.claim_resend(key, link)
        if earlier is not None:
            raise AlreadyResentError(f"this recipient was already resent as message {earlier.message_id}")
        draft = MessageDraft(
            kind=source.kind,
            content=source.content,
            recipients=(RecipientDraft(source.customer_id, address, source.name),),
            invoice_id=source.invoice_id,
            payment_id=source.payment_id,
        )
        try:
            return self._messages.create(
                tenant_id,
                actor,
                draft,
                message_id=link.message_id,
                resent_from=MessageLink(message_id, old_recipient),
            )
        except BaseException:
            self._actions.release_resend(key, link)
            raise

    def dismiss(self, tenant_id: str, actor: str, message_id: str, recipient: str) -> Dismissal:
        dismissal = self._actions.dismiss(
            RecipientKey(tenant_id, message_id, recipient), Dismissal(self._clock(), actor)
        )
        if dismissal is None:
            raise NotFoundError("recipient not found")
        return dismissal
