"""Creating a message (``POST /messages``): every recipient written first (Queued, or Dropped when
its address is suppressed), then small send jobs queued (a few recipient ids each).

Never a 5xx once some jobs are queued (a client retry would send those twice): recipients whose
jobs could not be queued are recorded Failed instead, and the answer says so.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime

from tracker.domain.errors import InvalidRequestError
from tracker.domain.ids import new_message_id, normalize_email, recipient_id
from tracker.domain.links import MessageLink
from tracker.domain.messages import (
    CreatedMessage,
    CreatedRecipient,
    MessageDraft,
    PlannedMessage,
    PlannedRecipient,
    SendJob,
)
from tracker.domain.status import Status
from tracker.domain.tracking import DEFAULT_UNTRACKED_KINDS, tracking_for
from tracker.logic.outcomes import NOT_QUEUED_REASON, OutcomeRecorder, dropped_reason
from tracker.logic.ports import JobQueue, MessageStore, SuppressionCheck


def _chunks(items: Sequence[str], size: int) -> list[tuple[str, ...]]:
    return [tuple(items[i : i + size]) for i in range(0, len(items), size)]


def first_duplicate(emails: Sequence[str]) -> tuple[int, int] | None:
    """(index, index of the earlier occurrence) of the first repeated address, case-insensitively."""
    seen: dict[str, int] = {}
    for index, email in enumerate(emails):
        key = normalize_email(email)
        if key in seen:
            return index, seen[key]
        seen[key] = index
    return None


def _planned(
    index: int, customer_id: str, email: str, name: str | None, suppressed: Mapping[str, str]
) -> PlannedRecipient:
    why = suppressed.get(email)
    return PlannedRecipient(
        recipient_id=recipient_id(index),
        customer_id=customer_id,
        email=email,
        name=name,
        status=Status.QUEUED if why is None else Status.DROPPED,
        reason=None if why is None else dropped_reason(why),
    )


class MessageService:
    def __init__(
        self,
        store: MessageStore,
        queue: JobQueue,
        suppressions: SuppressionCheck,
        outcomes: OutcomeRecorder,
        chunk_size: int = 10,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        untracked_kinds: Collection[str] = DEFAULT_UNTRACKED_KINDS,
    ) -> None:
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        self._store = store
        self._queue = queue
        self._suppressions = suppressions
        self._outcomes = outcomes
        self._chunk_size = chunk_size
        self._clock = clock
        self._untracked_kinds = frozenset(untracked_kinds)

    def create(
        self,
        tenant_id: str,
        created_by: str | None,
        draft: MessageDraft,
        *,
        message_id: str | None = None,
        resent_from: MessageLink | None = None,
    ) -> CreatedMessage:
        """``message_id``: one chosen beforehand (a resend links to it first); ``resent_from``: the
        recipient this message is a resend of."""
        duplicate = first_duplicate([r.email for r in draft.recipients])
        if duplicate is not None:
            index, earlier = duplicate
            raise InvalidRequestError(
                f"recipients[{index}].email: the address is already recipients[{earlier}].email; "
                "list each address once",
                field=f"recipients[{index}].email",
            )
        now = self._clock()
        message_id = message_id or new_message_id(now)
        # An email is also held back from addresses unsubscribed from the tenant's emails.
        suppressed = self._suppressions.active_reasons(
            tenant_id, [r.email for r in draft.recipients], kind=draft.kind
        )
        tracking = tracking_for(draft.kind, draft.content.html, self._untracked_kinds)
        recipients = tuple(
            _planned(index, r.customer_id, normalize_email(r.email), r.name, suppressed)
            for index, r in enumerate(draft.recipients)
        )
        self._store.create(
            PlannedMessage(
                tenant_id=tenant_id,
                message_id=message_id,
                kind=draft.kind,
                content=draft.content,
                created_at=now,
                recipients=recipients,
                created_by=created_by,
                invoice_id=draft.invoice_id,
                payment_id=draft.payment_id,
                resent_from=resent_from,
                tracking=tracking,
            )
        )
        queued = [r.recipient_id for r in recipients if r.status is Status.QUEUED]
        jobs = [
            SendJob(tenant_id, message_id, chunk, draft.kind, tracking)
            for chunk in _chunks(queued, self._chunk_size)
        ]
        not_queued = self._queue.enqueue(jobs) if jobs else []
        failed: set[str] = set()
        if not_queued:
            # Never answer 5xx once some jobs are queued: a client retry would send those twice.
            # The recipients that will not be sent say so instead.
            ids = [rid for job in not_queued for rid in job.recipient_ids]
            failed = self._outcomes.fail_unsent(tenant_id, message_id, ids, NOT_QUEUED_REASON)
        return CreatedMessage(
            message_id=message_id,
            recipients=tuple(
                CreatedRecipient(
                    recipient_id=r.recipient_id,
                    email=r.email,
                    customer_id=r.customer_id,
                    status=Status.FAILED if r.recipient_id in failed else r.status,
                    reason=NOT_QUEUED_REASON if r.recipient_id in failed else r.reason,
                )
                for r in recipients
            ),
        )


# --- the sender ---------------------------------------------------------------------------------
