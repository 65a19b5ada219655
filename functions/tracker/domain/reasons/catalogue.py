"""Every reason the tracker can give: one row per stable code, with its summary and its advice.

Written for the business owner who sent the invoice: "the customer" is the recipient, "you" the
sender. The mapping tables (``bounces``, ``outcomes``) only point at these rows; docs/reasons.md
lists them with what each is derived from. Rows with ``quote_as`` are the generic ones: their
summary ends with what the other side actually said.
"""

from __future__ import annotations

from collections.abc import Mapping

from tracker.domain.reasons.model import Catalogue, Entry

_catalogue = Catalogue()
_add = _catalogue.add

SERVER_ANSWERED = "The server answered"

# --- bounces: SES did not even try --------------------------------------------------------------

SUPPRESSED_BY_SES = _add(
    "suppressed_by_ses",
    "Not sent: the address is on Amazon SES's global suppression list because it recently bounced "
    "for other senders.",
    "Ask the customer for another email address; SES takes addresses off its global list by itself "
    "after a while.",
)
ON_SES_ACCOUNT_SUPPRESSION_LIST = _add(
    "on_ses_account_suppression_list",
    "Not sent: the address is on the suppression list of your Amazon SES account after an earlier "
    "bounce or complaint.",
    "Once the customer confirms the address works, ask your administrator to remove it from the SES "
    "account-level suppression list, then resend.",
)

# --- bounces: the address -------------------------------------------------------------------------

MAILBOX_DOES_NOT_EXIST = _add(
    "mailbox_does_not_exist",
    "The email address does not exist at the customer's email provider.",
    "Ask the customer for a new email address.",
)
BAD_ADDRESS_SYNTAX = _add(
    "bad_address_syntax",
    "The email address is not written correctly (for example a typo or a missing part).",
    "Correct the address with the customer and resend.",
)
DOMAIN_DOES_NOT_EXIST = _add(
    "domain_does_not_exist",
    "The part of the address after the @ is not a domain that exists.",
    "Check the spelling of the domain with the customer and resend to the corrected address.",
)
DOMAIN_HAS_NO_MAIL_SERVER = _add(
    "domain_has_no_mail_server",
    "The customer's domain has no mail server that email can be delivered to.",
    "Check the address with the customer; if the domain is right, their email setup needs fixing "
    "before you resend.",
)
DOMAIN_ACCEPTS_NO_EMAIL = _add(
    "domain_accepts_no_email",
    "The customer's domain states that it does not accept email at all.",
    "Ask the customer for an address at a domain that receives email.",
)
MAILBOX_MOVED = _add(
    "mailbox_moved",
    "The customer's mailbox has moved, and their server gave no forwarding address.",
    "Ask the customer for their new email address.",
)
ADDRESS_REJECTED = _add(
    "address_rejected",
    "The customer's email provider rejected the email address.",
    "Check the address with the customer and resend to the corrected one.",
    SERVER_ANSWERED,
)

# --- bounces: the mailbox -----------------------------------------------------------------------

MAILBOX_DISABLED = _add(
    "mailbox_disabled",
    "The customer's mailbox is disabled or no longer in use.",
    "Ask the customer for an email address they use now.",
)
MAILBOX_FULL = _add(
    "mailbox_full",
    "The customer's mailbox is full.",
    "Let the customer know (by phone or another address) so they can free up space, then resend.",
)
MESSAGE_TOO_LARGE = _add(
    "message_too_large",
    "The message is larger than the customer's email provider accepts.",
    "Make the attachments smaller (or send a link instead), then resend.",
)
MAILBOX_UNAVAILABLE = _add(
    "mailbox_unavailable",
    "The customer's mailbox could not take the message.",
    "Ask the customer whether their mailbox is working, then resend.",
    SERVER_ANSWERED,
)
AUTO_REPLY = _add(
    "auto_reply",
    "The customer's mailbox sent an automatic reply (such as out of office); the message itself "
    "probably arrived.",
    "No action is needed; if it is urgent, contact the customer another way.",
)

# --- bounces: the customer's mail servers and the way there --------------------------------------

