"""A large message built in steps: a draft, recipient batches, then the send (docs/sending.md).

A draft's rows are kept per batch until the send; the send turns them into recipients one batch
at a time (the fan-out), behind two cursors so that a crash at any point resumes without losing
or repeating a recipient's write: ``written`` (the batch's recipients are written) and ``queued``
(their send jobs are queued). Only a batch that is written but not yet queued is queued again,
and a job queued twice is harmless (the sender claims each recipient before SES).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from tracker.domain.ids import normalize_email, recipient_id
from tracker.domain.messages import MessageContent, RecipientDraft
from tracker.domain.tracking import Tracking


class DraftState(StrEnum):
    DRAFT = "draft"  # batches may be added, replaced, or the whole draft discarded
    SENDING = "sending"  # frozen; the fan-out is writing recipients and queueing their jobs
    SENT = "sent"  # every batch's jobs are queued


@dataclass(frozen=True)
class Draft:
    tenant_id: str
    message_id: str
    kind: str
    content: MessageContent
    created_at: datetime
    tracking: Tracking = Tracking.ON
    created_by: str | None = None
    invoice_id: str | None = None
    payment_id: str | None = None
    state: DraftState = DraftState.DRAFT
    batch_rows: Mapping[int, int] = field(default_factory=dict)  # batch number -> rows accepted
    written: int = 0  # batches (in number order) whose recipients are written
    queued: int = 0  # batches whose send jobs are queued
    recipients: int = 0  # after the send starts: recipients once duplicates are left out
    duplicates: int = 0

    @property
    def rows(self) -> int:
        return sum(self.batch_rows.values())


@dataclass(frozen=True)
class RowError:
    row: int  # index in the batch's ``recipients``
    field: str
    message: str


@dataclass(frozen=True)
class PlannedBatch:
    number: int
    recipients: tuple[tuple[str, RecipientDraft], ...]  # (recipient id, row) without duplicates


@dataclass(frozen=True)
class Plan:
    batches: tuple[PlannedBatch, ...]
    duplicates: int

    @property
    def recipients(self) -> int:
        return sum(len(b.recipients) for b in self.batches)


def plan(batches: Mapping[int, Sequence[RecipientDraft]], batch_rows: int) -> Plan:
    """The recipients in batch then row order, one per address: a later row with an address
    already listed is left out. Ids follow the row's place ((batch - 1) * batch_rows + row), so a
    resumed fan-out gives every row the same id."""
    seen: set[str] = set()
    planned: list[PlannedBatch] = []
    duplicates = 0
    for number in sorted(batches):
        kept: list[tuple[str, RecipientDraft]] = []
        for row, recipient in enumerate(batches[number]):
            address = normalize_email(recipient.email)
            if address in seen:
                duplicates += 1
                continue
            seen.add(address)
            kept.append((recipient_id((number - 1) * batch_rows + row), recipient))
        planned.append(PlannedBatch(number, tuple(kept)))
    return Plan(tuple(planned), duplicates)
