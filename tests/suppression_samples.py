"""Builders and Hypothesis strategies for suppression evidence, shared by the in-memory and the moto
tests: evidence as the projector hands it over (ids of 12 characters, like the prefix of an SES
event id), histories of several addresses, and the ways one history can be delivered (every piece
at least once, some several times, in any order, cut into calls)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from tracker.domain.suppression import Address, Evidence, EvidenceKind, SuppressionRules

T0 = datetime(2026, 3, 1, tzinfo=UTC)
TENANT = "tenant-a"

KINDS = (EvidenceKind.PERMANENT_BOUNCE, EvidenceKind.TRANSIENT_BOUNCE, EvidenceKind.COMPLAINT)


def email(i: int) -> str:
    return f"person{i}@example.com"


def address(i: int, tenant_id: str = TENANT) -> Address:
    return Address(tenant_id, email(i))


def evidence_id(n: int) -> str:
    return f"{n:012x}"


def evidence(
    n: int, kind: EvidenceKind = EvidenceKind.PERMANENT_BOUNCE, day: float = 0, detail: str | None = None
) -> Evidence:
    """The ``n``-th piece of evidence of a test, ``day`` days (plus ``n`` seconds) after T0."""
    return Evidence(
        event_id=evidence_id(n),
        kind=kind,
        at=T0 + timedelta(days=day, seconds=n),
        message_id=f"m{n:04d}",
        recipient_id="r0000",
        detail=detail if detail is not None else f"smtp; 550 5.1.1 event {n}",
    )


def bounces(
    first: int, days: Sequence[float], kind: EvidenceKind = EvidenceKind.TRANSIENT_BOUNCE
) -> list[Evidence]:
    return [evidence(first + k, kind, day) for k, day in enumerate(days)]


Calls = list[dict[Address, list[Evidence]]]


@st.composite
def histories(
    draw: st.DrawFn, tenant_id: str = TENANT, addresses: int = 3, max_size: int = 12
) -> dict[Address, list[Evidence]]:
    """Distinct evidence of up to ``addresses`` addresses (ids unique within the history)."""
    history: dict[Address, list[Evidence]] = defaultdict(list)
    for n in range(draw(st.integers(min_value=0, max_value=max_size))):
        owner = address(draw(st.integers(min_value=0, max_value=addresses - 1)), tenant_id)
        kind = draw(st.sampled_from(KINDS))
        history[owner].append(evidence(n, kind, day=draw(st.integers(min_value=0, max_value=60))))
    return dict(history)


@st.composite
def deliveries(draw: st.DrawFn, history: Mapping[Address, Sequence[Evidence]], max_calls: int = 4) -> Calls:
    """Every piece at least once, some up to three times, shuffled and cut into calls (a call may
    carry one address's evidence twice, or none of it)."""
    copies = [
        (owner, item)
        for owner, items in history.items()
        for item in items
        for _ in range(draw(st.integers(min_value=1, max_value=3)))
    ]
    shuffled = draw(st.permutations(copies))
    cuts = sorted(draw(st.lists(st.integers(min_value=0, max_value=len(shuffled)), max_size=max_calls - 1)))
    calls: Calls = []
    for start, end in itertools.pairwise([0, *cuts, len(shuffled)]):
        call: dict[Address, list[Evidence]] = defaultdict(list)
        for owner, item in shuffled[start:end]:
            call[owner].append(item)
        calls.append(dict(call))
    return calls


@st.composite
def rules(draw: st.DrawFn) -> SuppressionRules:
    return SuppressionRules(
        permanent_bounces=draw(st.integers(min_value=1, max_value=3)),
        complaints=draw(st.integers(min_value=0, max_value=2)),
        transient_bounces=draw(st.integers(min_value=1, max_value=5)),
        transient_window=timedelta(days=draw(st.integers(min_value=1, max_value=45))),
    )
