"""Bounces: SES's bounce type and subtype, the SMTP enhanced status code (RFC 3463 and the RFC 5248
registry) and the mailbox providers' own wording, to one catalogue reason.

The most specific knowledge wins. ``bounce_reason`` asks, in this order, and the first answer counts:

1. SES's verdict subtypes (``Suppressed``, ``OnAccountSuppressionList``): SES did not even try, so
   any status code on the bounce is SES's own and says nothing about the customer's mailbox.
2. ``PROVIDER_PHRASES`` found in the diagnostic: wording that names the cause more precisely than
   the code beside it (Microsoft 365 answers 5.1.10 and 5.4.1 for an unknown recipient where
   RFC 7505 means "null MX" and RFC 3463 "no answer from host"; Gmail answers 4.7.23 for a
   missing PTR record where RFC 7372 means SPF).
3. ``ENHANCED_CODES``: a full X.Y.Z code, from the diagnostic first (the server's own words), then
   from the DSN ``status`` field.
4. ``SPECIFIC_SUBTYPES``: SES's specific subtypes (NoEmail, MailboxFull, ...).
5. ``CODE_SUBJECTS``: only the class and subject of the code are known (5.7.x, 4.4.x, ...).
6. ``CODE_CLASSES``: only the class: 4 (temporary) or 5 (permanent), from the enhanced code or, for
   an answer without one, from the SMTP reply code ("smtp; 550 ...").
7. ``BOUNCE_TYPES``: SES's bounce type alone (Permanent/General, Transient/General, Undetermined).

Rows from 5 on are generic: their summary quotes what the server answered.
"""

from __future__ import annotations

import re

from tracker.domain.reasons import catalogue as c
from tracker.domain.reasons.model import (
    Entry,
    Reason,
    by_key,
    compile_patterns,
    first_match,
    key,
    quote,
    scan_prefix,
    without_diagnostic_type,
)

# SES's bounce subtypes that mean it never handed the message to the customer's server.
SES_VERDICTS = by_key(
    {
        "Suppressed": c.SUPPRESSED_BY_SES,
        "OnAccountSuppressionList": c.ON_SES_ACCOUNT_SUPPRESSION_LIST,
    }
)

# SES's specific subtypes (the "General" and "Undetermined" ones fall through to the bounce type).
SPECIFIC_SUBTYPES = by_key(
    {
        "NoEmail": c.MAILBOX_DOES_NOT_EXIST,
        "MailboxFull": c.MAILBOX_FULL,
        "MessageTooLarge": c.MESSAGE_TOO_LARGE,
        "ContentRejected": c.CONTENT_REJECTED,
        "AttachmentRejected": c.ATTACHMENT_REJECTED,
    }
)

BOUNCE_TYPES = by_key(
    {
        "Permanent": c.PERMANENT_FAILURE,
        "Transient": c.TEMPORARY_FAILURE,
        "Undetermined": c.UNDETERMINED_BOUNCE,
    }
)

