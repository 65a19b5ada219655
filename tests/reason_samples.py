"""Bounce diagnostics as mailbox providers publish them, relayed the way SES reports them.

Each sample is (provider, DSN status, diagnosticCode, the reason code it must get). The texts follow
the providers' own error pages (Google's "Gmail SMTP errors and codes", Microsoft's "Email
non-delivery reports and SMTP errors in Exchange Online", Yahoo's "SMTP Error Codes"), with their
multi-line replies as SES relays them; addresses, IPs and session ids are documentation examples.
"""

from __future__ import annotations

from typing import NamedTuple


class Sample(NamedTuple):
    provider: str
    status: str | None
    diagnostic: str
    expected: str


def _gmail(reply: str, code: str, lines: list[str], session: str = "a1-20020a17090") -> str:
    """A Gmail multi-line reply: every line but the last starts "550-5.1.1", the last "550 5.1.1"."""
    heads = [f"{reply}-{code} {line}" for line in lines[:-1]]
    return "smtp; " + "\n".join([*heads, f"{reply} {code} {lines[-1]} {session} - gsmtp"])


GMAIL = [
    Sample(
        "gmail",
        "5.1.1",
        _gmail(
            "550",
            "5.1.1",
            [
                "The email account that you tried to reach does not exist. Please try",
                "double-checking the recipient's email address for typos or",
                "unnecessary spaces. For more information, go to",
                " https://support.google.com/mail/?p=NoSuchUser",
            ],
        ),
        "mailbox_does_not_exist",
    ),
    Sample(
        "gmail",
        "4.2.2",
        _gmail(
            "452",
            "4.2.2",
            [
                "The recipient's inbox is out of storage space. Please direct the",
                "recipient to",
                " https://support.google.com/mail/?p=OverQuotaTemp",
            ],
        ),
        "mailbox_full",
    ),
    Sample(
        "gmail",
        "5.2.2",
        _gmail(
            "552",
            "5.2.2",
            [
                "The recipient's inbox is out of storage space and inactive. Please direct",
                "the recipient to",
                " https://support.google.com/mail/?p=OverQuotaPerm",
            ],
        ),
        "mailbox_disabled",
    ),
    Sample(
        "gmail",
        "5.2.1",
        _gmail(
            "550",
            "5.2.1",
            [
                "The email account that you tried to reach is inactive. For more",
                "information, go to",
                " https://support.google.com/mail/?p=DisabledUser",
            ],
        ),
        "mailbox_disabled",
    ),
    Sample(
        "gmail",
        "5.1.2",
        _gmail(
            "553",
            "5.1.2",
            [
                "We weren't able to find the recipient domain. Please check for any",
                "spelling errors, and make sure you didn't enter any spaces, periods,",
                "or other punctuation after the recipient's email address.",
            ],
        ),
        "domain_does_not_exist",
    ),
    Sample(
        "gmail",
        "5.3.4",
        _gmail(
            "552",
            "5.3.4",
            ["Your message exceeded Google's message size limits. To view our", "message size guidelines."],
        ),
        "message_too_large",
    ),
    Sample(
        "gmail",
        "5.7.0",
        _gmail(
            "552",
            "5.7.0",
            [
                "This message was blocked because its content presents a potential",
                "security issue. To review our message content and attachment content",
                "guidelines, go to https://support.google.com/mail/?p=BlockedMessage",
            ],
        ),
        "attachment_rejected",
    ),
    Sample(
        "gmail",
        "5.7.1",
        _gmail(
            "550",
            "5.7.1",
            [
                "[192.0.2.10      12] Our system has detected that this message is",
                "likely unsolicited mail. To reduce the amount of spam sent to Gmail,",
                "this message has been blocked. For more information, go to",
                " https://support.google.com/mail/?p=UnsolicitedMessageError",
            ],
        ),
        "rejected_as_spam",
    ),
    Sample(
        "gmail",
        "5.7.1",
        _gmail(
            "550",
            "5.7.1",
            [
                "[192.0.2.10] This message is likely suspicious due to the very low",
                "reputation of the sending domain. To best protect our users from spam,",
                "the message has been blocked.",
            ],
        ),
        "sender_blocked",
    ),
    Sample(
        "gmail",
        "5.7.1",
        _gmail(
            "550",
            "5.7.1",
            [
                "The user or domain that you are sending to (or from) has a policy that",
                "prohibits the email that you sent. Contact your domain administrator",
                "for assistance. - gcdp <sessionid>",
            ],
        ),
        "rejected_by_policy",
    ),
    Sample(
        "gmail",
        "5.7.26",
        _gmail(
            "550",
            "5.7.26",
            [
                "This mail has been blocked because the sender is",
                "unauthenticated. Gmail requires all senders to authenticate with",
                "either SPF or DKIM.",
                "",
                " Authentication results:",
                " DKIM = did not pass",
                " SPF [example.com] with ip: [192.0.2.10] = did not pass",
                "",
                " For instructions on setting up authentication, go to",
                " https://support.google.com/mail/answer/81126#authentication",
            ],
        ),
        "sender_authentication_failed",
    ),
    Sample(
        "gmail",
        "5.7.26",
        _gmail(
            "550",
            "5.7.26",
            [
                "Unauthenticated email from example.com is not accepted due to",
                "domain's DMARC policy. Please contact the administrator of",
                "example.com domain if this was a legitimate mail. To learn about the",
                "DMARC initiative, go to",
                " https://support.google.com/mail/?p=DmarcRejection",
            ],
        ),
        "sender_dmarc_failed",
    ),
    Sample(
        "gmail",
        "5.7.27",
        _gmail(
            "550",
            "5.7.27",
            [
                "This message was blocked because it didn't pass SPF",
                "authentication. Gmail requires bulk email senders to authenticate",
                "their email with SPF.",
            ],
        ),
        "sender_spf_failed",
    ),
    Sample(
        "gmail",
        "5.7.30",
        _gmail(
            "550",
            "5.7.30",
            [
                "This message was blocked because it didn't pass DKIM",
                "authentication. Gmail requires bulk email senders to authenticate",
                "their email with DKIM.",
            ],
        ),
        "sender_dkim_failed",
    ),
    Sample(
        "gmail",
        "5.7.25",
        _gmail(
            "550",
            "5.7.25",
            [
                "[192.0.2.10] The IP address sending this message does not have a",
                "PTR record setup, or the corresponding forward DNS entry does not",
                "point to the sending IP.",
            ],
        ),
        "sender_reverse_dns_failed",
    ),
    # RFC 7372 registers X.7.23 for SPF; Gmail's wording wins.
    Sample(
        "gmail",
        "4.7.23",
        _gmail(
            "451",
            "4.7.23",
            [
                "The sending IP address for this message doesn't have a PTR record, or",
                "the PTR record's forward DNS entry doesn't match the sending IP",
                "address. To protect users from spam, your email has been",
                "temporarily rate limited.",
            ],
        ),
        "sender_reverse_dns_failed",
    ),
    Sample(
        "gmail",
        "4.7.28",
        _gmail(
            "421",
            "4.7.28",
            [
                "Gmail has detected an unusual rate of unsolicited email originating",
                "from your IP address 192.0.2.10. To protect our users from spam, email sent",
                "from your IP address has been temporarily rate limited.",
            ],
        ),
        "rate_limited",
    ),
    Sample(
        "gmail",
        "4.2.1",
        _gmail(
            "450",
            "4.2.1",
            [
                "The user you are trying to contact is receiving mail too quickly.",
                "Please resend your message at a later time.",
            ],
        ),
        "rate_limited",
    ),
    Sample(
        "gmail",
        "5.4.6",
        "smtp; 554 5.4.6 Message exceeded 50 hops, this may indicate an email loop. a1-20020a17090 - gsmtp",
        "mail_loop",
    ),
]

