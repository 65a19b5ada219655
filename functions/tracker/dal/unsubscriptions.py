"""Unsubscriptions on the address's suppression item (``T#{t}#SUP#{email}`` / ``#SUPPRESSION``).

The send path already reads that item for every address (one BatchGetItem per 100), so an email's
check for unsubscribed addresses costs no extra request. The attributes are apart from the
suppression record's and every write here is an ``UpdateItem`` of them alone, so it never races
the record's version-conditioned writes (and leaves ``version`` as it is). Each write only moves
its time later (``unsubscribed_at`` / ``resubscribed_at``): an SES event replayed, a second POST of
the one-click link or a resubscription applied twice change nothing, in any order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from tracker.dal import keys
from tracker.dal.models import RecipientItem, SuppressionItem
from tracker.dal.support import is_condition_failure, store_errors
from tracker.domain.records import RecipientKey
from tracker.domain.suppression import Address
from tracker.domain.unsubscribe import Unsubscription


def unsubscription_of(item: SuppressionItem) -> Unsubscription | None:
    """The address's unsubscription (active or lifted); None if it never unsubscribed."""
    if item.unsubscribed_at is None:
        return None
    return Unsubscription(
        tenant_id=item.tenant_id or "",
        email=item.email,
        unsubscribed_at=keys.parse_iso(item.unsubscribed_at),
        source=item.unsubscribed_source,
        message_id=item.unsubscribed_message,
        recipient_id=item.unsubscribed_recipient,
        resubscribed_at=keys.parse_iso(item.resubscribed_at) if item.resubscribed_at else None,
        resubscribed_by=item.resubscribed_by,
    )


def _key(address: Address) -> SuppressionItem:
    return SuppressionItem(keys.suppression_pk(address.tenant_id, address.email), keys.SUPPRESSION_SK)


def _set_or_remove(attribute: Any, value: str | None) -> Action:
    action: Action = attribute.set(value) if value else attribute.remove()
    return action


class DynamoUnsubscriptionStore:
    """logic.ports.UnsubscriptionStore on the single table."""

    def unsubscribe(
        self,
        address: Address,
        at: datetime,
        source: str,
        message_id: str | None,
        recipient_id: str | None,
    ) -> bool:
        """Record an unsubscription at ``at`` unless a later one is recorded; False when one was."""
        item = _key(address)
        when = keys.iso(at)
        with store_errors("record unsubscription"):
            try:
                item.update(
                    actions=[
                        SuppressionItem.item_type.set(SuppressionItem),
                        SuppressionItem.tenant_id.set(address.tenant_id),
                        SuppressionItem.email.set(address.email),
                        SuppressionItem.unsubscribed_at.set(when),
                        SuppressionItem.unsubscribed_source.set(source),
                        _set_or_remove(SuppressionItem.unsubscribed_message, message_id),
                        _set_or_remove(SuppressionItem.unsubscribed_recipient, recipient_id),
                    ],
                    condition=SuppressionItem.unsubscribed_at.does_not_exist()
                    | (SuppressionItem.unsubscribed_at < when),
                )
            except UpdateError as error:
                if is_condition_failure(error):
                    return False
                raise
        return True

    def resubscribe(self, address: Address, at: datetime, actor: str) -> Unsubscription | None:
        """Lift an active unsubscription; None when the address is not unsubscribed."""
        item = _key(address)
        when = keys.iso(at)
        with store_errors("resubscribe"):
            try:
                item.update(
                    actions=[
                        SuppressionItem.resubscribed_at.set(when),
                        SuppressionItem.resubscribed_by.set(actor),
                    ],
                    condition=SuppressionItem.unsubscribed_at.exists()
                    & (
                        SuppressionItem.resubscribed_at.does_not_exist()
                        | (SuppressionItem.resubscribed_at < SuppressionItem.unsubscribed_at)
                    )
                    & (SuppressionItem.unsubscribed_at < when),
                )
            except UpdateError as error:
                if is_condition_failure(error):
                    return None
                raise
        return unsubscription_of(item)

    def get(self, address: Address) -> Unsubscription | None:
        with store_errors("read unsubscription"):
            try:
                item = SuppressionItem.get(
                    keys.suppression_pk(address.tenant_id, address.email),
                    keys.SUPPRESSION_SK,
                    consistent_read=True,
                )
            except SuppressionItem.DoesNotExist:
                return None
        return unsubscription_of(item)


class DynamoRecipientAddresses:
    """logic.ports.RecipientAddresses: a recipient item's address (one GetItem of its keys' item)."""

    def address_of(self, key: RecipientKey) -> str | None:
        with store_errors("read recipient address"):
            try:
                item = RecipientItem.get(
                    keys.message_pk(key.tenant_id, key.message_id),
                    keys.recipient_sk(key.recipient_id),
                    attributes_to_get=["email"],
                )
            except RecipientItem.DoesNotExist:
                return None
        return item.email
