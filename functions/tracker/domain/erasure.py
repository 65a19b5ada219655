"""Erasing a customer's personal data (GDPR Art. 17) while keeping what the business must count.

An erased recipient keeps its keys, status, tallies, times, counts and timeline (event kinds, times,
ids, fetch classes, bounce types): everything a message's counts and a status are made of. It loses
its address (replaced by ``pseudonym``), its name, the clicked links' addresses and every event
detail but a short list of codes (``KEPT_DETAILS``): user agents, IP addresses, SMTP diagnostics
that quote the address, reporting MTAs, feedback ids.

The pseudonym is a SHA-256 of the tenant and the normalized address. It is what the erased items
hold instead of the address, and the key the address's suppression is moved to: sending to the
address again computes the same pseudonym, so a suppressed address stays suppressed after erasure
without being stored. (A hash of an address is pseudonymous, not anonymous: whoever already knows
the address can recognise it; nobody can read it back.)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from tracker.domain.facts import Detail, RecipientFacts
from tracker.domain.ids import normalize_email
from tracker.domain.records import RecipientKey
from tracker.domain.suppression import Evidence

ERASED_PREFIX = "erased:"
REDACTED = "[erased]"
# Event details that are codes, not personal data: an erased recipient keeps these.
KEPT_DETAILS = frozenset(
    {
        "bounce_type",
        "bounce_subtype",
        "status",
        "action",
        "delay_type",
        "feedback_type",
        "complaint_subtype",
        "expiration_time",
        "processing_time_ms",
        "fetch_class",
        "template_name",
    }
)


def pseudonym(tenant_id: str, email: str) -> str:
    """What erased items hold instead of the address: ``erased:<sha-256 hex>``, never an address
    (it has no ``@``), the same for every spelling ``normalize_email`` folds together."""
    digest = hashlib.sha256(f"{tenant_id}\x00{normalize_email(email)}".encode()).hexdigest()
    return ERASED_PREFIX + digest


def is_pseudonym(email: str) -> bool:
    return email.startswith(ERASED_PREFIX)


def same_address(tenant_id: str, stored: str, reported: str) -> bool:
    """Whether an address SES reports is the recipient's, also once the recipient was erased."""
    return stored == reported or (is_pseudonym(stored) and stored == pseudonym(tenant_id, reported))


def redact(text: str | None, needles: Collection[str]) -> str | None:
    """``text`` with every occurrence of the needles (addresses, names) replaced, case-insensitively."""
    if not text:
        return text
    wanted = sorted({n for n in needles if n and n.strip()}, key=len, reverse=True)
    if not wanted:
        return text
    pattern = re.compile("|".join(re.escape(n) for n in wanted), re.IGNORECASE)
    return pattern.sub(REDACTED, text)


def _erased_detail(detail: Detail | None) -> Detail | None:
    if detail is None:
        return None
    kept: Mapping[str, Any] = {k: v for k, v in detail.values.items() if k in KEPT_DETAILS}
    return replace(detail, values=dict(kept))


def erase_facts(facts: RecipientFacts, needles: Collection[str] = ()) -> RecipientFacts:
    """The facts without personal data; what counts and statuses are made of stays (idempotent)."""
    return replace(
        facts,
        send_outcome_reason=redact(facts.send_outcome_reason, needles),
        delay=_erased_detail(facts.delay),
        bounce=_erased_detail(facts.bounce),
        complaint=_erased_detail(facts.complaint),
        reject=_erased_detail(facts.reject),
        rendering_failure=_erased_detail(facts.rendering_failure),
        subscription=_erased_detail(facts.subscription),
        links={},
        link_tags={},  # a tag can name its customer (ses:tags="customer:...")
    )


def erase_evidence(evidence: Evidence) -> Evidence:
    """Suppression evidence without its free-text diagnostic (it may quote the address)."""
    return replace(evidence, detail=None)


@dataclass(frozen=True)
class ErasureRecord:
    """The audit entry of one erasure of a customer: who (from verified claims), when, how much."""

    tenant_id: str
    customer_id: str
    erased_at: datetime
    erased_by: str
    recipients: int  # recipient items erased by this run
    messages: int  # messages those recipients belong to
    suppressions: int  # suppression records moved to the address's pseudonym


@dataclass(frozen=True)
class CustomerRecipient:
    """One recipient item of the customer, as the erasure finds it on the customer index."""

    key: RecipientKey
    email: str
    name: str | None
    erased: bool

    @property
    def personal(self) -> tuple[str, ...]:
        """What must not survive in any text of its message: its address and its name."""
        return tuple(value for value in (self.email, self.name) if value)
