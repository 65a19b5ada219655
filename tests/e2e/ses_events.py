"""SES events for a recipient local mode sent, as SES publishes them (POST /local/ses-events)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from local.ses_simulator import mail_object
from tracker import constants


def ses_event(
    tenant: str,
    message_id: str,
    recipient: dict[str, Any],
    kind: str,
    body: dict[str, Any],
    *,
    sent_ago: timedelta = timedelta(minutes=5),
) -> dict[str, Any]:
    """``recipient`` is a row of GET /messages/{id}/recipients with its SES message id; ``body`` the
    event type's own object (``delivery``, ``open``, ...)."""
    tags = {
        constants.TAG_TENANT: tenant,
        constants.TAG_MESSAGE: message_id,
        constants.TAG_RECIPIENT: recipient["recipient_id"],
    }
    mail = mail_object(
        recipient["ses_message_id"],
        "noreply@example.com",
        recipient["email"],
        "s",
        tags,
        datetime.now(UTC) - sent_ago,
    )
    return {"eventType": kind, "mail": mail, kind.lower(): body}
