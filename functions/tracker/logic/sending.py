"""The send path: create a message (POST /messages), then send it one SES message per recipient.

Creating writes the message, its content and every recipient first (Queued, or Dropped when the
address is suppressed), then queues small send jobs (a few recipient ids each). The sender runs one
job at a time and, per recipient:

1. skips it when it already has an SES message id or any outcome (a redelivered job sends nothing
   twice), and marks it Dropped instead of sending when its address was suppressed after the
   message was created (a complaint or bounce that arrived while the job waited in the queue);
2. **claims** it with a version-conditioned write (so two concurrent copies of a job cannot both
   send it);
3. calls SES (retrying throttling with exponential backoff and jitter within a time budget);
4. records the outcome (Sent with the SES message id, or Failed with the reason) in one transaction
   with the count delta it implies, which also clears the claim, and folds the deltas at the end.

The one window left is a crash between SES accepting the message and step 4 (milliseconds). The
claim makes it visible: a redelivered job that finds a claim older than the sender's timeout does
**not** send again (a second copy of an invoice is worse than a missing one that the business can
see and resend); it records Sent when SES has already reported events for the recipient, else
Failed with an "outcome unknown" reason. Because every SES message carries our tags, any event SES
publishes for it later still finds the recipient and lifts the status above Failed.

No AWS SDK here: stores, queue and SES are injected behind the protocols below.
"""

from __future__ import annotations

import contextlib
import random
import secrets
import time
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from tracker import constants
from tracker.domain.errors import ConflictError, InvalidRequestError, TransientStoreError
from tracker.domain.facts import RecipientFacts
from tracker.domain.status import Status
from tracker.logic.ingest import MessageKey, RecipientKey, StoredRecipient

NOT_QUEUED_REASON = "could not be queued for sending; send the message again"
UNKNOWN_OUTCOME_REASON = (
    "send outcome unknown: the sender stopped after handing it to SES; not resent to avoid a duplicate"
)
THROTTLED_REASON = "SES kept throttling the send; not sent"
OUT_OF_TIME_REASON = "the sender ran out of attempts; not sent"


def dropped_reason(suppression_reason: str) -> str:
    """A Dropped recipient's reason, from why its address is suppressed (e.g. "1 complaint")."""
    return f"suppressed: {suppression_reason}"


# --- ids ---------------------------------------------------------------------------


def new_message_id(at: datetime) -> str:
    """``m`` + 13-digit epoch milliseconds + 16 random hex digits: sorts by creation time, and uses
    only characters that SES message tags and our keys allow."""
    return f"m{int(at.timestamp() * 1000):013d}{secrets.token_hex(8)}"


def recipient_id(index: int) -> str:
    """Unique within a message (the request order), SES-tag-safe."""
    return f"r{index:04d}"


# --- what is created -------------------------------------------------------------------


@dataclass(frozen=True)
class MessageContent:
    subject: str
    text: str | None = None
    html: str | None = None


@dataclass(frozen=True)
class RecipientDraft:
    customer_id: str
    email: str  # validated and normalized (lowercase) by the request model
    name: str | None = None


@dataclass(frozen=True)
class MessageDraft:
    kind: str
    content: MessageContent
    recipients: tuple[RecipientDraft, ...]
    invoice_id: str | None = None
    payment_id: str | None = None


@dataclass(frozen=True)
class PlannedRecipient:
    recipient_id: str
    customer_id: str
    email: str
    name: str | None
    status: Status
    reason: str | None = None


@dataclass(frozen=True)
class PlannedMessage:
    tenant_id: str
    message_id: str
    kind: str
    content: MessageContent
    created_at: datetime
    recipients: tuple[PlannedRecipient, ...]
    created_by: str | None = None
    invoice_id: str | None = None
    payment_id: str | None = None


@dataclass(frozen=True)
class SendJob:
    tenant_id: str
    message_id: str
    recipient_ids: tuple[str, ...]


@dataclass(frozen=True)
class CreatedRecipient:
    recipient_id: str
    email: str
    customer_id: str
    status: Status
    reason: str | None = None


@dataclass(frozen=True)
class CreatedMessage:
    message_id: str
    recipients: tuple[CreatedRecipient, ...]


