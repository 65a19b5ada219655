"""Recipient statuses, their precedence, and the rates derived from per-status counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Set
from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELAYED = "delayed"
    DELIVERED = "delivered"
    OPENED = "opened"
    CLICKED = "clicked"
    BOUNCED = "bounced"
    DROPPED = "dropped"
    COMPLAINT = "complaint"
    REJECTED = "rejected"
    FAILED = "failed"


ALL_STATUSES: tuple[Status, ...] = tuple(Status)

# Statuses that mean "the recipient's server accepted the message" (docs/domain.md, "Rates").
DELIVERED_STATUSES = frozenset({Status.DELIVERED, Status.OPENED, Status.CLICKED, Status.COMPLAINT})
OPENED_STATUSES = frozenset({Status.OPENED, Status.CLICKED})
# No outcome yet: the rates of a message with pending recipients are provisional.
PENDING_STATUSES = frozenset({Status.QUEUED, Status.SENT, Status.DELAYED})


class Tally(StrEnum):
    """What a message counts besides each recipient's status (docs/engagement.md)."""

    # Delivered, and only machines opened (or clicked): not in the Open Rate, in ``open_rate_all``.
    MACHINE_OPENED = "machine_opened"
    # Only machines clicked: not in the Click Rate, in ``click_rate_all``.
    MACHINE_CLICKED = "machine_clicked"


# Every number a message keeps per recipient class: the statuses, then the engagement tallies.
COUNTED: tuple[str, ...] = (*ALL_STATUSES, *Tally)


@dataclass(frozen=True)
class Rates:
    recipients: int
    pending: int
    delivery_rate: float | None
    open_rate: float | None
    click_rate: float | None
    bounce_rate: float | None
    complaint_rate: float | None
    open_rate_all: float | None = None
    click_rate_all: float | None = None


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator > 0 else None


def compute_rates(counts: Mapping[str, int]) -> Rates:
    """The one definition of every rate, shared by all views and the API. The Open and Click
    Rates count customers; the ``_all`` ones every open and click SES reports (the same
    denominators)."""
    total = sum(counts.get(status, 0) for status in ALL_STATUSES)
    delivered = sum(counts.get(status, 0) for status in DELIVERED_STATUSES)
    opened = sum(counts.get(status, 0) for status in OPENED_STATUSES)
    not_dropped = total - counts.get(Status.DROPPED, 0)
    return Rates(
        recipients=total,
        pending=sum(counts.get(status, 0) for status in PENDING_STATUSES),
        delivery_rate=_ratio(delivered, total),
        open_rate=_ratio(opened, delivered),
        click_rate=_ratio(counts.get(Status.CLICKED, 0), delivered),
        bounce_rate=_ratio(counts.get(Status.BOUNCED, 0), not_dropped),
        complaint_rate=_ratio(counts.get(Status.COMPLAINT, 0), delivered),
        open_rate_all=_ratio(opened + counts.get(Tally.MACHINE_OPENED, 0), delivered),
        click_rate_all=_ratio(
            counts.get(Status.CLICKED, 0) + counts.get(Tally.MACHINE_CLICKED, 0), delivered
        ),
    )


def tally_delta(before: Set[str], after: Set[str]) -> Counter[str]:
    """A message's count change when one recipient's tallies go from ``before`` to ``after``: -1 for
    what it was counted under, +1 for what it is counted under now."""
    delta: Counter[str] = Counter()
    for tally in before - after:
        delta[tally] -= 1
    for tally in after - before:
        delta[tally] += 1
    return delta