# Full enhanced status codes. X.Y.0 ("other or undefined") and 5.7.1 ("delivery not authorized",
# every provider's catch-all refusal) are deliberately absent: they say no more than the subject.
ENHANCED_CODES: dict[str, Entry] = {
    # X.1: addressing (RFC 3463; X.1.10 RFC 7505)
    "5.1.1": c.MAILBOX_DOES_NOT_EXIST,
    "5.1.2": c.DOMAIN_DOES_NOT_EXIST,
    "5.1.3": c.BAD_ADDRESS_SYNTAX,
    "5.1.6": c.MAILBOX_MOVED,
    "5.1.10": c.DOMAIN_ACCEPTS_NO_EMAIL,
    # X.2: the mailbox
    "5.2.1": c.MAILBOX_DISABLED,
    "5.2.2": c.MAILBOX_FULL,
    "4.2.2": c.MAILBOX_FULL,
    "5.2.3": c.MESSAGE_TOO_LARGE,
    # X.3: the receiving mail system
    "5.3.4": c.MESSAGE_TOO_LARGE,
    "4.3.2": c.RECIPIENT_SERVER_BUSY,
    # X.4: network and routing
    "4.4.1": c.RECIPIENT_SERVER_UNREACHABLE,
    "5.4.1": c.RECIPIENT_SERVER_UNREACHABLE,
    "4.4.2": c.RECIPIENT_SERVER_UNREACHABLE,
    "5.4.2": c.RECIPIENT_SERVER_UNREACHABLE,
    "4.4.4": c.DOMAIN_HAS_NO_MAIL_SERVER,
    "5.4.4": c.DOMAIN_HAS_NO_MAIL_SERVER,
    "4.4.5": c.RECIPIENT_SERVER_BUSY,
    "4.4.6": c.MAIL_LOOP,
    "5.4.6": c.MAIL_LOOP,
    "4.4.7": c.GAVE_UP_RETRYING,
    "5.4.7": c.GAVE_UP_RETRYING,
    # X.7: security and policy. RFC 7372: 20-22 DKIM, 23-24 SPF, 25 reverse DNS, 26 several checks.
    # X.7.27 is "sender has null MX" in RFC 7505 and X.7.30 "REQUIRETLS needed" in RFC 8689, but SES
    # sends from a MAIL FROM domain with MX records and never asks for REQUIRETLS: in bounces to SES
    # these are Gmail's "SPF did not pass" and "DKIM did not pass". 28, 32 and 40 are Gmail's too.
    "5.7.13": c.MAILBOX_DISABLED,  # RFC 5248: user account disabled
    "5.7.20": c.SENDER_DKIM_FAILED,
    "5.7.21": c.SENDER_DKIM_FAILED,
    "5.7.22": c.SENDER_DKIM_FAILED,
    "4.7.23": c.SENDER_SPF_FAILED,
    "5.7.23": c.SENDER_SPF_FAILED,
    "4.7.24": c.SENDER_SPF_FAILED,
    "5.7.24": c.SENDER_SPF_FAILED,
    "4.7.25": c.SENDER_REVERSE_DNS_FAILED,
    "5.7.25": c.SENDER_REVERSE_DNS_FAILED,
    "4.7.26": c.SENDER_AUTHENTICATION_FAILED,
    "5.7.26": c.SENDER_AUTHENTICATION_FAILED,
    "4.7.27": c.SENDER_SPF_FAILED,
    "5.7.27": c.SENDER_SPF_FAILED,
    "4.7.28": c.RATE_LIMITED,
    "5.7.28": c.SENDER_BLOCKED,
    "4.7.30": c.SENDER_DKIM_FAILED,
    "5.7.30": c.SENDER_DKIM_FAILED,
    "4.7.32": c.SENDER_DMARC_FAILED,
    "5.7.32": c.SENDER_DMARC_FAILED,
    "4.7.40": c.SENDER_DMARC_FAILED,
    "5.7.40": c.SENDER_DMARC_FAILED,
    # Microsoft 365 / Outlook.com: 5.7.509 DMARC reject, 5.7.515 authentication level not met,
    # 5.7.606-649 banned sending IP, 5.7.708 traffic not accepted from this IP.
    "5.7.509": c.SENDER_DMARC_FAILED,
    "5.7.515": c.SENDER_AUTHENTICATION_FAILED,
    **{f"5.7.{detail}": c.SENDER_BLOCKED for detail in range(606, 650)},
    "5.7.708": c.SENDER_BLOCKED,
}

# What is left when only class and subject are known (RFC 3463 section 3).
CODE_SUBJECTS: dict[str, Entry] = {
    "4.1": c.ADDRESS_REJECTED,
    "5.1": c.ADDRESS_REJECTED,
    "4.2": c.MAILBOX_UNAVAILABLE,
    "5.2": c.MAILBOX_UNAVAILABLE,
    "4.3": c.RECIPIENT_SYSTEM_PROBLEM,
    "5.3": c.RECIPIENT_SYSTEM_PROBLEM,
    "4.4": c.ROUTING_PROBLEM,
    "5.4": c.ROUTING_PROBLEM,
    "4.6": c.FORMAT_NOT_ACCEPTED,
    "5.6": c.FORMAT_NOT_ACCEPTED,
    "4.7": c.DEFERRED_BY_RECIPIENT,  # greylisting, rate limits, temporary reputation blocks
    "5.7": c.REJECTED_BY_POLICY,
}

CODE_CLASSES: dict[str, Entry] = {"4": c.TEMPORARY_FAILURE, "5": c.PERMANENT_FAILURE}

