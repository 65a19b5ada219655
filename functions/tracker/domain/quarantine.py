"""A record the ingest path could not apply, kept with the reason until someone looks at it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class QuarantinedRecord:
    """One SQS record as it arrived (``body``), why it was not applied, and whether it was sent
    back to the ingest path since (``redriven_at``)."""

    received_at: datetime
    source_id: str  # the SQS message id
    reason: str  # a short code: invalid_event, time_out_of_range, no_recipient, unwritable, ...
    detail: str
    body: str
    redriven_at: datetime | None = None

    @property
    def day(self) -> date:
        return self.received_at.date()
