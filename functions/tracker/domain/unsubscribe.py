"""One-click unsubscribe (RFC 8058) for ``email`` messages: the signed link, the headers, and
whether an address is unsubscribed.

Only ``email`` messages carry the link and only they are held back by an unsubscription: invoices
and receipts are transactional and always go out (docs/unsubscribe.md).

The link names the recipient it was sent to, ``{tenant}.{message}.{recipient}.{signature}``: ids
restricted to SES-tag-safe characters (no ``.``), and the signature an HMAC-SHA256 of the three with
the deployment's unsubscribe key, so nobody can unsubscribe an address from a link they make up.
The link does not expire: an email read months later must still unsubscribe.

An address is unsubscribed for a tenant while its latest unsubscription is later than its latest
resubscription: both are kept as the latest time of each (a max, so the order in which an SES
event, the one-click POST and a resubscription arrive does not matter, and a replay changes nothing).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tracker.domain.ids import TAG_SAFE
from tracker.domain.records import RecipientKey

UNSUBSCRIBE_KIND = "email"
# The dropped reason (tracker.domain.reasons.UNSUBSCRIBED_RULE reads it); here, so that the sender
# does not load the reasons catalogue.
UNSUBSCRIBED_REASON = "unsubscribed"
LIST_UNSUBSCRIBE = "List-Unsubscribe"
LIST_UNSUBSCRIBE_POST = "List-Unsubscribe-Post"
ONE_CLICK = "List-Unsubscribe=One-Click"
_SIGNATURE_BYTES = 20  # 160 bits of HMAC-SHA256: far beyond guessing, and a short link
_CONTEXT = b"delivery-tracker unsubscribe v1\x00"


def carries_unsubscribe(kind: str | None) -> bool:
    return kind == UNSUBSCRIBE_KIND


def _signature(key: bytes, recipient: RecipientKey) -> str:
    message = (
        _CONTEXT + "\x00".join((recipient.tenant_id, recipient.message_id, recipient.recipient_id)).encode()
    )
    digest = hmac.new(key, message, hashlib.sha256).digest()[:_SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(key: bytes, recipient: RecipientKey) -> str:
    """The token of a recipient's unsubscribe link."""
    if not key:
        raise ValueError("the unsubscribe key is empty")
    return ".".join(
        (recipient.tenant_id, recipient.message_id, recipient.recipient_id, _signature(key, recipient))
    )


def verify(key: bytes, token: str) -> RecipientKey | None:
    """The recipient a token names, or None when it is not one we signed."""
    parts = token.split(".")
    if len(parts) != 4 or not key or len(token) > 512:
        return None
    tenant_id, message_id, recipient_id, signature = parts
    if not all(TAG_SAFE.fullmatch(value) for value in (tenant_id, message_id, recipient_id)):
        return None
    recipient = RecipientKey(tenant_id, message_id, recipient_id)
    return recipient if hmac.compare_digest(signature, _signature(key, recipient)) else None


def unsubscribe_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/unsubscribe/{token}"


def unsubscribe_headers(url: str) -> tuple[tuple[str, str], ...]:
    """RFC 8058: an HTTPS link mail clients POST ``List-Unsubscribe=One-Click`` to."""
    return ((LIST_UNSUBSCRIBE, f"<{url}>"), (LIST_UNSUBSCRIBE_POST, ONE_CLICK))


@dataclass(frozen=True)
class UnsubscribeEvent:
    """An opt-out SES reported for a recipient (a Subscription event)."""

    at: datetime
    source: str
    recipient: RecipientKey


@dataclass(frozen=True)
class Unsubscription:
    """An address's subscription state for one tenant's emails."""

    tenant_id: str
    email: str
    unsubscribed_at: datetime | None = None
    # Where the latest unsubscription came from: "one_click", "link_page" or SES's source
    # (e.g. "UnsubscribeHeader"), and the recipient whose email carried the link.
    source: str | None = None
    message_id: str | None = None
    recipient_id: str | None = None
    resubscribed_at: datetime | None = None
    resubscribed_by: str | None = None

    @property
    def active(self) -> bool:
        if self.unsubscribed_at is None:
            return False
        return self.resubscribed_at is None or self.unsubscribed_at > self.resubscribed_at


def is_opt_out(details: Mapping[str, Any]) -> bool:
    """Whether an SES Subscription event's details unsubscribe the contact: from every topic, or
    from any topic (our emails are one stream to the customer)."""
    preferences = details.get("new_topic_preferences")
    if not isinstance(preferences, Mapping):
        return False
    if preferences.get("unsubscribe_all") is True:
        return True
    topics = preferences.get("topic_subscription_status")
    if isinstance(topics, list):
        return any(
            isinstance(topic, Mapping) and str(topic.get("subscription_status", "")).lower() == "optout"
            for topic in topics
        )
    return False
