"""The owner's actions on a recipient (logic.ports.RecipientActions): resend links and dismissals.

Each is an UpdateItem of the recipient item that sets its mark (``resent_as`` / ``dismissed``)
only while there is none, and bumps ``version``: every other writer of a recipient (ingest, the
sender) puts the whole item conditioned on the version it read, so it conflicts, re-reads the item
with the mark and keeps it. The change reaches the projector on the stream like any other, which
takes the recipient off its message's attention entries.
"""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from tracker.dal import keys
from tracker.dal.messages import content_of
from tracker.dal.models import MessageContentItem, MessageItem, RecipientItem, TrackerItem
from tracker.dal.queries import dismissal, resend_link
from tracker.dal.support import fetch_items, is_condition_failure, store_errors
from tracker.domain.attention import ResendSource
from tracker.domain.errors import TransientStoreError
from tracker.domain.links import Dismissal, ResendLink
from tracker.domain.records import RecipientKey

ATTEMPTS = 5


def _key(key: RecipientKey) -> tuple[str, str]:
    return keys.message_pk(key.tenant_id, key.message_id), keys.recipient_sk(key.recipient_id)


def _resend_json(link: ResendLink) -> dict[str, Any]:
    return {
        "message_id": link.message_id,
        "recipient_id": link.recipient_id,
        "at": keys.iso(link.at),
        "by": link.by,
    }


def _read(key: RecipientKey) -> RecipientItem | None:
    with store_errors("read recipient"):
        try:
            return RecipientItem.get(*_key(key), consistent_read=True)
        except DoesNotExist:
            return None


def _updated(item: RecipientItem, actions: list[Any], action: str) -> bool:
    """Update the item as read (PynamoDB conditions it on the version read and bumps it); False
    when it changed since (read it again)."""
    try:
        item.update(actions=actions)
    except UpdateError as error:
        if is_condition_failure(error):
            return False
        raise TransientStoreError(f"{action}: {error}") from error
    return True


class DynamoRecipientActions:
    def resend_source(self, tenant_id: str, message_id: str, recipient_id: str) -> ResendSource | None:
        pk = keys.message_pk(tenant_id, message_id)
        # Header, recipient and content in one request (the content was written with the message).
        wanted = [(pk, keys.MESSAGE_SK), (pk, keys.recipient_sk(recipient_id)), (pk, keys.CONTENT_SK)]
        items = fetch_items(TrackerItem, wanted, "read resend source")
        header, recipient, stored = (items.get(key) for key in wanted)
        if not (isinstance(header, MessageItem) and isinstance(recipient, RecipientItem)):
            return None
        return ResendSource(
            customer_id=recipient.customer_id,
            email=recipient.email,
            name=recipient.name,
            kind=header.kind,
            content=content_of(stored) if isinstance(stored, MessageContentItem) else None,
            invoice_id=header.invoice_id,
            payment_id=header.payment_id,
            resent_as=resend_link(recipient.resent_as),
        )

    def claim_resend(self, key: RecipientKey, link: ResendLink) -> ResendLink | None:
        for _ in range(ATTEMPTS):
            item = _read(key)
            if item is None:
                return None
            if item.resent_as:
                return resend_link(item.resent_as)
            if _updated(item, [RecipientItem.resent_as.set(_resend_json(link))], "record resend"):
                return None
        raise TransientStoreError("the recipient kept changing; retry")

    def release_resend(self, key: RecipientKey, link: ResendLink) -> None:
        for _ in range(ATTEMPTS):
            item = _read(key)
            if item is None or resend_link(item.resent_as) != link:
                return
            if _updated(item, [RecipientItem.resent_as.remove()], "release resend"):
                return

    def dismiss(self, key: RecipientKey, dismissal_: Dismissal) -> Dismissal | None:
        for _ in range(ATTEMPTS):
            item = _read(key)
            if item is None:
                return None
            if item.dismissed:
                return dismissal(item.dismissed)
            value = {"at": keys.iso(dismissal_.at), "by": dismissal_.by}
            if _updated(item, [RecipientItem.dismissed.set(value)], "record dismissal"):
                return dismissal(value)
        raise TransientStoreError("the recipient kept changing; retry")
