"""CSV exports of any size (docs/exports.md): started by the API, run by the export worker, which
pages through the recipients with the read side's own queries and writes the CSV to an object store
in parts (a multipart upload), saving where it is after each part, so that an export of 100,000
recipients survives the worker's time limit, a crash or a redelivery: the next invocation resumes
at the last saved page (a part uploaded again under the same number replaces the first copy).
No AWS SDK here: the stores are injected.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from tracker.domain.errors import NotFoundError
from tracker.domain.exports import (
    ExportJob,
    ExportKind,
    ExportState,
    ExportStatus,
    ExportTarget,
    csv_text,
    header,
    log_rows,
    recipient_row,
)
from tracker.domain.views import RecipientRecord
from tracker.logic.ports import ReadStore

# S3's smallest part but the last; a part is uploaded once the buffer holds this much.
PART_BYTES = 5 * 1024 * 1024
# Recipients per Query (DynamoDB's 1 MB page cap bounds it too).
RECIPIENTS_PAGE = 1000
INVOICE_LOG_PAGE = 99
# The displayed progress is saved every this many pages between parts.
PROGRESS_EVERY_PAGES = 10
# An invocation stops taking pages when less than this is left of its time.
STOP_MARGIN_SECONDS = 30.0
DEFAULT_URL_TTL = timedelta(minutes=15)


class ExportJobs(Protocol):
    def create(self, job: ExportJob) -> None: ...

    def get(self, tenant_id: str, export_id: str) -> ExportJob | None: ...

    def save(self, job: ExportJob) -> None:
        """Write the job's state, progress and resume point."""
        ...


class ExportObjects(Protocol):
    def begin(self, key: str, filename: str) -> str:
        """Start a multipart upload of a CSV object; returns its upload id."""
        ...

    def part(self, key: str, upload_id: str, number: int, body: bytes) -> str:
        """Upload part ``number`` (1-based); returns its ETag."""
        ...

    def complete(self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]) -> None: ...

    def url(self, key: str, filename: str, expires: timedelta) -> str:
        """A presigned download URL that expires after ``expires``."""
        ...


class ExportTargets(Protocol):
    def expected_rows(self, tenant_id: str, target: ExportTarget) -> int | None:
        """The rows the export will hold when known (a message's recipients); raises
        NotFoundError when the message or invoice does not exist."""
        ...


class ExportQueue(Protocol):
    def enqueue(self, tenant_id: str, export_id: str) -> None: ...


def object_key(tenant_id: str, export_id: str) -> str:
    return f"exports/{tenant_id}/{export_id}.csv"


class ExportService:
    """The API's side: start an export, tell how far it is (and where to download it)."""

    def __init__(
        self,
        jobs: ExportJobs,
        *,
        queue: ExportQueue | None = None,
        targets: ExportTargets | None = None,
        objects: Callable[[], ExportObjects] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        url_ttl: timedelta = DEFAULT_URL_TTL,
    ) -> None:
        self._jobs = jobs
        self._queue = queue
        self._targets = targets
        self._objects = objects
        self._clock = clock
        self._url_ttl = url_ttl

    def start(self, tenant_id: str, target: ExportTarget) -> ExportJob:
        if self._queue is None or self._targets is None:
            raise RuntimeError("exports are started by the send API")
        job = ExportJob(
            tenant_id=tenant_id,
            export_id=f"exp-{uuid.uuid4().hex[:20]}",
            target=target,
            created_at=self._clock(),
            expected_rows=self._targets.expected_rows(tenant_id, target),
        )
        self._jobs.create(job)
        self._queue.enqueue(tenant_id, job.export_id)
        return job

    def requeue(self, tenant_id: str, export_id: str) -> None:
        """Queue the rest of an export that ran out of time (the worker)."""
        if self._queue is None:
            raise RuntimeError("this export service has no queue")
        self._queue.enqueue(tenant_id, export_id)

    def status(self, tenant_id: str, export_id: str) -> ExportStatus:
        job = self._jobs.get(tenant_id, export_id)
        if job is None:
            raise NotFoundError("export not found")
        if job.state is not ExportState.DONE or job.object_key is None or self._objects is None:
            return ExportStatus(job)
        url = self._objects().url(job.object_key, job.target.filename, self._url_ttl)
        return ExportStatus(job, url, self._clock() + self._url_ttl)


