"""Bodies of the resend and dismiss routes."""

from __future__ import annotations

from pydantic import ConfigDict

from tracker.domain.links import Dismissal, MessageLink
from tracker.domain.messages import CreatedMessage
from tracker.models.api import ApiModel
from tracker.models.links import Dismissed, ResentFrom
from tracker.models.send import EmailAddress, SendMessageResponse


class ResendRequest(ApiModel):
    """Optional: a corrected address (else the recipient's own)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    email: EmailAddress | None = None


class ResendResponse(SendMessageResponse):
    resent_from: ResentFrom

    @classmethod
    def of(cls, created: CreatedMessage, message_id: str, recipient_id: str) -> ResendResponse:  # type: ignore[override]
        base = SendMessageResponse.of(created)
        return cls(
            message_id=base.message_id,
            recipients=base.recipients,
            resent_from=ResentFrom.of(MessageLink(message_id, recipient_id)),
        )


class DismissResponse(ApiModel):
    dismissed: Dismissed

    @classmethod
    def of(cls, dismissal: Dismissal) -> DismissResponse:
        return cls(dismissed=Dismissed(at=dismissal.at, by=dismissal.by))