# --- collaborators ----------------------------------------------------------------------


class MessageStore(Protocol):
    def create(self, message: PlannedMessage) -> None:
        """Content and recipients first, the message with its initial counts last; re-running it
        for the same message rewrites the same items."""
        ...


class JobQueue(Protocol):
    def enqueue(self, jobs: Sequence[SendJob]) -> list[SendJob]:
        """Queue the jobs; returns those that could not be queued."""
        ...


class SuppressionCheck(Protocol):
    def active_reasons(self, tenant_id: str, emails: Collection[str]) -> dict[str, str]: ...


class IdempotencyGuard(Protocol):
    def run(
        self,
        tenant_id: str,
        key: str,
        request: Mapping[str, Any],
        compute: Callable[[], dict[str, Any]],
    ) -> dict[str, Any]:
        """The stored result of the first request with this key (for this tenant), computing it once.

        Raises RequestMismatchError when the key was used with a different ``request`` and
        ConflictError while the first request is still running."""
        ...


@dataclass(frozen=True)
class SendTarget:
    """A recipient as the sender sees it: facts and version (for the conditional writes) plus its
    display name and the claim of a sender that is (or was) sending it."""

    recipient: StoredRecipient
    name: str | None = None
    claim: str | None = None
    claimed_at: datetime | None = None

    @property
    def key(self) -> RecipientKey:
        return self.recipient.key

    @property
    def email(self) -> str:
        return self.recipient.email

    @property
    def facts(self) -> RecipientFacts:
        return self.recipient.facts

    @property
    def unsent(self) -> bool:
        """Never handed to SES and without any outcome: the only recipients a job may send."""
        return (
            self.recipient.ses_message_id is None
            and self.facts.send_outcome is Status.QUEUED
            and not self.facts.seen
        )

    @property
    def unclaimed_unsent(self) -> bool:
        """Unsent and no sender is on it: this job may still decide its outcome without SES."""
        return self.unsent and self.claim is None


class SendStore(Protocol):
    def load_targets(
        self, tenant_id: str, message_id: str, recipient_ids: Collection[str]
    ) -> dict[str, SendTarget]: ...

    def reload(self, target: SendTarget) -> SendTarget: ...

    def load_content(self, tenant_id: str, message_id: str) -> MessageContent | None: ...

    def claim(self, target: SendTarget, claim: str, at: datetime) -> SendTarget:
        """Conditional on the target's version; raises ConflictError when it changed."""
        ...

    def release(self, target: SendTarget) -> None:
        """Clear the claim (the send certainly did not happen); ConflictError when it changed."""
        ...

    def record(self, target: SendTarget, facts: RecipientFacts, ses_message_id: str | None) -> None:
        """Atomically write the recipient's new facts (clearing the claim, storing the SES message id
        when given) and the count delta its status change implies. ConflictError when it changed."""
        ...

    def fold(self, message: MessageKey) -> None: ...


# --- SES, behind a small protocol -------------------------------------------------------


@dataclass(frozen=True)
class OutgoingMail:
    to: str
    name: str | None
    content: MessageContent
    tags: Mapping[str, str]


class Mailer(Protocol):
    def send(self, mail: OutgoingMail) -> str:
        """Hand one message to SES; returns SES's message id or raises a SendError."""
        ...


class SendError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SendThrottledError(SendError):
    """SES throttled the call (sending rate or quota); it did not accept the message."""


class SendUnavailableError(SendError):
    """SES answered with a server error or could not be reached; it did not accept the message."""


class RecipientRejectedError(SendError):
    """SES refused this message for this recipient (bad address, rejected content): permanent."""


class SendingBlockedError(SendError):
    """The account or configuration cannot send at all (paused, suspended, unverified domain,
    missing configuration set): permanent for every recipient of the job."""


class SendOutcomeUnknownError(SendError):
    """The request may have reached SES but no answer came back: it may or may not have been sent."""


# --- recording outcomes exactly once -------------------------------------------------------


