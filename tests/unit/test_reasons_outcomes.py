"""Plain-English reasons for drops (the tracker's suppression rules, the SES account list, unsubscribes),
SES rejects and send failures, fed with the texts the send path and SES really produce."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tracker.dal.outbound import classify_client_error
from tracker.domain import facts
from tracker.domain.errors import SendError
from tracker.domain.reasons import (
    CATALOGUE,
    SES_ACCOUNT_SUPPRESSION_RULE,
    UNSUBSCRIBED_RULE,
    drop_reason,
    failure_reason,
    reject_reason,
)
from tracker.domain.suppression import Evidence, EvidenceKind, SuppressionRules, evaluate
from tracker.logic import outcomes as sending

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ses"
T0 = datetime(2026, 3, 2, 14, 5, tzinfo=UTC)


def summary_of(code: str) -> str:
    return CATALOGUE[code].summary


# --- drops ----------------------------------------------------------------------------------------------


def _decision_text(rules: SuppressionRules, kind: EvidenceKind, count: int) -> str:
    evidence = [Evidence(f"e{i}", kind, T0 + timedelta(days=i)) for i in range(count)]
    decision = evaluate(evidence, rules)
    assert decision is not None
    return decision.reason


@pytest.mark.parametrize(
    ("rules", "kind", "count", "expected"),
    [
        (SuppressionRules(), EvidenceKind.COMPLAINT, 1, "suppressed_after_complaint"),
        (SuppressionRules(complaints=3), EvidenceKind.COMPLAINT, 3, "suppressed_after_complaint"),
        (SuppressionRules(), EvidenceKind.PERMANENT_BOUNCE, 2, "suppressed_after_permanent_bounces"),
        (
            SuppressionRules(permanent_bounces=1),
            EvidenceKind.PERMANENT_BOUNCE,
            1,
            "suppressed_after_permanent_bounces",
        ),
        (SuppressionRules(), EvidenceKind.TRANSIENT_BOUNCE, 5, "suppressed_after_transient_bounces"),
        (
            SuppressionRules(transient_bounces=4, transient_window=timedelta(days=7)),
            EvidenceKind.TRANSIENT_BOUNCE,
            4,
            "suppressed_after_transient_bounces",
        ),
    ],
)
def test_the_tracker_rules_are_named_with_when_and_which_event(
    rules: SuppressionRules, kind: EvidenceKind, count: int, expected: str
) -> None:
    rule = _decision_text(rules, kind, count)
    for recorded in (rule, sending.dropped_reason(rule)):  # as decided, and as the sender records it
        reason = drop_reason(recorded, T0, "smtp; 550 5.1.1 user unknown")
        assert reason.code == expected
        assert reason.summary.startswith(summary_of(expected).removesuffix("."))
        assert f"({rule}; since 2026-03-02 14:05 UTC; " in reason.summary
        assert 'triggered by "smtp; 550 5.1.1 user unknown"' in reason.summary


def test_the_ses_account_list_and_unsubscribes_are_drops_too() -> None:
    assert SES_ACCOUNT_SUPPRESSION_RULE == facts.SES_SUPPRESSION_SUBTYPE
    ses = drop_reason(SES_ACCOUNT_SUPPRESSION_RULE, T0, None)
    assert ses.code == "on_ses_account_suppression_list"
    assert "OnAccountSuppressionList" not in ses.summary  # the summary says it in words
    assert drop_reason(UNSUBSCRIBED_RULE, None, None) == CATALOGUE["unsubscribed"].reason()


def test_a_drop_instant_is_shown_in_utc_and_a_naive_one_taken_as_utc() -> None:
    paris = datetime(2026, 3, 2, 15, 5, tzinfo=timezone(timedelta(hours=1)))
    assert "since 2026-03-02 14:05 UTC" in drop_reason("1 complaint", paris, None).summary
    assert (
        "since 2026-03-02 14:05 UTC" in drop_reason("1 complaint", datetime(2026, 3, 2, 14, 5), None).summary
    )


def test_an_unknown_rule_is_quoted() -> None:
    reason = drop_reason("manual block by support", None, None)
    assert reason.code == "suppressed_other"
    assert '"manual block by support"' in reason.summary


# --- rejects and failures -------------------------------------------------------------------------------


def test_the_documented_reject_reason_is_a_virus_and_others_are_quoted() -> None:
    fixture = json.loads((FIXTURES / "reject.json").read_text())
    assert reject_reason(fixture["reject"]["reason"]).code == "rejected_virus"
    assert reject_reason("bad CONTENT").code == "rejected_virus"
    unknown = reject_reason("Some future reason")
    assert unknown.code == "rejected_by_ses"
    assert '"Some future reason"' in unknown.summary
    assert reject_reason(None) == CATALOGUE["rejected_by_ses"].reason()


def ses_error(code: str, message: str, status: int = 400) -> str:
    error = ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "SendEmail",
    )
    classified = classify_client_error(error)
    assert isinstance(classified, SendError)
    return classified.reason


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (lambda: sending.NOT_QUEUED_REASON, "not_queued"),
        (lambda: sending.UNKNOWN_OUTCOME_REASON, "outcome_unknown"),
        (lambda: f"{sending.THROTTLED_REASON} (delivery 5)", "throttled"),
        (lambda: f"{sending.OUT_OF_TIME_REASON} (delivery 5)", "send_attempts_exhausted"),
        (lambda: "a recipient is being sent by another invocation (delivery 5)", "send_attempts_exhausted"),
        (lambda: "the message content is not readable yet (delivery 5)", "content_unavailable"),
        (lambda: "no sender address is configured (SENDER_ADDRESS)", "sender_address_missing"),
        (lambda: ses_error("AccountSuspendedException", "Account is suspended."), "ses_account_suspended"),
        (
            lambda: ses_error("SendingPausedException", "Sending is paused for this account."),
            "ses_sending_paused",
        ),
        (
            lambda: ses_error("MailFromDomainNotVerifiedException", "MAIL FROM domain is not verified."),
            "mail_from_domain_not_verified",
        ),
        (
            lambda: ses_error(
                "MessageRejected",
                "Email address is not verified. The following identities failed the check in region "
                "EU-WEST-1: invoices@example.com",
            ),
            "sender_not_verified",
        ),
        (
            lambda: ses_error("NotFoundException", "Configuration set does not exist."),
            "ses_configuration_missing",
        ),
        (
            lambda: ses_error("MessageRejected", "Transaction failed: something new."),
            "rejected_by_ses_on_send",
        ),
        (lambda: ses_error("BadRequestException", "Missing final '@domain'"), "invalid_send_request"),
        (lambda: ses_error("TooManyRequestsException", "Maximum sending rate exceeded.", 429), "throttled"),
        (lambda: ses_error("InternalFailure", "Internal error.", 500), "ses_unavailable"),
    ],
)
def test_send_failures_are_named(error: Callable[[], str], expected: str) -> None:
    text = error()
    assert failure_reason(text).code == expected, text


def test_a_rendering_failure_is_named() -> None:
    fixture = json.loads((FIXTURES / "rendering_failure.json").read_text())
    assert failure_reason(fixture["failure"]["errorMessage"]).code == "template_rendering_failed"


def test_an_unknown_failure_is_quoted_and_a_missing_one_is_not() -> None:
    reason = failure_reason("Something broke in a new way")
    assert reason.code == "send_failed"
    assert '"Something broke in a new way"' in reason.summary
    assert failure_reason(None) == CATALOGUE["send_failed"].reason()