MICROSOFT = [
    # Exchange Online answers 5.1.10 for an unknown recipient (RFC 7505 means "null MX").
    Sample(
        "microsoft365",
        "5.1.10",
        "smtp; 550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
        "mailbox_does_not_exist",
    ),
    Sample(
        "microsoft365",
        "5.4.1",
        "smtp; 550 5.4.1 Recipient address rejected: Access denied. For more information see "
        "https://aka.ms/EXOSmtpErrors [AM4PEPF00027A5F.eurprd04.prod.outlook.com 2025-01-15T10:22:33.123Z]",
        "mailbox_does_not_exist",
    ),
    Sample(
        "microsoft365",
        "5.2.2",
        "smtp; 554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException."
        "MapiExceptionShutoffQuotaExceeded; Failed to process message due to a permanent exception",
        "mailbox_full",
    ),
    Sample(
        "microsoft365",
        "5.7.509",
        "smtp; 550 5.7.509 Access denied, sending domain example.com does not pass DMARC verification and "
        "has a DMARC policy of reject. [BN1NAM02FT045.eop-nam02.prod.protection.outlook.com]",
        "sender_dmarc_failed",
    ),
    Sample(
        "outlook.com",
        "5.7.515",
        "smtp; 550 5.7.515 Access denied, sending domain example.com does not meet the required "
        "authentication level.",
        "sender_authentication_failed",
    ),
    Sample(
        "microsoft365",
        "5.7.606",
        "smtp; 550 5.7.606 Access denied, banned sending IP [192.0.2.10]. To request removal from this "
        "list please visit https://sender.office.com/ and follow the directions. AS(1430)",
        "sender_blocked",
    ),
    Sample(
        "outlook.com",
        "5.5.0",
        "smtp; 550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). "
        "[DB5EUR03FT033.eop-EUR03.prod.protection.outlook.com]",
        "mailbox_does_not_exist",
    ),
    Sample(
        "outlook.com",
        "5.7.1",
        "smtp; 550 5.7.1 Unfortunately, messages from [192.0.2.10] weren't sent. Please contact your "
        "Internet service provider since part of their network is on our block list (S3150).",
        "sender_blocked",
    ),
    Sample(
        "microsoft365",
        "5.4.14",
        "smtp; 550 5.4.14 Hop count exceeded - possible mail loop ATTR34 "
        "[DM6NAM12FT055.eop-nam12.prod.protection.outlook.com]",
        "mail_loop",
    ),
    Sample(
        "outlook.com",
        "4.7.650",
        "smtp; 451 4.7.650 The mail server [192.0.2.10] has been temporarily rate limited due to IP "
        "reputation. For e-mail delivery information, see https://postmaster.live.com (S775)",
        "sender_blocked",
    ),
]

