"""Large messages in steps (docs/sending.md): create a draft, put recipient batches, send, or
discard. Each step is idempotent; the send is resumable (tracker.domain.drafts explains the
fan-out's two cursors). Nothing is written as a recipient, nor queued, before the send.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Protocol

from tracker.domain.draft_limits import DraftLimits
from tracker.domain.drafts import Draft, DraftState, PlannedBatch, plan
from tracker.domain.errors import ConflictError, InvalidRequestError, NotFoundError, TransientStoreError
from tracker.domain.ids import new_message_id
from tracker.domain.messages import MessageContent, PlannedRecipient, RecipientDraft, SendJob
from tracker.domain.status import Status
from tracker.domain.tracking import DEFAULT_UNTRACKED_KINDS, tracking_for
from tracker.logic.outcomes import dropped_reason
from tracker.logic.ports import JobQueue, SuppressionCheck


class DraftStore(Protocol):
    """Drafts and their batches (tracker.dal.drafts). Writes that depend on the state are
    conditional: one that finds another state raises ConflictError."""

    def create(self, draft: Draft) -> None: ...
    def get(self, tenant_id: str, message_id: str) -> Draft | None: ...
    def count_open(self, tenant_id: str) -> int: ...
    def put_batch(self, draft: Draft, number: int, rows: Sequence[RecipientDraft]) -> Draft: ...
    def load_batches(self, draft: Draft) -> dict[int, list[RecipientDraft]]: ...
    def start_sending(self, draft: Draft, recipients: int, duplicates: int) -> Draft:
        """The message header (counts zero, listed) and content, then the draft ``sending``."""
        ...

    def write_recipients(self, draft: Draft, recipients: Sequence[PlannedRecipient]) -> None: ...
    def advance(self, draft: Draft, *, written: int, queued: int, state: DraftState) -> Draft: ...
    def discard(self, draft: Draft) -> None: ...


class DraftService:
    def __init__(
        self,
        store: DraftStore,
        queue: JobQueue,
        suppressions: SuppressionCheck,
        limits: DraftLimits | None = None,
        chunk_size: int = 10,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        untracked_kinds: Collection[str] = DEFAULT_UNTRACKED_KINDS,
    ) -> None:
        self._store = store
        self._queue = queue
        self._suppressions = suppressions
        self.limits = limits or DraftLimits()
        self._chunk_size = max(1, chunk_size)
        self._clock = clock
        self._untracked_kinds = frozenset(untracked_kinds)

    def create(
        self,
        tenant_id: str,
        created_by: str | None,
        kind: str,
        content: MessageContent,
        invoice_id: str | None = None,
        payment_id: str | None = None,
    ) -> Draft:
        if self._store.count_open(tenant_id) >= self.limits.open_drafts:
            raise ConflictError(
                f"this tenant already has {self.limits.open_drafts} open drafts: send or discard one"
            )
        now = self._clock()
        draft = Draft(
            tenant_id=tenant_id,
            message_id=new_message_id(now),
            kind=kind,
            content=content,
            created_at=now,
            tracking=tracking_for(kind, content.html, self._untracked_kinds),
            created_by=created_by,
            invoice_id=invoice_id,
            payment_id=payment_id,
        )
        self._store.create(draft)
        return draft

    def get(self, tenant_id: str, message_id: str) -> Draft:
        draft = self._store.get(tenant_id, message_id)
        if draft is None:
            raise NotFoundError("no draft with this id")
        return draft

    def put_batch(
        self, tenant_id: str, message_id: str, number: int, rows: Sequence[RecipientDraft]
    ) -> Draft:
        """Adds or replaces batch ``number`` (rows already valid: the route reports bad ones)."""
        if not 1 <= number <= self.limits.max_batches:
            raise InvalidRequestError(f"batch: expected 1 to {self.limits.max_batches}", field="batch")
        if not 1 <= len(rows) <= self.limits.batch_rows:
            raise InvalidRequestError(f"recipients: 1 to {self.limits.batch_rows} rows", field="recipients")
        draft = self.get(tenant_id, message_id)
        if draft.state is not DraftState.DRAFT:
            if draft.batch_rows.get(number) == len(rows):
                return draft  # a retry of a batch accepted before the send
            raise ConflictError("this draft is being sent: its batches can no longer change")
        return self._store.put_batch(draft, number, rows)

    def discard(self, tenant_id: str, message_id: str) -> None:
        draft = self.get(tenant_id, message_id)
        if draft.state is not DraftState.DRAFT:
            raise ConflictError("this draft is being sent or was sent: it can no longer be discarded")
        self._store.discard(draft)

    def send(self, tenant_id: str, message_id: str, time_left: Callable[[], bool] = lambda: True) -> Draft:
        """Starts or resumes the send; returns when every batch is queued or ``time_left()`` says
        stop (the answer is ``sending``; calling again continues from the cursors)."""
        draft = self.get(tenant_id, message_id)
        if draft.state is DraftState.SENT:
            return draft
        the_plan = plan(self._store.load_batches(draft), self.limits.batch_rows)
        if draft.state is DraftState.DRAFT:
            if the_plan.recipients == 0:
                raise InvalidRequestError("the draft has no recipients: put a batch first", field="batches")
            draft = self._store.start_sending(draft, the_plan.recipients, the_plan.duplicates)
        batches = the_plan.batches
        while draft.queued < len(batches) and time_left():
            draft = self._fan_out(draft, batches[draft.queued])
        if draft.queued == len(batches):
            draft = self._store.advance(
                draft, written=draft.written, queued=draft.queued, state=DraftState.SENT
            )
        return draft

    def _fan_out(self, draft: Draft, batch: PlannedBatch) -> Draft:
        """One batch: its recipients written (unless already), then its jobs queued."""
        if draft.written == draft.queued:
            recipients = self._recipients(draft, batch)
            self._store.write_recipients(draft, recipients)
            draft = self._store.advance(
                draft, written=draft.written + 1, queued=draft.queued, state=DraftState.SENDING
            )
            queued = [r.recipient_id for r in recipients if r.status is Status.QUEUED]
        else:
            # Written before, its jobs not queued: every recipient goes to the sender, which skips
            # the dropped ones and re-checks suppression (an address suppressed since the write
            # would otherwise stay queued for ever).
            queued = [rid for rid, _ in batch.recipients]
        jobs = [
            SendJob(
                draft.tenant_id,
                draft.message_id,
                tuple(queued[i : i + self._chunk_size]),
                draft.kind,
                draft.tracking,
            )
            for i in range(0, len(queued), self._chunk_size)
        ]
        if jobs and self._queue.enqueue(jobs):
            # Not advanced: the next call queues this batch's jobs again (the sender's claim makes
            # a job queued twice harmless).
            raise TransientStoreError("some send jobs could not be queued; send again to resume")
        return self._store.advance(
            draft, written=draft.written, queued=draft.queued + 1, state=DraftState.SENDING
        )

    def _recipients(self, draft: Draft, batch: PlannedBatch) -> list[PlannedRecipient]:
        suppressed: Mapping[str, str] = self._suppressions.active_reasons(
            draft.tenant_id, [row.email for _, row in batch.recipients], kind=draft.kind
        )
        planned = []
        for rid, row in batch.recipients:
            why = suppressed.get(row.email)
            planned.append(
                PlannedRecipient(
                    recipient_id=rid,
                    customer_id=row.customer_id,
                    email=row.email,
                    name=row.name,
                    status=Status.QUEUED if why is None else Status.DROPPED,
                    reason=None if why is None else dropped_reason(why),
                )
            )
        return planned
