"""Plain-English reasons, with a next step, for every outcome that needs one: bounces, complaints,
drops, rejects and send failures. Pure: no AWS SDK, no I/O; docs/reasons.md has the tables.

Each function takes the raw fields exactly as the tracker stores them (any of them may be missing)
and always returns a ``Reason``; the raw text stays the caller's to show beside it.
"""

from tracker.domain.reasons.bounces import bounce_reason
from tracker.domain.reasons.catalogue import CATALOGUE
from tracker.domain.reasons.model import QUOTE_LIMIT, SCAN_LIMIT, Entry, Reason
from tracker.domain.reasons.outcomes import (
    SES_ACCOUNT_SUPPRESSION_RULE,
    UNSUBSCRIBED_RULE,
    complaint_reason,
    drop_reason,
    failure_reason,
    reject_reason,
)

__all__ = [
    "CATALOGUE",
    "QUOTE_LIMIT",
    "SCAN_LIMIT",
    "SES_ACCOUNT_SUPPRESSION_RULE",
    "UNSUBSCRIBED_RULE",
    "Entry",
    "Reason",
    "bounce_reason",
    "complaint_reason",
    "drop_reason",
    "failure_reason",
    "reject_reason",
]
