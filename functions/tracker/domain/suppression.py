"""Suppression as data: the evidence (bounces and complaints) of an address, the rules, the decision
and the record they produce. ``evaluate`` is a pure function of a set of evidence, so the order in
which SES events arrive, and how often, never changes whether an address is suppressed.

An address keeps at most ``EVIDENCE_KEPT`` pieces of evidence, the latest (``latest_evidence``): a
function of the set, so which ones are kept does not depend on arrival order either."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

SYSTEM_ACTOR = "system"

# Evidence kept per address: the latest by (time, event id). A rule fires on at most its threshold
# of events (defaults 2, 1 and 5; a threshold above this is refused by ``SuppressionRules``), and a
# suppressed address receives no more mail, so only a long history that never tripped the rules
# outgrows the bound, and its oldest entries matter least (the transient rule looks at 30-day
# windows, a lift discards everything older anyway). 50 entries of at most ~2 KB each (a diagnostic
# is cut at 500 characters) keep the address's item far below DynamoDB's 400 KB.
EVIDENCE_KEPT = 50


class EvidenceKind(StrEnum):
    PERMANENT_BOUNCE = "permanent_bounce"
    TRANSIENT_BOUNCE = "transient_bounce"
    COMPLAINT = "complaint"


class SuppressionState(StrEnum):
    ACTIVE = "active"
    LIFTED = "lifted"


@dataclass(frozen=True)
class Evidence:
    """One bounce or complaint of an address (the SES event id is its identity)."""

    event_id: str
    kind: EvidenceKind
    at: datetime
    message_id: str | None = None
    recipient_id: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class SuppressionRules:
    """A threshold of 0 (or less) switches that rule off; one above ``EVIDENCE_KEPT`` could never
    be reached with the evidence kept, so it is refused (ValueError)."""

    permanent_bounces: int = 2
    complaints: int = 1
    transient_bounces: int = 5
    transient_window: timedelta = timedelta(days=30)

    def __post_init__(self) -> None:
        thresholds = {
            "permanent_bounces": self.permanent_bounces,
            "complaints": self.complaints,
            "transient_bounces": self.transient_bounces,
        }
        too_high = [f"{name}={value}" for name, value in thresholds.items() if value > EVIDENCE_KEPT]
        if too_high:
            raise ValueError(
                f"suppression thresholds above {EVIDENCE_KEPT} (the evidence kept per address) can never "
                f"be reached: {', '.join(too_high)}"
            )


@dataclass(frozen=True)
class Decision:
    reason: str
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class SuppressionRecord:
    tenant_id: str
    email: str
    state: SuppressionState
    reason: str
    suppressed_at: datetime
    evidence: tuple[Evidence, ...] = ()
    counts_from: datetime | None = None
    lifted_at: datetime | None = None
    lifted_by: str | None = None
    version: int | None = None

    @property
    def active(self) -> bool:
        return self.state is SuppressionState.ACTIVE


@dataclass(frozen=True)
class HistoryEntry:
    action: str  # "suppressed" | "lifted"
    at: datetime
    actor: str
    reason: str | None
    evidence: tuple[Evidence, ...] = ()


class Address(NamedTuple):
    """One suppressible address: a tenant and a normalized email."""

    tenant_id: str
    email: str


@dataclass(frozen=True)
class AddressState:
    """What the store holds for one address, as one read (or one write's answer) saw it.

    ``record`` is None while the address was never suppressed (it may have evidence all the same);
    ``evidence`` is what the address keeps (``latest_evidence``), oldest first. ``revision`` is the
    store's version of the address and how many evidence entries it holds (more than ``evidence``
    until the excess is pruned): a write conditioned on both fails if anything changed since."""

    address: Address
    record: SuppressionRecord | None
    evidence: tuple[Evidence, ...]
    revision: tuple[int | None, int] = (None, 0)


@dataclass(frozen=True)
class SuppressionWrite:
    """A suppress write the rules call for: ``decision`` over the address's ``state``."""

    state: AddressState
    decision: Decision

    @property
    def address(self) -> Address:
        return self.state.address


def _order(item: Evidence) -> tuple[object, ...]:
    """A total order on evidence, by time and event id first (None before any text)."""
    optional = (item.message_id, item.recipient_id, item.detail)
    return (item.at, item.event_id, item.kind.value, *((v is not None, v or "") for v in optional))


def latest_evidence(evidence: Iterable[Evidence], limit: int = EVIDENCE_KEPT) -> tuple[Evidence, ...]:
    """The ``limit`` latest distinct pieces of evidence by (time, event id), oldest first: a
    function of the set alone, so any arrival order and any duplicates keep the same ones."""
    ordered = sorted(set(evidence), key=_order)
    return tuple(ordered[-limit:]) if limit > 0 else ()


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def evaluate(
    evidence: Iterable[Evidence], rules: SuppressionRules, counts_from: datetime | None = None
) -> Decision | None:
    """Whether this evidence suppresses the address, and which events made the rule fire.

    Depends only on the *set* of distinct events (by event id) at or after ``counts_from``: the
    transient rule looks for any ``transient_window`` span of event times holding enough bounces,
    so neither arrival order nor processing time changes the answer, and more evidence can only
    turn "not suppressed" into "suppressed" (monotone).
    """
    distinct: dict[str, Evidence] = {}
    # In a total order, so that two versions of one event id always resolve to the same one.
    for item in sorted(evidence, key=_order):
        if counts_from is None or item.at >= counts_from:
            distinct.setdefault(item.event_id, item)
    by_kind: dict[EvidenceKind, list[Evidence]] = defaultdict(list)
    for item in sorted(distinct.values(), key=lambda e: (e.at, e.event_id)):
        by_kind[item.kind].append(item)

    complaints = by_kind[EvidenceKind.COMPLAINT]
    if 0 < rules.complaints <= len(complaints):
        picked = tuple(complaints[: rules.complaints])
        return Decision(_plural(rules.complaints, "complaint"), picked)
    permanent = by_kind[EvidenceKind.PERMANENT_BOUNCE]
    if 0 < rules.permanent_bounces <= len(permanent):
        picked = tuple(permanent[: rules.permanent_bounces])
        return Decision(_plural(rules.permanent_bounces, "permanent bounce"), picked)
    transient = by_kind[EvidenceKind.TRANSIENT_BOUNCE]
    n = rules.transient_bounces
    if n > 0:
        for start in range(len(transient) - n + 1):
            window = transient[start : start + n]
            if window[-1].at - window[0].at <= rules.transient_window:
                days = rules.transient_window.days
                return Decision(
                    f"{_plural(n, 'transient bounce')} within {_plural(days, 'day')}", tuple(window)
                )
    return None


def same_decision(record: SuppressionRecord, decision: Decision) -> bool:
    return record.reason == decision.reason and [e.event_id for e in record.evidence] == [
        e.event_id for e in decision.evidence
    ]
