"""The links and audit marks of the attention queue's actions, as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tracker.domain.links import Dismissal, MessageLink, ResendLink
from tracker.domain.reasons.records import recipient_reason
from tracker.domain.views import RecipientRecord
from tracker.models.reasons import ReasonOut


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class ResentAs(_Model):
    """This recipient was resent: the new message's recipient, who resent it and when."""

    message_id: str
    recipient_id: str
    at: datetime
    by: str = Field(description="The verified principal that resent it.")

    @classmethod
    def of(cls, link: ResendLink | None) -> ResentAs | None:
        if link is None:
            return None
        return cls(message_id=link.message_id, recipient_id=link.recipient_id, at=link.at, by=link.by)


class Dismissed(_Model):
    """Taken off the attention queue without a resend: who and when."""

    at: datetime
    by: str

    @classmethod
    def of(cls, dismissal: Dismissal | None) -> Dismissed | None:
        return None if dismissal is None else cls(at=dismissal.at, by=dismissal.by)


class ResentFrom(_Model):
    """The recipient (of another message) this message was resent in place of."""

    message_id: str
    recipient_id: str

    @classmethod
    def of(cls, link: MessageLink | None) -> ResentFrom | None:
        return None if link is None else cls(message_id=link.message_id, recipient_id=link.recipient_id)


class RecipientOutcome(_Model):
    """What every recipient row shows beside its raw fields: the plain reason and the owner's
    actions on it."""

    reason: ReasonOut | None = Field(
        description="Why, in plain words, with the next step (statuses bounced, complaint, dropped, "
        "rejected, failed; else `null`). The raw text stays in its own field."
    )
    resent_as: ResentAs | None = Field(
        default=None, description="Resent: to which new message, by whom, when."
    )
    dismissed: Dismissed | None = Field(default=None, description="Dismissed from the attention queue.")

    @staticmethod
    def outcome_fields(record: RecipientRecord) -> dict[str, Any]:
        """The fields above for a stored recipient (each row model passes them to its ``cls``)."""
        return {
            "reason": ReasonOut.of(recipient_reason(record.status, record.facts)),
            "resent_as": ResentAs.of(record.resent_as),
            "dismissed": Dismissed.of(record.dismissed),
        }
