"""One-click unsubscribe of ``email`` messages, and resubscribing (docs/unsubscribe.md).

Three ways in, one record per tenant and address (``UnsubscriptionStore``):

* the link in an email's ``List-Unsubscribe`` header: the mail client POSTs to it (RFC 8058), or the
  customer opens it and presses the button of its page (``unsubscribe``, from the signed token);
* SES ``Subscription`` events (when SES's own subscription management is used for a message): the
  projector hands the opt-outs it finds on the recipients' changes to ``record_events``;
* resubscribing through the API (``resubscribe``), which the business does when the customer asks.

Only ``email`` messages are held back by it (``SuppressionService.active_reasons``): invoices and
receipts always go out.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime

from tracker.domain.errors import NotFoundError
from tracker.domain.ids import normalize_email
from tracker.domain.records import RecipientKey
from tracker.domain.suppression import Address
from tracker.domain.unsubscribe import UnsubscribeEvent, Unsubscription, verify
from tracker.logic.ports import RecipientAddresses, UnsubscriptionStore

ONE_CLICK = "one_click"  # the mail client's POST of List-Unsubscribe=One-Click
LINK_PAGE = "link_page"  # the customer pressed the button of the link's page
INVALID_LINK = "this unsubscribe link is not valid"


class UnsubscribeService:
    def __init__(
        self,
        store: UnsubscriptionStore,
        recipients: RecipientAddresses,
        key: Callable[[], bytes],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._recipients = recipients
        self._key = key
        self._clock = clock

    def recipient_of(self, token: str) -> RecipientKey:
        """The recipient a link names; NotFoundError for a link we did not sign."""
        recipient = verify(self._key(), token)
        if recipient is None:
            raise NotFoundError(INVALID_LINK)
        return recipient

    def unsubscribe(self, token: str, source: str = ONE_CLICK) -> RecipientKey:
        """Unsubscribe the address the link was sent to from its tenant's emails (idempotent)."""
        recipient = self.recipient_of(token)
        email = self._recipients.address_of(recipient)
        if email is None:
            raise NotFoundError("the email this link came with is no longer stored")
        self._store.unsubscribe(
            Address(recipient.tenant_id, normalize_email(email)),
            self._clock(),
            source,
            recipient.message_id,
            recipient.recipient_id,
        )
        return recipient

    def record_events(self, events: Mapping[Address, Collection[UnsubscribeEvent]]) -> None:
        """The projector's opt-outs: the latest per address (an earlier one changes nothing)."""
        for address, found in events.items():
            if not found:
                continue
            latest = max(found, key=lambda event: event.at)
            self._store.unsubscribe(
                Address(address.tenant_id, normalize_email(address.email)),
                latest.at,
                latest.source,
                latest.recipient.message_id,
                latest.recipient.recipient_id,
            )

    def get(self, tenant_id: str, email: str) -> Unsubscription:
        found = self._store.get(Address(tenant_id, normalize_email(email)))
        if found is None:
            raise NotFoundError("this address never unsubscribed")
        return found

    def resubscribe(self, tenant_id: str, email: str, actor: str) -> Unsubscription:
        """Send emails to the address again (the customer asked to); audited by who and when."""
        lifted = self._store.resubscribe(Address(tenant_id, normalize_email(email)), self._clock(), actor)
        if lifted is None:
            raise NotFoundError("this address is not unsubscribed")
        return lifted