YAHOO = [
    # No enhanced code in the answer: SES's DSN status is generic.
    Sample(
        "yahoo",
        "5.0.0",
        "smtp; 554 delivery error: dd This user doesn't have a yahoo.com account (testing123@yahoo.com) "
        "[-5] - mta123.mail.mud.yahoo.com",
        "mailbox_does_not_exist",
    ),
    # "4.16.55.1" is Yahoo's own reference, not a status code.
    Sample(
        "yahoo",
        "4.7.0",
        "smtp; 421 4.7.0 [TSS04] Messages from 192.0.2.10 temporarily deferred due to unexpected volume "
        "or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes",
        "rate_limited",
    ),
    Sample(
        "yahoo",
        "5.7.9",
        "smtp; 554 5.7.9 Message not accepted for policy reasons.  See https://postmaster.yahooinc.com/error-codes",
        "rejected_by_policy",
    ),
    Sample(
        "yahoo",
        "5.7.9",
        "smtp; 550 5.7.9 This mail has been blocked because the sender is unauthenticated. Yahoo requires "
        "all senders to authenticate with either SPF or DKIM.",
        "sender_authentication_failed",
    ),
    Sample(
        "yahoo",
        "5.7.2",
        "smtp; 553 5.7.2 [TSS09] All messages from 192.0.2.10 will be permanently deferred; Retrying will "
        "NOT succeed. See https://postmaster.yahooinc.com/error-codes",
        "sender_blocked",
    ),
]

OTHERS = [
    Sample(
        "postfix",
        "5.1.1",
        "smtp; 550 5.1.1 <jane@example.com>: Recipient address rejected: User unknown in virtual mailbox table",
        "mailbox_does_not_exist",
    ),
    Sample(
        "postgrey",
        "4.2.0",
        "smtp; 450 4.2.0 <jane@example.com>: Recipient address rejected: Greylisted, see "
        "http://postgrey.schweikert.ch/help/example.com.html",
        "greylisted",
    ),
    Sample(
        "spamhaus",
        "5.7.1",
        "smtp; 554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using zen.spamhaus.org; "
        "https://www.spamhaus.org/query/ip/192.0.2.10",
        "sender_blocked",
    ),
    Sample("ses-guide", "5.0.0", "smtp; 550 user unknown", "mailbox_does_not_exist"),
    Sample("rfc7505", "5.1.10", "smtp; 556 5.1.10 Recipient address has null MX", "domain_accepts_no_email"),
    Sample(
        "ses",
        "4.4.7",
        "smtp; 554 4.4.7 Message expired: unable to deliver in 840 minutes.<421 4.4.0 Unable to lookup DNS "
        "for example.com>",
        "gave_up_retrying",
    ),
]

SAMPLES = [*GMAIL, *MICROSOFT, *YAHOO, *OTHERS]
