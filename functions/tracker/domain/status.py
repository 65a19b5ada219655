"""Recipient statuses, their precedence, and the rates derived from per-status counts."""

from __future__ import annotations

from collections.abc import Mapping
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


@dataclass(frozen=True)
class Rates:
    recipients: int
    pending: int
    delivery_rate: float | None
    open_rate: float | None
    click_rate: float | None
    bounce_rate: float | None
    complaint_rate: float | None


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator > 0 else None


def compute_rates(counts: Mapping[Status, int]) -> Rates:
    """The one definition of every rate, shared by all views and the API."""
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
    )
