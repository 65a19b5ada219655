"""The owner's actions on a recipient that needed attention, and the links they leave: a resend
(both ways) and a dismissal, each with who and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ResendLink:
    """Where a recipient was resent to: the new message's recipient, by whom and when."""

    message_id: str
    recipient_id: str
    at: datetime
    by: str


@dataclass(frozen=True)
class Dismissal:
    at: datetime
    by: str


@dataclass(frozen=True)
class MessageLink:
    """The recipient a resent message was sent in place of."""

    message_id: str
    recipient_id: str
