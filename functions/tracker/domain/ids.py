"""Identifiers and addresses: which characters ids may use, how ours are made, and the one email
normaliser every layer uses.

Ids end up inside DynamoDB keys (``T#{tenant}#M#{message}…``) and SES message tags, so each is kept
to an alphabet without the ``#`` separator: no input can make one tenant's key fall inside another
tenant's key range, and every id we tag a message with is one SES accepts as a tag value (ASCII
letters, digits, ``_`` and ``-``).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

# The tenant comes from the verified token's claims; it is placed in keys and SES tags.
TENANT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Ids a client chooses (customer, invoice, payment) and the path parameters that carry any id.
EXTERNAL_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,128}$"
# What an SES message tag value may hold: tenant, message and recipient ids of our send jobs.
TAG_SAFE = re.compile(r"[A-Za-z0-9_-]{1,128}")


def new_message_id(at: datetime) -> str:
    """``m`` + 13-digit epoch milliseconds + 16 random hex digits: sorts by creation time, and uses
    only characters that SES message tags and our keys allow."""
    return f"m{int(at.timestamp() * 1000):013d}{secrets.token_hex(8)}"


def recipient_id(index: int) -> str:
    """Unique within a message (the request order), SES-tag-safe."""
    return f"r{index:04d}"


def normalize_email(address: str) -> str:
    """The form every address is stored, compared and suppressed in: without surrounding white
    space, lowercase, and an internationalized domain in its ASCII form (``a@bücher.ch`` →
    ``a@xn--bcher-kva.ch``), so both spellings of one mailbox are one address.

    Total: it also normalizes what SES reports, so a string it cannot encode (no ``@``, a domain
    IDNA refuses) is only trimmed and lowercased; validating an address is the API models' job."""
    trimmed = address.strip()
    local, at, domain = trimmed.rpartition("@")
    if not at:
        return trimmed.lower()
    return f"{local.lower()}@{ascii_domain(domain)}"


# A domain name is at most 253 octets (RFC 1035); IDNA's work grows fast with a label's length.
_MAX_DOMAIN_CHARS = 253


def ascii_domain(domain: str) -> str:
    """A domain lowercased, its internationalized labels as IDNA 2008 A-labels (UTS 46 mapping,
    non-transitional: what email-validator and today's browsers do, so ``faß.de`` keeps its ß as
    ``xn--fa-hia.de``); unchanged but lowercased when IDNA refuses it."""
    if domain.isascii() or len(domain) > _MAX_DOMAIN_CHARS:
        return domain.lower()
    import idna  # only internationalized domains need its tables (not loaded on a cold start)

    try:
        return idna.encode(domain, uts46=True, std3_rules=False, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return domain.lower()