class ExportRunner:
    """The worker's side: run (or resume) one export until it is done or its time is nearly up."""

    def __init__(
        self,
        jobs: ExportJobs,
        objects: ExportObjects,
        store: ReadStore,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        part_bytes: int = PART_BYTES,
    ) -> None:
        self._jobs = jobs
        self._objects = objects
        self._store = store
        self._clock = clock
        self._part_bytes = part_bytes

    def run(self, tenant_id: str, export_id: str, seconds_left: Callable[[], float]) -> bool:
        """True when the export is finished (done, failed or unknown); False when it must go on
        in another invocation (its resume point is saved)."""
        job = self._jobs.get(tenant_id, export_id)
        if job is None or job.state in (ExportState.DONE, ExportState.FAILED):
            return True
        key = object_key(tenant_id, export_id)
        resume = job.resume
        if "upload_id" not in resume:
            resume.update(
                upload_id=self._objects.begin(key, job.target.filename), parts=[], rows=0, start=None
            )
        job.state, job.object_key = ExportState.RUNNING, key
        buffer = io.StringIO()
        rows, start = int(resume["rows"]), resume["start"]
        if rows == 0 and not resume["parts"]:
            buffer.write(csv_text([header(job.target.kind)]))
        pages = 0
        while True:
            items, start = self._page(job, start)
            buffer.write(csv_text(items))
            rows += len(items)
            pages += 1
            last = start is None
            if last or buffer.tell() >= self._part_bytes:
                self._upload(job, key, buffer.getvalue().encode("utf-8"), rows, start)
                buffer = io.StringIO()
                if last:
                    parts = [(int(n), str(tag)) for n, tag in resume["parts"]]
                    self._objects.complete(key, str(resume["upload_id"]), parts)
                    job.state, job.finished_at, job.rows = ExportState.DONE, self._clock(), rows
                    self._jobs.save(job)
                    return True
                if seconds_left() < STOP_MARGIN_SECONDS:
                    return False
            elif pages % PROGRESS_EVERY_PAGES == 0:
                job.rows = rows  # shown progress only: the resume point stays at the last part
                self._jobs.save(job)

    def _upload(self, job: ExportJob, key: str, body: bytes, rows: int, start: Any) -> None:
        resume = job.resume
        number = len(resume["parts"]) + 1
        tag = self._objects.part(key, str(resume["upload_id"]), number, body)
        resume["parts"] = [*resume["parts"], [number, tag]]
        resume["rows"], resume["start"] = rows, start
        job.rows = rows
        self._jobs.save(job)

    def _page(self, job: ExportJob, start: Any) -> tuple[list[list[Any]], Any]:
        target = job.target
        if target.kind is ExportKind.MESSAGE_RECIPIENTS:
            page = self._store.recipients(
                job.tenant_id, target.target_id, status=None, limit=RECIPIENTS_PAGE, start=start
            )
            return [recipient_row(record) for record in page.items], page.next_key
        log = self._store.invoice_log(job.tenant_id, target.target_id, limit=INVOICE_LOG_PAGE, start=start)
        rows: list[list[Any]] = []
        for record in log.items:
            if isinstance(record, RecipientRecord):
                rows += log_rows(record, record.message.subject if record.message else "")
        return rows, log.next_key

    def fail(self, tenant_id: str, export_id: str, reason: str) -> None:
        job = self._jobs.get(tenant_id, export_id)
        if job is not None and job.state is not ExportState.DONE:
            job.state, job.error, job.finished_at = ExportState.FAILED, reason[:500], self._clock()
            self._jobs.save(job)