class OutcomeRecorder:
    """Records send outcomes through the same recipient + count-delta transaction as the ingest path.

    Setting ``send_outcome`` on the *current* facts is safe against concurrent SES events: any SES
    event ranks above Sent/Failed in the status precedence, so whichever writer commits last, the
    status is the same. A version conflict re-reads the recipient and re-applies the outcome.
    """

    def __init__(
        self, store: SendStore, sleep: Callable[[float], None] = time.sleep, attempts: int = 5
    ) -> None:
        self._store = store
        self._sleep = sleep
        self._attempts = attempts

    def sent(self, target: SendTarget, ses_message_id: str | None) -> None:
        self._record(
            target, lambda f: replace(f, send_outcome=Status.SENT, send_outcome_reason=None), ses_message_id
        )

    def failed(self, target: SendTarget, reason: str) -> None:
        self._record(
            target, lambda f: replace(f, send_outcome=Status.FAILED, send_outcome_reason=reason[:1000]), None
        )

    def dropped(self, target: SendTarget, reason: str) -> bool:
        """Mark a never-sent, unclaimed recipient Dropped. False, writing nothing, once it is no
        longer one (a concurrent copy of the job claimed or sent it first)."""
        return self._record(
            target,
            lambda f: replace(f, send_outcome=Status.DROPPED, send_outcome_reason=reason[:1000]),
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
            self._sleep(min(0.05 * 2**attempt, 1.0) * random.uniform(0.5, 1.0))  # noqa: S311 - jitter
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
        if failed:
            self._store.fold(MessageKey(tenant_id, message_id))
        return failed


# --- POST /messages ---------------------------------------------------------------------------


def _chunks(items: Sequence[str], size: int) -> list[tuple[str, ...]]:
    return [tuple(items[i : i + size]) for i in range(0, len(items), size)]


def first_duplicate(emails: Sequence[str]) -> tuple[int, int] | None:
    """(index, index of the earlier occurrence) of the first repeated address, case-insensitively."""
    seen: dict[str, int] = {}
    for index, email in enumerate(emails):
        key = email.lower()
        if key in seen:
            return index, seen[key]
        seen[key] = index
    return None


class MessageService:
    def __init__(
        self,
        store: MessageStore,
        queue: JobQueue,
        suppressions: SuppressionCheck,
        outcomes: OutcomeRecorder,
        chunk_size: int = 10,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        self._store = store
        self._queue = queue
        self._suppressions = suppressions
        self._outcomes = outcomes
        self._chunk_size = chunk_size
        self._clock = clock

    def create(self, tenant_id: str, created_by: str | None, draft: MessageDraft) -> CreatedMessage:
        duplicate = first_duplicate([r.email for r in draft.recipients])
        if duplicate is not None:
            index, earlier = duplicate
            raise InvalidRequestError(
                f"recipients[{index}].email: the address is already recipients[{earlier}].email; "
                "list each address once",
                field=f"recipients[{index}].email",
            )
        now = self._clock()
        message_id = new_message_id(now)
        suppressed = self._suppressions.active_reasons(tenant_id, [r.email for r in draft.recipients])
        recipients = tuple(
            PlannedRecipient(
                recipient_id=recipient_id(index),
                customer_id=r.customer_id,
                email=r.email.lower(),
                name=r.name,
                status=Status.DROPPED if r.email.lower() in suppressed else Status.QUEUED,
                reason=dropped_reason(suppressed[r.email.lower()]) if r.email.lower() in suppressed else None,
            )
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
            )
        )
        queued = [r.recipient_id for r in recipients if r.status is Status.QUEUED]
        jobs = [SendJob(tenant_id, message_id, chunk) for chunk in _chunks(queued, self._chunk_size)]
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


@dataclass(frozen=True)
class SenderPolicy:
    # SES calls per recipient within one invocation while SES throttles (then the job is retried
    # through SQS, up to max_receive_count deliveries).
    throttle_attempts: int = 6
    backoff_base_seconds: float = 0.2
    backoff_cap_seconds: float = 5.0
    # A claim older than this belongs to a sender that stopped (well above the sender's timeout,
    # below the send queue's visibility timeout).
    claim_timeout: timedelta = timedelta(minutes=2)
    # Start no SES call with less than this left of the invocation (an SES call + the outcome write).
    time_margin_ms: int = 10_000
    max_receive_count: int = constants.MAX_RECEIVE_COUNT


class _Step(StrEnum):
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    STOP = "stop"  # stop this job now; the rest waits for the redelivery
    DEFER = "defer"  # leave this recipient to the redelivery, go on with the others


@dataclass
class JobResult:
    sent: int = 0
    failed: int = 0
    dropped: int = 0  # suppressed after the message was created: not sent
    skipped: int = 0
    throttled: int = 0
    retry_reason: str | None = None

    @property
    def done(self) -> bool:
        return self.retry_reason is None

    def defer(self, reason: str) -> None:
        self.retry_reason = self.retry_reason or reason


@dataclass
class _JobState:
    job: SendJob
    receive_count: int
    last_chance: bool
    remaining_ms: Callable[[], int]
    claim: str = field(default_factory=lambda: uuid.uuid4().hex)
    content: MessageContent | None = None
    blocked: str | None = None
    suppressed: Mapping[str, str] = field(default_factory=dict)  # address -> why, at the job's start


class Sender:
    def __init__(
        self,
        store: SendStore,
        mailer: Mailer,
        suppressions: SuppressionCheck,
        policy: SenderPolicy | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._store = store
        self._mailer = mailer
        self._suppressions = suppressions
        self._policy = policy or SenderPolicy()
        self._clock = clock
        self._sleep = sleep
        self._outcomes = OutcomeRecorder(store, sleep)

    def process_job(
        self,
        job: SendJob,
        receive_count: int = 1,
        remaining_ms: Callable[[], int] | None = None,
        fold: bool = True,
    ) -> JobResult:
        """Send every unsent recipient of the job once. ``result.done`` is False when the job must
        be delivered again (throttling, time, a concurrent sender); on the queue's last delivery
        nothing is left for a retry: unsent recipients are marked Failed instead.

        ``fold=False`` leaves the count deltas for one ``fold`` per batch (fewer writes on the
        message item; until then readers of the message add the pending deltas themselves)."""
        state = _JobState(
            job=job,
            receive_count=receive_count,
            last_chance=receive_count >= self._policy.max_receive_count,
            remaining_ms=remaining_ms or (lambda: 2**31),
        )
        result = JobResult()
        targets = self._store.load_targets(job.tenant_id, job.message_id, job.recipient_ids)
        result.skipped += len(set(job.recipient_ids) - set(targets))  # never written: nothing to send
        pending = [targets[rid] for rid in sorted(targets)]
        unsettled: list[SendTarget] = []
        try:
            # One read for the job: a suppression that arrived after the message was created (and
            # Dropped its recipients then) must not be sent to either.
            sendable = [t.email for t in pending if t.unclaimed_unsent]
            if sendable:
                state.suppressed = self._suppressions.active_reasons(job.tenant_id, sendable)
            for index, target in enumerate(pending):
                step = self._one(state, target, result)
                if step is _Step.STOP:
                    unsettled.extend(pending[index:])
                    break
                if step is _Step.DEFER:
                    unsettled.append(target)
            if state.last_chance and unsettled:
                # SQS will not deliver this job again: settle every recipient that is left.
                reason = f"{result.retry_reason or OUT_OF_TIME_REASON} (delivery {receive_count})"
                result.retry_reason = None
                for target in unsettled:
                    self._settle_last(state, target, reason, result)
        finally:
            if fold:
                self._store.fold(MessageKey(job.tenant_id, job.message_id))
        return result

    def fold(self, messages: Collection[MessageKey]) -> None:
        for message in sorted(set(messages)):
            self._store.fold(message)

    # --- per job ---------------------------------------------------------------

    def _one(self, state: _JobState, target: SendTarget, result: JobResult) -> _Step | None:
        if target.claim is not None:
            return self._settle_claim(state, target, result)
        if not target.unsent:
            result.skipped += 1
            return None
        suppressed = state.suppressed.get(target.email.lower())
        if suppressed is not None:
            if self._outcomes.dropped(target, dropped_reason(suppressed)):
                result.dropped += 1
            else:
                result.skipped += 1  # a concurrent copy of the job got to it first
            return None
        if state.blocked is not None:
            self._outcomes.failed(target, state.blocked)
            result.failed += 1
            return _Step.FAILED
        if state.remaining_ms() < self._policy.time_margin_ms:
            result.retry_reason = OUT_OF_TIME_REASON
            return _Step.STOP
        if state.content is None:
            state.content = self._store.load_content(state.job.tenant_id, state.job.message_id)
            if state.content is None:
                result.retry_reason = "the message content is not readable yet"
                return _Step.STOP
        return self._send(state, target, state.content, result)

    def _settle_claim(self, state: _JobState, target: SendTarget, result: JobResult) -> _Step | None:
        """A claim without an outcome: another sender is on it, or one stopped mid-send."""
        claimed_at = target.claimed_at or datetime.min.replace(tzinfo=UTC)
        if self._clock() - claimed_at < self._policy.claim_timeout and not state.last_chance:
            result.defer("a recipient is being sent by another invocation")
            return _Step.DEFER
        if target.facts.seen:  # SES already published events for it: it was sent
            self._outcomes.sent(target, None)
            result.sent += 1
            return _Step.SENT
        self._outcomes.failed(target, UNKNOWN_OUTCOME_REASON)
        result.failed += 1
        return _Step.FAILED

    def _settle_last(self, state: _JobState, target: SendTarget, reason: str, result: JobResult) -> None:
        current = self._store.reload(target)
        if current.claim is not None:
            self._settle_claim(state, current, result)
        elif current.unsent:
            self._outcomes.failed(current, reason)
            result.failed += 1

    # --- per recipient ---------------------------------------------------------

    def _send(
        self, state: _JobState, target: SendTarget, content: MessageContent, result: JobResult
    ) -> _Step:
        job = state.job
        try:
            target = self._store.claim(target, state.claim, self._clock())
        except ConflictError:
            result.defer("a recipient changed while it was being claimed")
            return _Step.DEFER
        mail = OutgoingMail(
            to=target.email,
            name=target.name,
            content=content,
            tags={
                constants.TAG_TENANT: job.tenant_id,
                constants.TAG_MESSAGE: job.message_id,
                constants.TAG_RECIPIENT: target.key.recipient_id,
            },
        )
        attempt = 0
        while True:
            try:
                ses_message_id = self._mailer.send(mail)
            except (SendThrottledError, SendUnavailableError) as error:
                if isinstance(error, SendThrottledError):
                    result.throttled += 1
                attempt += 1
                delay = self._backoff(attempt)
                out_of_time = state.remaining_ms() - delay * 1000 < self._policy.time_margin_ms
                if attempt >= self._policy.throttle_attempts or out_of_time:
                    if state.last_chance and not out_of_time:
                        # No later delivery: fail this one (which clears the claim), try the others.
                        self._outcomes.failed(target, f"{THROTTLED_REASON} (delivery {state.receive_count})")
                        result.failed += 1
                        return _Step.FAILED
                    self._release(target)
                    result.retry_reason = THROTTLED_REASON if not out_of_time else OUT_OF_TIME_REASON
                    return _Step.STOP  # SES throttles the account, not one address: stop the job
                self._sleep(delay)
                continue
            except RecipientRejectedError as error:
                self._outcomes.failed(target, error.reason)
                result.failed += 1
                return _Step.FAILED
            except SendingBlockedError as error:
                state.blocked = error.reason
                self._outcomes.failed(target, error.reason)
                result.failed += 1
                return _Step.BLOCKED
            except SendOutcomeUnknownError as error:
                # Keep the claim: the redelivery settles it without sending a second copy.
                result.defer(f"SES outcome unknown: {error.reason}")
                return _Step.DEFER
            self._outcomes.sent(target, ses_message_id)
            result.sent += 1
            return _Step.SENT

    def _release(self, target: SendTarget) -> None:
        """Certainly not sent: drop the claim so the redelivery may send it. If even that fails, the
        claim stays and the redelivery settles it as "outcome unknown" (never a second copy)."""
        with contextlib.suppress(ConflictError, TransientStoreError):
            self._store.release(target)

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with "equal jitter": half fixed, half random."""
        ceiling = min(
            self._policy.backoff_cap_seconds, self._policy.backoff_base_seconds * 2.0 ** (attempt - 1)
        )
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not crypto
