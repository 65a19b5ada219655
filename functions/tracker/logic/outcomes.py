"""Recording send outcomes exactly once: Sent, Failed or Dropped, with the count change they imply.

Both use cases of the send path record through here: creating a message (recipients that could not
be queued) and sending it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import replace

from tracker.domain.errors import ConflictError, TransientStoreError
from tracker.domain.facts import RecipientFacts
from tracker.domain.messages import SendTarget
from tracker.domain.status import Status
from tracker.domain.unsubscribe import UNSUBSCRIBED_REASON
from tracker.logic.ports import SendStore
from tracker.logic.retry import Backoff

NOT_QUEUED_REASON = "could not be queued for sending; send the message again"
UNKNOWN_OUTCOME_REASON = (
    "send outcome unknown: the sender stopped after handing it to SES; not resent to avoid a duplicate"
)
THROTTLED_REASON = "SES kept throttling the send; not sent"
OUT_OF_TIME_REASON = "the sender ran out of attempts; not sent"
# A reason is shown to people and stored on the recipient: long SES messages are cut.
MAX_REASON_CHARS = 1000


def dropped_reason(suppression_reason: str) -> str:
    """A Dropped recipient's reason, from why its address is suppressed (e.g. "1 complaint"), or
    "unsubscribed" (an email to an address unsubscribed from the tenant's emails)."""
    if suppression_reason == UNSUBSCRIBED_REASON:
        return UNSUBSCRIBED_REASON
    return f"suppressed: {suppression_reason}"


class OutcomeRecorder:
    """Records send outcomes through the same recipient + count-delta transaction as the ingest path.

    Setting ``send_outcome`` on the *current* facts is safe against concurrent SES events: any SES
    event ranks above Sent/Failed in the status precedence, so whichever writer commits last, the
    status is the same. A version conflict re-reads the recipient and re-applies the outcome.
    """

    def __init__(self, store: SendStore, backoff: Backoff | None = None, attempts: int = 5) -> None:
        self._store = store
        self._backoff = backoff or Backoff()
        self._attempts = attempts

    def sent(self, target: SendTarget, ses_message_id: str | None) -> None:
        self._record(
            target, lambda f: replace(f, send_outcome=Status.SENT, send_outcome_reason=None), ses_message_id
        )

    def failed(self, target: SendTarget, reason: str) -> None:
        self._record(
            target,
            lambda f: replace(f, send_outcome=Status.FAILED, send_outcome_reason=reason[:MAX_REASON_CHARS]),
            None,
        )

    def dropped(self, target: SendTarget, reason: str) -> bool:
        """Mark a never-sent, unclaimed recipient Dropped. False, writing nothing, once it is no
        longer one (a concurrent copy of the job claimed or sent it first)."""
        return self._record(
            target,
            lambda f: replace(f, send_outcome=Status.DROPPED, send_outcome_reason=reason[:MAX_REASON_CHARS]),
            None,
            applies=lambda t: t.unclaimed_unsent,
        )

    def _record(
        self,
        target: SendTarget,
        outcome: Callable[[RecipientFacts], RecipientFacts],
        ses_message_id: str | None,
        applies: Callable[[SendTarget], bool] = lambda _t: True,
    ) -> bool:
        for attempt in range(self._attempts):
            if not applies(target):
                return False
            try:
                self._store.record(target, outcome(target.facts), ses_message_id)
                return True
            except (ConflictError, TransientStoreError):
                if attempt == self._attempts - 1:
                    raise
            self._backoff.wait(attempt)
            target = self._store.reload(target)
        raise AssertionError("unreachable")  # pragma: no cover

    def fail_unsent(
        self, tenant_id: str, message_id: str, recipient_ids: Collection[str], reason: str
    ) -> set[str]:
        """Mark the never-sent, unclaimed ones of these recipients Failed; returns their ids."""
        targets = self._store.load_targets(tenant_id, message_id, recipient_ids)
        failed: set[str] = set()
        for rid, target in sorted(targets.items()):
            if target.unclaimed_unsent:
                self.failed(target, reason)
                failed.add(rid)
        return failed


# --- POST /messages ---------------------------------------------------------------------------
