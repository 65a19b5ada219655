"""How long the table keeps messages, recipients and content (its TTL; docs/data-model.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tracker import constants


@dataclass(frozen=True)
class Retention:
    """Ages after a message's creation at which DynamoDB's TTL removes its items (within a day or
    two of it). A recipient never outlives its message: a recipient without its header would be
    counted nowhere. A TTL removal changes no count (the projector ignores it), so a message keeps
    the counts of recipients that expired before it."""

    messages: timedelta = timedelta(days=constants.DEFAULT_MESSAGE_RETENTION_DAYS)
    recipients: timedelta = timedelta(days=constants.DEFAULT_RECIPIENT_RETENTION_DAYS)
    content: timedelta = timedelta(days=constants.DEFAULT_CONTENT_RETENTION_DAYS)

    def __post_init__(self) -> None:
        if min(self.messages, self.recipients, self.content) < timedelta(days=1):
            raise ValueError("every retention must be at least one day")
        if self.recipients > self.messages or self.content > self.messages:
            raise ValueError("recipients and content cannot be kept longer than their message")

    def message_expiry(self, created_at: datetime) -> datetime:
        return created_at + self.messages

    def recipient_expiry(self, created_at: datetime) -> datetime:
        return created_at + self.recipients

    def content_expiry(self, created_at: datetime) -> datetime:
        return created_at + self.content


DEFAULT_RETENTION = Retention()