RECIPIENT_SERVER_BUSY = _add(
    "recipient_server_busy",
    "The customer's mail server was too busy to accept the message, and the retries ran out.",
    "Resend later; the problem is on the customer's side and usually passes.",
)
RECIPIENT_SERVER_UNREACHABLE = _add(
    "recipient_server_unreachable",
    "The customer's mail server could not be reached.",
    "Resend later; if it keeps failing, ask the customer whether their email is working.",
)
RECIPIENT_SYSTEM_PROBLEM = _add(
    "recipient_system_problem",
    "The customer's mail system had a problem accepting the message.",
    "Resend later; if it keeps failing, contact the customer another way.",
    SERVER_ANSWERED,
)
ROUTING_PROBLEM = _add(
    "routing_problem",
    "The message could not be passed on to the customer's mail server.",
    "Check the domain of the address with the customer; if it is right, resend later.",
    SERVER_ANSWERED,
)
MAIL_LOOP = _add(
    "mail_loop",
    "The message went round in a loop between mail servers and was stopped.",
    "Ask the customer to check their email forwarding settings, then resend.",
)
GAVE_UP_RETRYING = _add(
    "gave_up_retrying",
    "Delivery was retried for hours without success and then given up.",
    "Check the address with the customer and resend; if it fails again, reach them another way.",
)

# --- bounces: the message -----------------------------------------------------------------------

CONTENT_REJECTED = _add(
    "content_rejected",
    "The customer's email provider did not accept the content of the message.",
    "Review the wording and links of the message (avoid spam-like phrases and shortened links), then resend.",
)
ATTACHMENT_REJECTED = _add(
    "attachment_rejected",
    "The customer's email provider did not accept an attachment of the message.",
    "Attach the document in a common format such as PDF (or send a link to it), then resend.",
)
FORMAT_NOT_ACCEPTED = _add(
    "format_not_accepted",
    "The customer's mail server could not handle the format of the message.",
    "Resend the message with plain content and standard attachments.",
    SERVER_ANSWERED,
)
REJECTED_AS_SPAM = _add(
    "rejected_as_spam",
    "The customer's email provider rejected the message as likely spam.",
    "Ask the customer to add your sending address to their contacts, keep the wording and links "
    "plain, then resend.",
)

# --- bounces: the sender (you) ------------------------------------------------------------------

REJECTED_BY_POLICY = _add(
    "rejected_by_policy",
    "The customer's email provider refused the message because of its own rules.",
    "Ask the customer to allow (safelist) your sending address with their email provider, then resend.",
    SERVER_ANSWERED,
)
SENDER_BLOCKED = _add(
    "sender_blocked",
    "The customer's email provider is blocking mail from the sending server or domain because of "
    "its reputation or a blocklist.",
    "Ask your administrator to check the sending reputation and blocklists; resending now will fail "
    "the same way.",
)
SENDER_SPF_FAILED = _add(
    "sender_spf_failed",
    "The customer's email provider refused the message because your domain's SPF check failed.",
    "Ask whoever manages your domain's DNS to authorise SES in its SPF record (or to set up a custom "
    "MAIL FROM domain), then resend.",
)
SENDER_DKIM_FAILED = _add(
    "sender_dkim_failed",
    "The customer's email provider refused the message because its DKIM signature did not pass.",
    "Ask your administrator to set up DKIM for your domain in SES and to check its DNS records, then resend.",
)
SENDER_DMARC_FAILED = _add(
    "sender_dmarc_failed",
    "The customer's email provider refused the message because your domain's DMARC check failed or "
    "your domain has no DMARC record.",
    "Ask whoever manages your domain to publish a DMARC record and to align SPF or DKIM with your "
    "From address, then resend.",
)
SENDER_AUTHENTICATION_FAILED = _add(
    "sender_authentication_failed",
    "The customer's email provider refused the message because it could not confirm that the "
    "message really came from your domain.",
    "Ask your administrator to set up SPF, DKIM and DMARC for your sending domain in SES, then resend.",
)
SENDER_REVERSE_DNS_FAILED = _add(
    "sender_reverse_dns_failed",
    "The customer's email provider refused the message because the sending server's IP address "
    "has no valid reverse DNS (PTR) record.",
    "Ask your administrator to check the reverse DNS of the sending IP address (dedicated IPs need "
    "one), then resend.",
)
DEFERRED_BY_RECIPIENT = _add(
    "deferred_by_recipient",
    "The customer's email provider asked to try again later, and the retries ran out.",
    "Resend later; if this keeps happening, ask your administrator to check the sending reputation.",
    SERVER_ANSWERED,
)
GREYLISTED = _add(
    "greylisted",
    "The customer's mail server holds back mail from new senders for a while (greylisting), and "
    "the retries ran out before it was accepted.",
    "Resend; a later attempt is usually accepted.",
)
RATE_LIMITED = _add(
    "rate_limited",
    "The customer's email provider is limiting how much mail it accepts from the sender right now.",
    "Resend later; if it keeps happening, ask your administrator to check the sending volume and complaints.",
)

