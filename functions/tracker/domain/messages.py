"""A message on its way out: what a client asks to send, what is written, the send jobs, and a
recipient as the sender sees it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from tracker.domain.facts import RecipientFacts
from tracker.domain.links import MessageLink
from tracker.domain.records import RecipientKey, StoredRecipient
from tracker.domain.status import Status
from tracker.domain.tracking import Tracking

# A send job (one SQS message) names at most this many recipients of one message.
MAX_JOB_RECIPIENTS = 100


@dataclass(frozen=True)
class MessageContent:
    subject: str
    text: str | None = None
    html: str | None = None


@dataclass(frozen=True)
class RecipientDraft:
    customer_id: str
    email: str  # validated and normalized by the request model
    name: str | None = None


@dataclass(frozen=True)
class MessageDraft:
    kind: str
    content: MessageContent
    recipients: tuple[RecipientDraft, ...]
    invoice_id: str | None = None
    payment_id: str | None = None


@dataclass(frozen=True)
class PlannedRecipient:
    recipient_id: str
    customer_id: str
    email: str
    name: str | None
    status: Status
    reason: str | None = None


@dataclass(frozen=True)
class PlannedMessage:
    tenant_id: str
    message_id: str
    kind: str
    content: MessageContent
    created_at: datetime
    recipients: tuple[PlannedRecipient, ...]
    created_by: str | None = None
    invoice_id: str | None = None
    payment_id: str | None = None
    resent_from: MessageLink | None = None
    tracking: Tracking = Tracking.ON  # decided at creation (tracker.domain.tracking)


@dataclass(frozen=True)
class SendJob:
    tenant_id: str
    message_id: str
    recipient_ids: tuple[str, ...]
    # The message's kind and tracking, copied at creation: the sender checks unsubscriptions for
    # emails, adds their unsubscribe link, and picks the configuration set by the tracking.
    kind: str | None = None
    tracking: Tracking = Tracking.ON


@dataclass(frozen=True)
class CreatedRecipient:
    recipient_id: str
    email: str
    customer_id: str
    status: Status
    reason: str | None = None


@dataclass(frozen=True)
class CreatedMessage:
    message_id: str
    recipients: tuple[CreatedRecipient, ...]


@dataclass(frozen=True)
class SendTarget:
    """A recipient as the sender sees it: facts and version (for the conditional writes) plus its
    display name and the claim of a sender that is (or was) sending it."""

    recipient: StoredRecipient
    name: str | None = None
    claim: str | None = None
    claimed_at: datetime | None = None

    @property
    def key(self) -> RecipientKey:
        return self.recipient.key

    @property
    def email(self) -> str:
        return self.recipient.email

    @property
    def facts(self) -> RecipientFacts:
        return self.recipient.facts

    @property
    def unsent(self) -> bool:
        """Never handed to SES and without any outcome: the only recipients a job may send."""
        return (
            self.recipient.ses_message_id is None
            and self.facts.send_outcome is Status.QUEUED
            and not self.facts.seen
        )

    @property
    def unclaimed_unsent(self) -> bool:
        """Unsent and no sender is on it: this job may still decide its outcome without SES."""
        return self.unsent and self.claim is None


@dataclass(frozen=True)
class OutgoingMail:
    """One SES message: one recipient, the message's content and the tags that name the recipient."""

    to: str
    name: str | None
    content: MessageContent
    tags: Mapping[str, str]
    # Extra headers (an email's List-Unsubscribe pair) and whether SES tracks opens and clicks
    # (False: the configuration set without OPEN and CLICK events).
    headers: tuple[tuple[str, str], ...] = ()
    tracked: bool = True
