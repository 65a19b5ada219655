"""The exports' requests and answers (POST /exports, GET /exports/{id}; docs/exports.md)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tracker.domain.exports import ExportKind, ExportState, ExportStatus, ExportTarget
from tracker.domain.ids import EXTERNAL_ID_PATTERN


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class ExportRequest(_Model):
    """What to export."""

    kind: ExportKind = Field(
        description="`message_recipients`: a message's recipients (status, counts, plain reasons, "
        "times); `invoice_logs`: every event of every recipient of an invoice's messages."
    )
    id: str = Field(pattern=EXTERNAL_ID_PATTERN, description="The message id or the invoice id.")

    def target(self) -> ExportTarget:
        return ExportTarget(self.kind, self.id)


class ExportOut(_Model):
    export_id: str
    kind: ExportKind
    id: str = Field(description="The exported message or invoice.")
    state: ExportState
    rows: int = Field(description="Data rows written so far (the header not counted).")
    expected_rows: int | None = Field(description="Rows a message's export will hold; `null` for logs.")
    progress: float | None = Field(description="0 to 1; `null` while it cannot be estimated.")
    created_at: datetime
    finished_at: datetime | None = None
    error: str | None = None
    filename: str
    url: str | None = Field(
        default=None, description="Once `done`: a presigned download URL of the CSV; it expires."
    )
    url_expires_at: datetime | None = None

    @classmethod
    def of(cls, status: ExportStatus) -> ExportOut:
        job = status.job
        return cls(
            export_id=job.export_id,
            kind=job.target.kind,
            id=job.target.target_id,
            state=job.state,
            rows=job.rows,
            expected_rows=job.expected_rows,
            progress=job.progress,
            created_at=job.created_at,
            finished_at=job.finished_at,
            error=job.error,
            filename=job.target.filename,
            url=status.url,
            url_expires_at=status.url_expires_at,
        )