# --- bounces: nothing more specific is known ----------------------------------------------------

PERMANENT_FAILURE = _add(
    "permanent_failure",
    "The customer's email provider refused the message for good.",
    "Check the address with the customer, and read the server's answer for the details.",
    SERVER_ANSWERED,
)
TEMPORARY_FAILURE = _add(
    "temporary_failure",
    "The customer's email provider could not accept the message for now, and the retries ran out.",
    "Resend later; if it fails again, check the address with the customer.",
    SERVER_ANSWERED,
)
UNDETERMINED_BOUNCE = _add(
    "undetermined_bounce",
    "The message bounced, but the bounce did not say why.",
    "Check the address with the customer and resend.",
    SERVER_ANSWERED,
)

# --- complaints ---------------------------------------------------------------------------------

COMPLAINT_SPAM = _add(
    "complaint_spam",
    "The customer marked the message as spam.",
    "Contact the customer another way to check that they want your emails; lift the suppression "
    "only if they do.",
)
COMPLAINT_AUTHENTICATION_FAILURE = _add(
    "complaint_authentication_failure",
    "The customer's email provider reported that the message failed email authentication.",
    "Ask your administrator to check SPF, DKIM and DMARC for your sending domain.",
)
COMPLAINT_FRAUD = _add(
    "complaint_fraud",
    "The customer's email provider reported the message as fraud or phishing.",
    "Check that the message really came from you; if someone is impersonating your business, warn "
    "the customer and your administrator.",
)
COMPLAINT_NOT_SPAM = _add(
    "complaint_not_spam",
    "The customer's email provider reported the message as not spam (it had been filtered by mistake).",
    "No action is needed for the customer; if this report suppressed the address, lift the suppression.",
)
COMPLAINT_OTHER = _add(
    "complaint_other",
    "The customer's email provider reported a problem with the message that fits none of the usual kinds.",
    "Contact the customer another way to find out what went wrong before emailing them again.",
)
COMPLAINT_VIRUS = _add(
    "complaint_virus",
    "The customer's email provider reported that the message contained a virus.",
    "Have your attachments scanned for malware and tell your administrator; contact the customer "
    "another way meanwhile.",
)
COMPLAINT_UNSPECIFIED = _add(
    "complaint_unspecified",
    "The customer complained about the message; their email provider did not say why.",
    "Contact the customer another way to check that they want your emails before sending again.",
)
COMPLAINT_UNRECOGNISED = _add(
    "complaint_unrecognised",
    "The customer's email provider sent a complaint of a kind the tracker does not know.",
    "Contact the customer another way to find out what went wrong before emailing them again.",
    "The reported kind",
)

# --- drops (the tracker's own suppression) ------------------------------------------------------

SUPPRESSED_AFTER_COMPLAINT = _add(
    "suppressed_after_complaint",
    "Not sent: this address is suppressed because the customer complained about an earlier email.",
    "Only email this customer again if they ask you to: then lift the suppression of the address and resend.",
)
SUPPRESSED_AFTER_PERMANENT_BOUNCES = _add(
    "suppressed_after_permanent_bounces",
    "Not sent: this address is suppressed because earlier emails to it bounced for good.",
    "Ask the customer for a working email address, or lift the suppression if they confirm this one "
    "works again, then resend.",
)
SUPPRESSED_AFTER_TRANSIENT_BOUNCES = _add(
    "suppressed_after_transient_bounces",
    "Not sent: this address is suppressed because earlier emails to it kept bouncing.",
    "Check with the customer that their mailbox works (it may be full or switched off), then lift "
    "the suppression and resend.",
)
UNSUBSCRIBED = _add(
    "unsubscribed",
    "Not sent: the customer unsubscribed from your emails.",
    "Only email them again if they subscribe again; invoices and receipts still reach them.",
)
SUPPRESSED_OTHER = _add(
    "suppressed_other",
    "Not sent: this address is suppressed.",
    "Check why the address is suppressed, and lift the suppression if it should receive email again.",
    "The rule",
)

