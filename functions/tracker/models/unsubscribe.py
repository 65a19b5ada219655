"""Response model of an address's unsubscription (the conventions of tracker.models.api)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from tracker.domain.unsubscribe import Unsubscription
from tracker.models.api import ApiModel


class UnsubscriptionOut(ApiModel):
    """Whether an address is unsubscribed from this tenant's emails (invoices and receipts are
    always sent), and the latest unsubscription and resubscription."""

    email: str
    unsubscribed: bool = Field(description="`true`: emails to the address are `dropped` (`unsubscribed`).")
    unsubscribed_at: datetime | None
    source: str | None = Field(
        description="`one_click` (the mail client's POST), `link_page` (the link's page) or SES's source."
    )
    message_id: str | None = Field(description="The email whose link (or SES event) unsubscribed it.")
    recipient_id: str | None
    resubscribed_at: datetime | None
    resubscribed_by: str | None

    @classmethod
    def of(cls, record: Unsubscription) -> UnsubscriptionOut:
        return cls(
            email=record.email,
            unsubscribed=record.active,
            unsubscribed_at=record.unsubscribed_at,
            source=record.source,
            message_id=record.message_id,
            recipient_id=record.recipient_id,
            resubscribed_at=record.resubscribed_at,
            resubscribed_by=record.resubscribed_by,
        )
