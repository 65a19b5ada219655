"""CSV exports in memory: spreadsheet-safe cells, and an export that resumes where it stopped."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.exports import (
    FORMULA_LEADS,
    RECIPIENT_COLUMNS,
    ExportJob,
    ExportKind,
    ExportState,
    ExportTarget,
    csv_text,
    safe_cell,
)
from tracker.domain.facts import RecipientFacts
from tracker.domain.status import Status
from tracker.domain.views import Page, RecipientRecord
from tracker.logic.exports import ExportRunner

AT = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@given(st.text())
def test_no_cell_starts_with_a_formula_and_its_text_is_kept(text: str) -> None:
    cell = safe_cell(text)
    assert not cell.startswith(FORMULA_LEADS)
    assert cell in (text, "'" + text)
    assert (cell != text) == text.startswith(FORMULA_LEADS)


@given(st.lists(st.lists(st.text(), min_size=1, max_size=4), max_size=5))
def test_csv_reads_back_as_the_safe_cells(rows: list[list[str]]) -> None:
    parsed = list(csv.reader(io.StringIO(csv_text(rows), newline="")))
    assert parsed == [[safe_cell(cell) for cell in row] for row in rows]


def record(i: int) -> RecipientRecord:
    return RecipientRecord(
        message_id="m",
        recipient_id=f"r{i:04d}",
        customer_id=f"c{i}",
        email=f"p{i}@example.com",
        name="=cmd()" if i % 3 == 0 else f"P {i}",
        kind="email",
        message_created_at=AT,
        ses_message_id=None,
        status=Status.QUEUED,
        facts=RecipientFacts(),
    )


class FakeStore:
    def __init__(self, size: int) -> None:
        self.records = [record(i) for i in range(size)]
        self.pages = 0

    def recipients(self, tenant_id: str, message_id: str, **kw: Any) -> Page[RecipientRecord]:
        start = int((kw.get("start") or {}).get("at", 0))
        self.pages += 1
        end = start + int(kw["limit"])
        items = self.records[start:end]
        return Page(items, {"at": end} if end < len(self.records) else None, len(items))


class FakeJobs:
    def __init__(self) -> None:
        self.jobs: dict[str, ExportJob] = {}

    def create(self, job: ExportJob) -> None:
        self.jobs[job.export_id] = job

    def get(self, tenant_id: str, export_id: str) -> ExportJob | None:
        job = self.jobs.get(export_id)
        return replace(job, resume=dict(job.resume)) if job else None  # as a store reads it back

    def save(self, job: ExportJob) -> None:
        self.jobs[job.export_id] = replace(job, resume=dict(job.resume))


class FakeObjects:
    def __init__(self) -> None:
        self.parts: dict[int, bytes] = {}
        self.completed: bytes | None = None

    def begin(self, key: str, filename: str) -> str:
        return "upload-1"

    def part(self, key: str, upload_id: str, number: int, body: bytes) -> str:
        self.parts[number] = body
        return f"etag-{number}"

    def complete(self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]) -> None:
        assert [n for n, _ in parts] == list(range(1, len(self.parts) + 1))
        self.completed = b"".join(self.parts[n] for n, _ in parts)

    def url(self, key: str, filename: str, expires: timedelta) -> str:
        return f"https://example.test/{key}"


def test_an_export_that_runs_out_of_time_resumes_after_its_last_part() -> None:
    size = 5000
    store, jobs, objects = FakeStore(size), FakeJobs(), FakeObjects()
    target = ExportTarget(ExportKind.MESSAGE_RECIPIENTS, "m")
    jobs.create(ExportJob("t", "exp-1", target, AT, expected_rows=size))
    runner = ExportRunner(jobs, objects, store, part_bytes=50_000)  # type: ignore[arg-type]
    invocations = 0
    while not runner.run("t", "exp-1", lambda: 0.0):  # no time left after each part
        invocations += 1
        job = jobs.get("t", "exp-1")
        assert job is not None
        assert job.state is ExportState.RUNNING
        assert 0 < (job.progress or 0) < 1
    assert invocations >= 2
    assert objects.completed is not None
    rows = list(csv.reader(io.StringIO(objects.completed.decode(), newline="")))
    assert rows[0] == list(RECIPIENT_COLUMNS)
    assert [row[0] for row in rows[1:]] == [f"r{i:04d}" for i in range(size)]
    assert all(not cell.startswith(FORMULA_LEADS) for row in rows for cell in row)
    done = jobs.get("t", "exp-1")
    assert done is not None
    assert done.state is ExportState.DONE
    assert done.rows == size
    # A redelivery of a finished export does nothing.
    pages = store.pages
    assert runner.run("t", "exp-1", lambda: 0.0)
    assert store.pages == pages
