"""The reason the API shows beside a recipient's or an event's raw text: the stored fields of a
recipient (its facts) or of one timeline event (its details) handed to the right table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tracker.domain.events import EventKind
from tracker.domain.facts import RecipientFacts
from tracker.domain.reasons.bounces import bounce_reason
from tracker.domain.reasons.catalogue import CATALOGUE
from tracker.domain.reasons.model import Reason, quote, scan_prefix
from tracker.domain.reasons.outcomes import (
    SES_ACCOUNT_SUPPRESSION_RULE,
    complaint_reason,
    drop_reason,
    failure_reason,
    reject_reason,
)
from tracker.domain.status import Status

# The statuses a recipient's row explains (the others need no reason).
EXPLAINED_STATUSES = frozenset(
    {Status.BOUNCED, Status.COMPLAINT, Status.DROPPED, Status.REJECTED, Status.FAILED}
)
# The timeline events that carry one.
EXPLAINED_EVENTS = frozenset(
    {EventKind.BOUNCE, EventKind.COMPLAINT, EventKind.REJECT, EventKind.RENDERING_FAILURE}
)


def _text(values: Mapping[str, Any], name: str) -> str | None:
    value = values.get(name)
    return None if value is None or value == "" else str(value)


def event_reason(kind: EventKind, details: Mapping[str, Any]) -> Reason | None:
    """The reason of one timeline event from the details a view shows of it (None: a kind that
    needs none)."""
    match kind:
        case EventKind.BOUNCE:
            return bounce_reason(
                _text(details, "bounce_type"),
                _text(details, "bounce_subtype"),
                _text(details, "status"),
                _text(details, "diagnostic_code"),
            )
        case EventKind.COMPLAINT:
            return complaint_reason(_text(details, "feedback_type"), _text(details, "complaint_subtype"))
        case EventKind.REJECT:
            return reject_reason(_text(details, "reason"))
        case EventKind.RENDERING_FAILURE:
            return failure_reason(_text(details, "error_message"))
        case _:
            return None


def recipient_reason(status: Status, facts: RecipientFacts) -> Reason | None:
    """Why a recipient in a failed status did not get the message (None for the other statuses)."""
    match status:
        case Status.BOUNCED if facts.bounce is not None:
            return event_reason(EventKind.BOUNCE, facts.bounce.values)
        case Status.COMPLAINT if facts.complaint is not None:
            return event_reason(EventKind.COMPLAINT, facts.complaint.values)
        case Status.REJECTED if facts.reject is not None:
            return event_reason(EventKind.REJECT, facts.reject.values)
        case Status.DROPPED:
            return _drop(facts)
        case Status.FAILED:
            if facts.rendering_failure is not None:
                return event_reason(EventKind.RENDERING_FAILURE, facts.rendering_failure.values)
            return failure_reason(facts.send_outcome_reason)
        case _ if status in EXPLAINED_STATUSES:
            return failure_reason(facts.send_outcome_reason)
        case _:
            return None


def _drop(facts: RecipientFacts) -> Reason:
    if facts.send_outcome is Status.DROPPED and facts.send_outcome_reason:
        return drop_reason(facts.send_outcome_reason, None, None)
    if facts.ses_suppressed_at is not None:
        diagnostic = _text(facts.bounce.values, "diagnostic_code") if facts.bounce is not None else None
        return drop_reason(SES_ACCOUNT_SUPPRESSION_RULE, facts.ses_suppressed_at, diagnostic)
    return drop_reason(facts.send_outcome_reason or "", None, None)


def reason_of_code(code: str | None, raw: str | None) -> Reason | None:
    """A reason again from its stored code and raw text (the attention queue keeps only these)."""
    entry = CATALOGUE.get(code) if code else None
    if entry is None:
        return None
    return entry.reason(quote(scan_prefix(raw)) if raw else None)
