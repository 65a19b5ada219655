"""Complaints, drops, rejects and send failures to one catalogue reason each, by declared tables."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tracker.domain.reasons import catalogue as c
from tracker.domain.reasons.model import (
    Reason,
    by_key,
    compile_patterns,
    first_match,
    key,
    quote,
    scan_prefix,
)

# --- complaints ---------------------------------------------------------------------------------

# The Feedback-Type of the provider's report (RFC 5965 and the IANA MARF registry, as SES lists them).
FEEDBACK_TYPES = by_key(
    {
        "abuse": c.COMPLAINT_SPAM,
        "auth-failure": c.COMPLAINT_AUTHENTICATION_FAILURE,
        "fraud": c.COMPLAINT_FRAUD,
        "not-spam": c.COMPLAINT_NOT_SPAM,
        "other": c.COMPLAINT_OTHER,
        "virus": c.COMPLAINT_VIRUS,
    }
)
# A complaint subtype says SES itself did not send; it outranks the feedback type.
COMPLAINT_SUBTYPES = by_key({"OnAccountSuppressionList": c.ON_SES_ACCOUNT_SUPPRESSION_LIST})


def complaint_reason(feedback_type: str | None, complaint_subtype: str | None) -> Reason:
    """The reason for one complained recipient (``complaintFeedbackType``, ``complaintSubType``)."""
    verdict = COMPLAINT_SUBTYPES.get(key(complaint_subtype))
    if verdict is not None:
        return verdict.reason()
    reported = scan_prefix(feedback_type, 100)
    if not reported:
        return c.COMPLAINT_UNSPECIFIED.reason()
    return FEEDBACK_TYPES.get(reported.casefold(), c.COMPLAINT_UNRECOGNISED).reason(quote(reported, 60))


# --- drops --------------------------------------------------------------------------------------

# The rule names a caller passes for the two suppressions that are not the tracker's counting rules
# (those arrive as their decision text: "1 complaint", "2 permanent bounces", "5 transient bounces
# within 30 days", with whatever thresholds are configured).
SES_ACCOUNT_SUPPRESSION_RULE = "OnAccountSuppressionList"
UNSUBSCRIBED_RULE = "unsubscribed"

DROP_RULES = compile_patterns(
    [
        (
            r"OnAccountSuppressionList|account[- ]level suppression|SES (account )?suppression",
            c.ON_SES_ACCOUNT_SUPPRESSION_LIST,
        ),
        (r"unsubscri", c.UNSUBSCRIBED),
        (r"\bcomplaints?\b", c.SUPPRESSED_AFTER_COMPLAINT),
        (r"\b(permanent|hard) bounces?\b", c.SUPPRESSED_AFTER_PERMANENT_BOUNCES),
        (r"\b(transient|soft) bounces?\b", c.SUPPRESSED_AFTER_TRANSIENT_BOUNCES),
    ]
)
# The rule text says no more than these rows' summaries.
_SELF_EXPLAINED = (c.ON_SES_ACCOUNT_SUPPRESSION_LIST, c.UNSUBSCRIBED)
# ``logic.outcomes.dropped_reason`` prefixes the rule so.
_SUPPRESSED_PREFIX = re.compile(r"^suppressed:\s*", re.IGNORECASE)


def format_instant(at: datetime) -> str:
    """An instant as the summaries show it; a naive datetime is taken as UTC."""
    moment = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def drop_reason(rule: str, at: datetime | None, source_event: str | None) -> Reason:
    """Why a recipient was Dropped: which suppression ``rule`` (the tracker's decision text, or
    ``SES_ACCOUNT_SUPPRESSION_RULE`` / ``UNSUBSCRIBED_RULE``), since when (``at``), and the event
    that triggered it (``source_event``, e.g. the bounce's diagnostic or the feedback type)."""
    rule_text = quote(_SUPPRESSED_PREFIX.sub("", scan_prefix(rule), count=1), 80)
    entry = first_match(DROP_RULES, rule_text or "") or c.SUPPRESSED_OTHER
    details = []
    if rule_text and entry not in _SELF_EXPLAINED and entry is not c.SUPPRESSED_OTHER:
        details.append(rule_text)
    if at is not None:
        details.append(f"since {format_instant(at)}")
    event = quote(scan_prefix(source_event), 120)
    if event:
        details.append(f'triggered by "{event}"')
    return entry.reason(rule_text, "; ".join(details))


# --- rejects ------------------------------------------------------------------------------------

# SES documents one Reject reason: "Bad content", a virus in the message.
REJECT_REASONS = by_key({"Bad content": c.REJECTED_VIRUS})


def reject_reason(reason: str | None) -> Reason:
    """The reason for an SES Reject event (``reject.reason``)."""
    said = scan_prefix(reason)
    return REJECT_REASONS.get(said.casefold(), c.REJECTED_BY_SES).reason(quote(said))


# --- send failures ------------------------------------------------------------------------------

# The send path's own failure texts (logic.outcomes, dal.outbound: "Code: message" of SES API v2
# errors) and the errorMessage of SES Rendering Failure events. First match wins: the SES error
# codes come first, because their messages may contain words of the later rows.
FAILURE_PATTERNS = compile_patterns(
    [
        (r"AccountSuspended", c.SES_ACCOUNT_SUSPENDED),
        (r"SendingPaused", c.SES_SENDING_PAUSED),
        (r"MailFromDomainNotVerified", c.MAIL_FROM_DOMAIN_NOT_VERIFIED),
        (r"\bnot verified\b|failed the check", c.SENDER_NOT_VERIFIED),
        (r"no sender address is configured", c.SENDER_ADDRESS_MISSING),
        (r"NotFoundException", c.SES_CONFIGURATION_MISSING),
        (r"throttl|TooManyRequests|LimitExceeded|maximum sending rate|quota exceeded", c.THROTTLED),
        (r"outcome unknown|no answer from SES", c.OUTCOME_UNKNOWN),
        (r"could not be queued", c.NOT_QUEUED),
        (r"content is not readable", c.CONTENT_UNAVAILABLE),
        (
            r"ran out of attempts|another invocation|changed while it was being claimed",
            c.SEND_ATTEMPTS_EXHAUSTED,
        ),
        (r"SES unreachable|InternalFailure|ServiceUnavailable|InternalServerError", c.SES_UNAVAILABLE),
        (r"rendering data|template", c.TEMPLATE_RENDERING_FAILED),
        (r"MessageRejected", c.REJECTED_BY_SES_ON_SEND),
        (r"BadRequest|InvalidParameterValue|Illegal address|Missing final '@domain'", c.INVALID_SEND_REQUEST),
    ]
)


def failure_reason(error: str | None) -> Reason:
    """The reason for a Failed recipient: the send path's recorded reason, or a Rendering Failure's
    ``errorMessage``."""
    text = scan_prefix(error)
    return (first_match(FAILURE_PATTERNS, text) or c.SEND_FAILED).reason(quote(text))