# --- rejects (SES refused the accepted message) -------------------------------------------------

REJECTED_VIRUS = _add(
    "rejected_virus",
    "Not sent: a virus was found in the message.",
    "Check the attachments for malware, replace the infected file, and send the message again.",
)
REJECTED_BY_SES = _add(
    "rejected_by_ses",
    "Not sent: the sending service (Amazon SES) refused the message.",
    "Check the content and attachments of the message, then send it again.",
    "It said",
)

# --- failures (the send did not happen) ---------------------------------------------------------

ERROR_WAS = "The error was"

TEMPLATE_RENDERING_FAILED = _add(
    "template_rendering_failed",
    "The email template could not be filled in, so the message was not sent.",
    "Fix the template or the data sent with it (the error names what is missing), then resend.",
)
SES_ACCOUNT_SUSPENDED = _add(
    "ses_account_suspended",
    "Your SES account is suspended, so no email can be sent.",
    "Ask your administrator to resolve the suspension with AWS, then resend.",
)
SES_SENDING_PAUSED = _add(
    "ses_sending_paused",
    "Sending is paused for your SES account or its configuration, so the message was not sent.",
    "Ask your administrator to resume sending in SES, then resend.",
)
MAIL_FROM_DOMAIN_NOT_VERIFIED = _add(
    "mail_from_domain_not_verified",
    "The custom MAIL FROM domain of your sending domain is not verified in SES.",
    "Ask your administrator to fix the MAIL FROM domain's DNS records in SES, then resend.",
)
SENDER_NOT_VERIFIED = _add(
    "sender_not_verified",
    "The sending service refused the message because an address in it is not verified in SES (in the SES sandbox, "
    "recipients must be verified too).",
    "Ask your administrator to verify the sending domain in SES, or to request production access, "
    "then resend.",
)
SENDER_ADDRESS_MISSING = _add(
    "sender_address_missing",
    "No sender address is configured, so nothing can be sent.",
    "Ask your administrator to configure the sender address, then resend.",
)
SES_CONFIGURATION_MISSING = _add(
    "ses_configuration_missing",
    "Part of the SES setup needed to send (an identity or a configuration set) was not found.",
    "Ask your administrator to check the SES setup of the tracker, then resend.",
)
THROTTLED = _add(
    "throttled",
    "Sending was limited (the account's sending rate or daily quota was reached), so the message "
    "was not sent.",
    "Resend later; if it keeps happening, ask your administrator to raise the SES sending quota.",
)
OUTCOME_UNKNOWN = _add(
    "outcome_unknown",
    "The message was handed over for sending but no answer came back, so it may or may not have been sent; "
    "it was not sent again to avoid a duplicate.",
    "Ask the customer whether it arrived; if it did not, resend.",
)
NOT_QUEUED = _add(
    "not_queued",
    "The message could not be queued for sending.",
    "Send the message again.",
)
CONTENT_UNAVAILABLE = _add(
    "content_unavailable",
    "The content of the message could not be read when it was due to be sent.",
    "Send the message again; if it keeps failing, tell your administrator.",
)
SEND_ATTEMPTS_EXHAUSTED = _add(
    "send_attempts_exhausted",
    "The sender gave up after several attempts, so the message was not sent.",
    "Resend; if it keeps failing, tell your administrator.",
)
SES_UNAVAILABLE = _add(
    "ses_unavailable",
    "The sending service could not be reached or had an internal error, so the message was not sent.",
    "Resend later.",
)
REJECTED_BY_SES_ON_SEND = _add(
    "rejected_by_ses_on_send",
    "The sending service would not accept the message.",
    "Check the message and its addresses against the error, then resend.",
    ERROR_WAS,
)
INVALID_SEND_REQUEST = _add(
    "invalid_send_request",
    "The sending service refused the send as invalid, often because the email address is malformed.",
    "Check the customer's email address and the message, then resend.",
    ERROR_WAS,
)
SEND_FAILED = _add(
    "send_failed",
    "The message could not be sent.",
    "Resend; if it fails again, tell your administrator.",
    ERROR_WAS,
)

CATALOGUE: Mapping[str, Entry] = _catalogue.entries()