# Wording that names the cause (case-insensitive, first row that matches wins, so the narrower rows
# come first: Gmail's "unauthenticated" texts mention SPF and DKIM, its rate-limit texts mention SPF).
PROVIDER_PHRASES = compile_patterns(
    [
        (r"\bDMARC\b", c.SENDER_DMARC_FAILED),
        (
            r"\bunauthenticated\b|fails? to pass authentication|authentication information"
            r"|required authentication level",
            c.SENDER_AUTHENTICATION_FAILED,
        ),
        (
            r"\bSPF (authentication )?(did ?n[o']?t|does ?n[o']?t|did not|does not) pass"
            r"|(did ?n[o']?t|does ?n[o']?t|fails? to) pass SPF|\bSPF (check|validation) fail",
            c.SENDER_SPF_FAILED,
        ),
        (
            r"\bDKIM (authentication )?(did ?n[o']?t|does ?n[o']?t|did not|does not) pass"
            r"|(did ?n[o']?t|does ?n[o']?t|fails? to) pass DKIM|no (valid|passing) DKIM",
            c.SENDER_DKIM_FAILED,
        ),
        (r"\bPTR record|reverse DNS", c.SENDER_REVERSE_DNS_FAILED),
        (
            r"block ?list|black ?list|deny ?list|blocked using|spamhaus|spamcop|barracuda|\bDNSBL\b"
            r"|banned sending IP|reputation|traffic not accepted|permanently deferred|\bTSS09\b",
            c.SENDER_BLOCKED,
        ),
        (r"gr[ae]y ?list", c.GREYLISTED),
        (
            r"unusual rate|unexpected volume|rate limit|receiving e?mail (too quickly|at a rate)"
            r"|too many (messages|connections)|temporarily deferred|\bTSS0[1-8]\b",
            c.RATE_LIMITED,
        ),
        (
            r"likely unsolicited|(identified|classified|considered|detected|rejected|blocked) as spam"
            r"|high probability of spam|spam (content|detected)",
            c.REJECTED_AS_SPAM,
        ),
        (
            r"content presents a potential security issue|(blocked|prohibited|banned|unacceptable) "
            r"(file|attachment)|attachment (type )?(is |was )?(not allowed|blocked|rejected)",
            c.ATTACHMENT_REJECTED,
        ),
        (r"nature of the content|content (was )?(rejected|not (allowed|accepted))", c.CONTENT_REJECTED),
        (
            r"(over quota|out of storage space) and inactive|tried to reach is (disabled|inactive)"
            r"|(mailbox|account|user) (is )?(disabled|inactive|suspended)",
            c.MAILBOX_DISABLED,
        ),
        (
            r"over ?quota|quota ?exceeded|mailbox (is )?full|out of storage space|exceeded storage allocation",
            c.MAILBOX_FULL,
        ),
        (
            r"user unknown|unknown (user|recipient)|no such (user|mailbox|recipient|address)"
            r"|(user|recipient|mailbox|address) (does not|doesn't|does ?nt) exist|tried to reach does not exist"
            r"|(user|recipient|mailbox) not found|Recip(ient)?NotFound|doesn't have an? \S+ account"
            r"|5\.4\.1 Recipient address rejected: Access denied|requested action not taken: mailbox unavailable",
            c.MAILBOX_DOES_NOT_EXIST,
        ),
        (
            r"find the recipient domain|unrout(e)?able (address|domain)|host or domain name not found",
            c.DOMAIN_DOES_NOT_EXIST,
        ),
        (r"mail loop|hop count exceeded|too many hops|exceeded \d+ hops", c.MAIL_LOOP),
        (r"out of (the )?office|auto-?reply|automatic reply", c.AUTO_REPLY),
    ]
)

# An enhanced status code (RFC 3463: class 2/4/5, subject and detail of 1-3 digits), not a piece of
# an IP address or a dotted version ("4.16.55.1").
_ENHANCED = re.compile(r"(?<![\w.])([245])\.(\d{1,3})\.(\d{1,3})(?!\w|\.\d)")
# The SMTP reply code that opens an answer ("550 ...", "421-..."), for its class only.
_REPLY = re.compile(r"^([245])\d\d(?!\d)")
# A multi-line reply repeats its codes on every line ("550-5.7.26 ... 550-5.7.26 ... 550 5.7.26 ...").
_OPENING = re.compile(r"^([245]\d\d)[- ]([245]\.\d{1,3}\.\d{1,3})(?=\s|$)")
_STATUS_LIMIT = 64


def _enhanced_code(text: str) -> str | None:
    found = _ENHANCED.search(text)
    if found is None:
        return None
    code_class, subject, detail = found.groups()
    return f"{code_class}.{int(subject)}.{int(detail)}"


def _joined(answer: str) -> str:
    """A multi-line reply as one sentence: the codes repeated at each line start are dropped, so
    wording broken across lines still matches and the quote reads as the server's text."""
    opening = _OPENING.match(answer)
    if opening is None:
        return answer
    reply, code = (re.escape(part) for part in opening.groups())
    repeated = re.compile(rf"\s{reply}[- ]{code}(?=\s|$)")
    return " ".join(repeated.sub(" ", answer).split())


def _by_subject(codes: list[str]) -> Entry | None:
    return next(
        (CODE_SUBJECTS[s] for s in (code.rsplit(".", 1)[0] for code in codes) if s in CODE_SUBJECTS), None
    )


def _by_class(codes: list[str], answer: str) -> Entry | None:
    reply = _REPLY.match(answer)
    classes = [code[0] for code in codes] + ([reply.group(1)] if reply else [])
    return next((CODE_CLASSES[cls] for cls in classes if cls in CODE_CLASSES), None)


def bounce_reason(
    bounce_type: str | None, bounce_subtype: str | None, status: str | None, diagnostic: str | None
) -> Reason:
    """The reason for one bounced recipient, from the fields SES reports for it (see module doc).

    Only the first ``model.SCAN_LIMIT`` characters of ``diagnostic`` are ever read.
    """
    answer = _joined(without_diagnostic_type(scan_prefix(diagnostic)))
    status_text = scan_prefix(status, _STATUS_LIMIT)
    codes = [code for code in (_enhanced_code(answer), _enhanced_code(status_text)) if code is not None]
    subtype = key(bounce_subtype)
    entry = (
        SES_VERDICTS.get(subtype)
        or first_match(PROVIDER_PHRASES, answer)
        or next((ENHANCED_CODES[code] for code in codes if code in ENHANCED_CODES), None)
        or SPECIFIC_SUBTYPES.get(subtype)
        or _by_subject(codes)
        or _by_class(codes, answer)
        or BOUNCE_TYPES.get(key(bounce_type), c.UNDETERMINED_BOUNCE)
    )
    return entry.reason(quote(answer) or quote(status_text))
