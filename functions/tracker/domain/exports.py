"""CSV exports: what a row of each export holds, and cells a spreadsheet cannot run.

Two exports (docs/exports.md): a message's recipients (status, counts, the plain reason, times) and
an invoice's logs (every kept event of every recipient of every message of the invoice, with its
time: the proof-of-delivery record).

Spreadsheet safety: a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is read as a formula by Excel, LibreOffice and Google Sheets (CSV injection), so such a cell gets a
leading ``'``, which they show as text and do not evaluate. Times are ISO-8601 UTC and counts are
non-negative integers, so no cell of ours needs it; addresses, names, subjects and SES's reasons may.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from tracker.domain.reasons.records import recipient_reason
from tracker.domain.views import RecipientRecord

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
NEUTRALISER = "'"


def safe_cell(value: object) -> str:
    """The cell's text, neutralised if a spreadsheet would evaluate it."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return NEUTRALISER + text if text.startswith(FORMULA_LEADS) else text


def _time(at: datetime | None) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z") if at else ""


class ExportKind(StrEnum):
    MESSAGE_RECIPIENTS = "message_recipients"
    INVOICE_LOGS = "invoice_logs"


class ExportState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


RECIPIENT_COLUMNS = (
    "recipient_id",
    "customer_id",
    "email",
    "name",
    "status",
    "open_count",
    "click_count",
    "reason_code",
    "reason",
    "raw_reason",
    "sent_at",
    "delivered_at",
    "first_opened_at",
    "last_opened_at",
    "first_clicked_at",
    "last_clicked_at",
    "bounced_at",
)

LOG_COLUMNS = (
    "message_id",
    "kind",
    "subject",
    "recipient_id",
    "customer_id",
    "email",
    "status",
    "event",
    "event_at",
    "event_id",
    "detail",
)


def _raw_reason(record: RecipientRecord) -> str | None:
    facts = record.facts
    return facts.bounce_reason or record.dropped_reason or facts.send_outcome_reason


def recipient_row(record: RecipientRecord) -> list[Any]:
    facts = record.facts
    reason = recipient_reason(record.status, facts)
    return [
        record.recipient_id,
        record.customer_id,
        record.email,
        record.name,
        record.status.value,
        facts.open_count,
        facts.click_count,
        reason.code if reason else None,
        f"{reason.summary} {reason.advice}".strip() if reason else None,
        _raw_reason(record) if reason else None,
        _time(facts.sent_at),
        _time(facts.delivered_at),
        _time(facts.first_opened_at),
        _time(facts.last_opened_at),
        _time(facts.first_clicked_at),
        _time(facts.last_clicked_at),
        _time(facts.first_bounced_at),
    ]


def _detail(details: Any) -> str:
    return "; ".join(f"{key}={value}" for key, value in sorted(details.items()) if value not in (None, ""))


def log_rows(record: RecipientRecord, subject: str) -> list[list[Any]]:
    """One row per kept event of the recipient (a recipient without events: one row, no event)."""
    base = [record.message_id, record.kind, subject, record.recipient_id, record.customer_id, record.email]
    events = record.events
    if not events:
        return [[*base, record.status.value, "", "", "", ""]]
    return [
        [
            *base,
            record.status.value,
            event.kind.value,
            _time(event.at),
            event.event_id,
            _detail(event.details),
        ]
        for event in events
    ]


def csv_text(rows: Iterable[Sequence[Any]]) -> str:
    """CSV (RFC 4180, CRLF line ends, quoted when needed) of safe cells."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()


def header(kind: ExportKind) -> Sequence[str]:
    return RECIPIENT_COLUMNS if kind is ExportKind.MESSAGE_RECIPIENTS else LOG_COLUMNS


@dataclass(frozen=True)
class ExportTarget:
    kind: ExportKind
    target_id: str  # the message id or the invoice id

    @property
    def filename(self) -> str:
        noun = "recipients" if self.kind is ExportKind.MESSAGE_RECIPIENTS else "logs"
        return f"{self.target_id}-{noun}.csv"


@dataclass
class ExportJob:
    """An export as it runs: where it is, so a later invocation resumes it (``resume``: the store
    page to read next, the multipart upload and its parts so far)."""

    tenant_id: str
    export_id: str
    target: ExportTarget
    created_at: datetime
    state: ExportState = ExportState.QUEUED
    rows: int = 0
    expected_rows: int | None = None  # a message's recipients; an invoice's events are not known
    object_key: str | None = None
    finished_at: datetime | None = None
    error: str | None = None
    resume: dict[str, Any] = field(default_factory=dict)

    @property
    def progress(self) -> float | None:
        if self.state is ExportState.DONE:
            return 1.0
        if not self.expected_rows:
            return None
        return min(0.99, self.rows / self.expected_rows)


@dataclass(frozen=True)
class ExportStatus:
    """An export as GET /exports/{id} shows it: the job and, once done, where to download it."""

    job: ExportJob
    url: str | None = None
    url_expires_at: datetime | None = None
