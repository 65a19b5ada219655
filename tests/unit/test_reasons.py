"""Plain-English reasons: every SES bounce type/subtype, the common enhanced status codes (in the DSN
status and inside providers' published diagnostics), the documented precedence, complaints, the
catalogue itself, and robustness against any text (hostile or huge) with bounded parsing. Drops,
rejects and send failures: test_reasons_outcomes.py.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import ses_builders as b
from tests.reason_samples import SAMPLES, Sample
from tracker.domain.reasons import (
    CATALOGUE,
    QUOTE_LIMIT,
    SCAN_LIMIT,
    Reason,
    bounce_reason,
    bounces,
    complaint_reason,
    drop_reason,
    failure_reason,
    outcomes,
    reject_reason,
)
from tracker.domain.reasons.model import Catalogue
from tracker.models.ses import parse_notification_body, to_recipient_events

DOCS = Path(__file__).parents[2] / "docs" / "reasons.md"
T0 = datetime(2026, 3, 2, 14, 5, tzinfo=UTC)


def summary_of(code: str) -> str:
    return CATALOGUE[code].summary


# --- bounces: SES types and subtypes ----------------------------------------------------------------

# Every bounce type/subtype pair of the SES developer guide's "Bounce types" table.
SES_BOUNCE_TYPES = [
    ("Undetermined", "Undetermined", "undetermined_bounce"),
    ("Permanent", "General", "permanent_failure"),
    ("Permanent", "NoEmail", "mailbox_does_not_exist"),
    ("Permanent", "Suppressed", "suppressed_by_ses"),
    ("Permanent", "OnAccountSuppressionList", "on_ses_account_suppression_list"),
    ("Transient", "General", "temporary_failure"),
    ("Transient", "MailboxFull", "mailbox_full"),
    ("Transient", "MessageTooLarge", "message_too_large"),
    ("Transient", "ContentRejected", "content_rejected"),
    ("Transient", "AttachmentRejected", "attachment_rejected"),
]


@pytest.mark.parametrize(("bounce_type", "subtype", "expected"), SES_BOUNCE_TYPES)
def test_every_ses_bounce_type_and_subtype_has_its_reason(
    bounce_type: str, subtype: str, expected: str
) -> None:
    reason = bounce_reason(bounce_type, subtype, None, None)
    assert reason == CATALOGUE[expected].reason()
    # SES API v2 spells the types in capitals.
    assert bounce_reason(bounce_type.upper(), subtype, None, None).code == expected


def test_a_bounce_without_type_or_anything_else_is_undetermined() -> None:
    assert bounce_reason(None, None, None, None).code == "undetermined_bounce"
    assert bounce_reason("SomethingNew", "AlsoNew", None, None).code == "undetermined_bounce"


def test_the_fields_the_ingest_path_stores_are_the_ones_bounce_reason_reads() -> None:
    event = b.bounce_event(
        "ses-1",
        ["jane@example.com"],
        bounce_type="Transient",
        bounce_subtype="General",
        status="4.2.2",
        diagnostic_code="smtp; 452 4.2.2 The recipient's inbox is out of storage space.",
    )
    [recipient] = to_recipient_events(parse_notification_body(json.dumps(event)))
    d = recipient.details
    reason = bounce_reason(d["bounce_type"], d["bounce_subtype"], d["status"], d["diagnostic_code"])
    assert reason.code == "mailbox_full"


# --- bounces: enhanced status codes -----------------------------------------------------------------

COMMON_CODES = [
    ("5.1.1", "mailbox_does_not_exist"),
    ("5.1.2", "domain_does_not_exist"),
    ("5.1.3", "bad_address_syntax"),
    ("5.1.6", "mailbox_moved"),
    ("5.1.10", "domain_accepts_no_email"),
    ("5.2.1", "mailbox_disabled"),
    ("5.2.2", "mailbox_full"),
    ("4.2.2", "mailbox_full"),
    ("5.2.3", "message_too_large"),
    ("5.3.4", "message_too_large"),
    ("4.3.2", "recipient_server_busy"),
    ("4.4.1", "recipient_server_unreachable"),
    ("4.4.2", "recipient_server_unreachable"),
    ("5.4.4", "domain_has_no_mail_server"),
    ("4.4.5", "recipient_server_busy"),
    ("5.4.6", "mail_loop"),
    ("4.4.7", "gave_up_retrying"),
    ("5.4.7", "gave_up_retrying"),
    ("5.7.1", "rejected_by_policy"),
    ("4.7.1", "deferred_by_recipient"),
    ("4.7.0", "deferred_by_recipient"),
    ("5.7.20", "sender_dkim_failed"),
    ("5.7.23", "sender_spf_failed"),
    ("5.7.25", "sender_reverse_dns_failed"),
    ("5.7.26", "sender_authentication_failed"),
    ("5.7.27", "sender_spf_failed"),
    ("4.7.28", "rate_limited"),
    ("5.7.28", "sender_blocked"),
    ("5.7.30", "sender_dkim_failed"),
    ("5.7.32", "sender_dmarc_failed"),
    ("5.7.606", "sender_blocked"),
    ("5.7.649", "sender_blocked"),
    ("5.4.0", "routing_problem"),
    ("4.4.3", "routing_problem"),
    ("5.1.4", "address_rejected"),
    ("4.2.1", "mailbox_unavailable"),
    ("5.3.0", "recipient_system_problem"),
    ("5.6.1", "format_not_accepted"),
]


@pytest.mark.parametrize(("status", "expected"), COMMON_CODES)
def test_an_enhanced_code_in_the_status_field_gives_its_reason(status: str, expected: str) -> None:
    assert bounce_reason("Permanent", "General", status, None).code == expected


@pytest.mark.parametrize(("status", "expected"), COMMON_CODES)
def test_an_enhanced_code_inside_the_diagnostic_gives_its_reason(status: str, expected: str) -> None:
    reply = "550" if status.startswith("5") else "451"
    for diagnostic in (
        f"smtp; {reply} {status} no details",
        f"smtp; {reply}-{status} see below",
        f"x (#{status})",
    ):
        assert bounce_reason("Permanent", "General", None, diagnostic).code == expected, diagnostic


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: f"{s.provider}-{s.expected}")
def test_published_provider_diagnostics_give_the_specific_reason(sample: Sample) -> None:
    assert bounce_reason("Permanent", "General", sample.status, sample.diagnostic).code == sample.expected
    # The diagnostic alone is enough.
    assert bounce_reason("Transient", "General", None, sample.diagnostic).code == sample.expected


def test_ip_addresses_and_dotted_references_are_not_status_codes() -> None:
    for text in ("smtp; 550 relay 192.5.1.1 refused", "smtp; 550 see ref 4.16.55.1 here", "smtp; 550 v5.1.1"):
        reason = bounce_reason("Permanent", "General", None, text)
        assert reason.code == "permanent_failure", text


# --- bounces: precedence --------------------------------------------------------------------------------


def test_ses_verdict_outranks_the_status_code_ses_puts_on_it() -> None:
    diagnostic = (
        "Amazon SES has suppressed sending to this address because it has a recent history of bouncing"
    )
    assert bounce_reason("Permanent", "Suppressed", "5.1.1", diagnostic).code == "suppressed_by_ses"
    assert bounce_reason("Permanent", "OnAccountSuppressionList", "5.1.1", None).code == (
        "on_ses_account_suppression_list"
    )


def test_provider_wording_outranks_the_code_it_comes_with() -> None:
    # 5.1.10 alone is RFC 7505's null MX; Microsoft's text says the recipient is unknown.
    assert bounce_reason("Permanent", "General", "5.1.10", None).code == "domain_accepts_no_email"
    microsoft = "smtp; 550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"
    assert bounce_reason("Permanent", "General", "5.1.10", microsoft).code == "mailbox_does_not_exist"


def test_a_code_in_the_diagnostic_outranks_a_generic_status_and_the_status_fills_in() -> None:
    assert (
        bounce_reason("Permanent", "General", "5.0.0", "smtp; 550 5.1.1 nope").code
        == "mailbox_does_not_exist"
    )
    assert (
        bounce_reason("Permanent", "General", "5.1.1", "smtp; 550 Rejected").code == "mailbox_does_not_exist"
    )


def test_a_specific_code_outranks_a_generic_subtype() -> None:
    assert bounce_reason("Transient", "General", "4.2.2", None).code == "mailbox_full"
    assert bounce_reason("Undetermined", "Undetermined", None, "smtp; 550 5.1.2 bad domain").code == (
        "domain_does_not_exist"
    )


def test_a_specific_subtype_outranks_a_code_known_only_by_class_or_subject() -> None:
    assert bounce_reason("Transient", "ContentRejected", "5.7.1", "smtp; 550 5.7.1 Refused").code == (
        "content_rejected"
    )
    assert bounce_reason("Transient", "MailboxFull", "4.0.0", None).code == "mailbox_full"
    assert bounce_reason("Permanent", "NoEmail", "5.1.0", None).code == "mailbox_does_not_exist"


def test_a_full_code_outranks_a_specific_subtype() -> None:
    assert bounce_reason("Transient", "MailboxFull", "5.3.4", None).code == "message_too_large"


# --- bounces: unknown codes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bounce_type", "status", "diagnostic", "expected", "shown"),
    [
        ("Permanent", "5.9.9", None, "permanent_failure", "5.9.9"),
        ("Transient", "4.9.9", None, "temporary_failure", "4.9.9"),
        ("Transient", None, "smtp; 550 5.9.9 Odd reply", "permanent_failure", "550 5.9.9 Odd reply"),
        ("Permanent", None, "smtp; 451 come back later", "temporary_failure", "451 come back later"),
        ("Permanent", "5.0.0", "X-Postfix; delivery failed", "permanent_failure", "delivery failed"),
        ("Permanent", None, "mailbox said something", "permanent_failure", "mailbox said something"),
        ("Transient", None, "queue said something", "temporary_failure", "queue said something"),
        ("Undetermined", None, "unparseable bounce", "undetermined_bounce", "unparseable bounce"),
    ],
)
def test_unknown_codes_get_a_generic_reason_that_quotes_the_server(
    bounce_type: str, status: str | None, diagnostic: str | None, expected: str, shown: str
) -> None:
    reason = bounce_reason(bounce_type, "General", status, diagnostic)
    assert reason.code == expected
    assert reason.summary.startswith(summary_of(expected))
    assert f'"{shown}"' in reason.summary


def test_the_quote_is_one_clean_bounded_line() -> None:
    hostile = "smtp; 550 5.9.9 line one\r\nline\ttwo \u202egnp.exe\u0000 \u200b" + "x" * 5000
    reason = bounce_reason("Permanent", "General", None, hostile)
    quoted = reason.summary.split('"')[1]
    assert quoted.startswith("550 5.9.9 line one line two gnp.exe")
    assert len(quoted) <= QUOTE_LIMIT
    assert quoted.endswith("...")
    assert not re.search(r"[\x00-\x1f\u200b\u202e]", reason.summary)


def test_a_multi_line_reply_is_quoted_as_one_sentence() -> None:
    diagnostic = "smtp; 550-5.7.1 This is line one\n550-5.7.1 and line two\n550 5.7.1 and the end"
    reason = bounce_reason("Permanent", "General", None, diagnostic)
    assert '"550-5.7.1 This is line one and line two and the end"' in reason.summary


# --- complaints ---------------------------------------------------------------------------------------

FEEDBACK_TYPES = [
    ("abuse", "complaint_spam"),
    ("auth-failure", "complaint_authentication_failure"),
    ("fraud", "complaint_fraud"),
    ("not-spam", "complaint_not_spam"),
    ("other", "complaint_other"),
    ("virus", "complaint_virus"),
    (None, "complaint_unspecified"),
]


@pytest.mark.parametrize(("feedback_type", "expected"), FEEDBACK_TYPES)
def test_every_documented_feedback_type_has_its_reason(feedback_type: str | None, expected: str) -> None:
    event = b.complaint_event("ses-1", ["jane@example.com"], feedback_type=feedback_type)
    [recipient] = to_recipient_events(parse_notification_body(json.dumps(event)))
    reason = complaint_reason(recipient.details["feedback_type"], recipient.details["complaint_subtype"])
    assert reason == CATALOGUE[expected].reason()


def test_feedback_types_are_compared_without_case_or_spaces() -> None:
    assert complaint_reason(" Abuse ", None).code == "complaint_spam"


def test_the_account_suppression_subtype_outranks_the_feedback_type() -> None:
    assert complaint_reason("abuse", "OnAccountSuppressionList").code == "on_ses_account_suppression_list"


def test_an_unknown_feedback_type_is_quoted() -> None:
    reason = complaint_reason("opt-out", None)
    assert reason.code == "complaint_unrecognised"
    assert '"opt-out"' in reason.summary


# --- the catalogue ----------------------------------------------------------------------------------------

SENTENCE = re.compile(r"^[A-Z].{10,}[.]$")


def test_no_two_codes_share_a_summary_and_the_catalogue_refuses_it() -> None:
    summaries = [entry.summary for entry in CATALOGUE.values()]
    assert len(set(summaries)) == len(summaries)
    catalogue = Catalogue()
    catalogue.add("one", "Same words.", "Do this.")
    with pytest.raises(ValueError, match="summary"):
        catalogue.add("two", "Same words.", "Do that.")
    with pytest.raises(ValueError, match="twice"):
        catalogue.add("one", "Other words.", "Do this.")


def test_every_code_is_snake_case_and_every_summary_and_advice_a_sentence() -> None:
    for code, entry in CATALOGUE.items():
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", code), code
        assert entry.code == code
        assert SENTENCE.match(entry.summary), code
        assert SENTENCE.match(entry.advice), code


def test_every_table_points_into_the_catalogue() -> None:
    tables = [
        *bounces.SES_VERDICTS.values(),
        *bounces.SPECIFIC_SUBTYPES.values(),
        *bounces.BOUNCE_TYPES.values(),
        *bounces.ENHANCED_CODES.values(),
        *bounces.CODE_SUBJECTS.values(),
        *bounces.CODE_CLASSES.values(),
        *(entry for _, entry in bounces.PROVIDER_PHRASES),
        *outcomes.FEEDBACK_TYPES.values(),
        *outcomes.COMPLAINT_SUBTYPES.values(),
        *(entry for _, entry in outcomes.DROP_RULES),
        *outcomes.REJECT_REASONS.values(),
        *(entry for _, entry in outcomes.FAILURE_PATTERNS),
    ]
    assert all(CATALOGUE[entry.code] is entry for entry in tables)


def test_the_documentation_lists_every_reason_as_the_code_gives_it() -> None:
    docs = DOCS.read_text()
    for code, entry in CATALOGUE.items():
        assert f"| `{code}` | {entry.summary} | {entry.advice} |" in docs, code


# --- any text ---------------------------------------------------------------------------------------------

# Fragments that exercise every pattern, glued at random, beside any unicode at all.
FRAGMENTS = [
    "smtp; ", "550", "-", " ", "5.1.1", "4.7.", "1.2.3.4", ".", "\n550-5.7.26 ", "user unknown", "DMARC",
    "SPF", "did not pass", "rate limit", "\u202e", "\x00", "doesn't have a ", " account", "@", "quota",
]  # fmt: skip
texts = st.one_of(
    st.none(),
    st.text(),
    st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join),
    st.tuples(st.text(max_size=20), st.integers(1, 200_000)).map(lambda t: (t[0] or "x") * t[1]),
)


def _check(reason: Reason) -> None:
    entry = CATALOGUE[reason.code]
    assert reason.advice == entry.advice
    assert reason.summary.startswith(entry.summary.removesuffix("."))
    assert len(reason.summary) <= len(entry.summary) + 2 * QUOTE_LIMIT + 200
    assert not re.search(r"[\x00-\x1f\x7f]", reason.summary)


@settings(max_examples=300, deadline=None)  # behaviour, not timing
@given(texts, texts, texts, texts)
def test_any_text_gives_a_catalogue_reason(
    a: str | None, b_: str | None, c: str | None, d: str | None
) -> None:
    _check(bounce_reason(a, b_, c, d))
    _check(complaint_reason(a, b_))
    _check(drop_reason(a or "", T0, b_))
    _check(reject_reason(c))
    _check(failure_reason(d))


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1), st.text(), st.sampled_from(["Permanent", "Transient", "Undetermined", None]))
def test_only_a_bounded_prefix_of_any_text_is_read(head: str, tail: str, bounce_type: str | None) -> None:
    long = (head * (SCAN_LIMIT // len(head) + 1))[:SCAN_LIMIT]
    prefix_only = bounce_reason(bounce_type, "General", None, long)
    assert bounce_reason(bounce_type, "General", None, long + tail) == prefix_only
    assert failure_reason(long + tail) == failure_reason(long)
    assert reject_reason(long + tail) == reject_reason(long)
    assert drop_reason(long + tail, None, long + tail) == drop_reason(long, None, long)


def test_a_code_past_the_scanned_prefix_is_not_seen() -> None:
    filler = "x" * SCAN_LIMIT
    assert (
        bounce_reason("Permanent", "General", None, f"smtp; 550 5.1.1 {filler}").code
        == "mailbox_does_not_exist"
    )
    assert (
        bounce_reason("Permanent", "General", None, f"smtp; {filler} 550 5.1.1").code == "permanent_failure"
    )
    huge = "smtp; 550 5.2.2 " + "mailbox full " * 1_000_000
    assert bounce_reason("Permanent", "General", None, huge).code == "mailbox_full"
