"""Sending a message: one SES message per recipient, exactly once.

The sender runs one job (up to ``MAX_JOB_RECIPIENTS`` recipient ids of one message) at a time,
its recipients on a small pool of threads (``SenderPolicy.parallel_calls``: an SES call waits
~50 ms, so one thread alone sends ~15/s), each SES call paced to the worker's share of the
account's send rate (``tracker.logic.pacing``), and, per recipient:

1. skips it when it already has an SES message id or any outcome (a redelivered job sends nothing
   twice), and marks it Dropped instead of sending when its address was suppressed after the
   message was created (a complaint or bounce that arrived while the job waited in the queue);
2. **claims** it with a version-conditioned write (so two concurrent copies of a job cannot both
   send it);
3. calls SES once the pacer lets it (retrying throttling with exponential backoff and jitter
   within a time budget);
4. records the outcome (Sent with the SES message id, or Failed with the reason) in one
   version-conditioned write that also clears the claim (the counts follow from the table's stream).

The one window left is a crash between SES accepting the message and step 4 (milliseconds). The
claim makes it visible: a redelivered job that finds a claim older than the sender's timeout does
**not** send again (a second copy of an invoice is worse than a missing one that the business can
see and resend); it records Sent when SES has already reported events for the recipient, else
Failed with an "outcome unknown" reason. Because every SES message carries our tags, any event SES
publishes for it later still finds the recipient and lifts the status above Failed.

The guarantees do not depend on the threads: each recipient is claimed, sent and recorded by one
thread with the same conditional writes, and what the threads share (the job's stop, an
account-level block, the pacer) only keeps calls from starting.

No AWS SDK here: stores, queue and SES are injected behind the ports.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from tracker import constants
from tracker.domain.errors import (
    ConflictError,
    RecipientRejectedError,
    SendingBlockedError,
    SendOutcomeUnknownError,
    SendThrottledError,
    SendUnavailableError,
    TransientStoreError,
    UnwritableError,
)
from tracker.domain.ids import normalize_email
from tracker.domain.messages import MessageContent, OutgoingMail, SendJob, SendTarget
from tracker.domain.records import RecipientKey
from tracker.domain.tracking import Tracking
from tracker.domain.unsubscribe import carries_unsubscribe, unsubscribe_headers
from tracker.logic.outcomes import (
    OUT_OF_TIME_REASON,
    THROTTLED_REASON,
    UNKNOWN_OUTCOME_REASON,
    OutcomeRecorder,
    dropped_reason,
)
from tracker.logic.pacing import Pacer, PaceShare
from tracker.logic.ports import Mailer, SendRateSource, SendStore, SuppressionCheck
from tracker.logic.retry import Backoff, jittered_delay

logger = logging.getLogger(__name__)


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
    # SES calls in flight at once within one invocation (threads); 1 sends one after another.
    parallel_calls: int = 1

    def __post_init__(self) -> None:
        if self.parallel_calls < 1:
            raise ValueError("parallel_calls must be at least 1")


class _Step(StrEnum):
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    STOP = "stop"  # stop this job now; the rest waits for the redelivery
    NOT_STARTED = "not started"  # the job stopped before this recipient was taken up
    DEFER = "defer"  # leave this recipient to the redelivery, go on with the others


@dataclass
class JobResult:
    sent: int = 0
    failed: int = 0
    dropped: int = 0  # suppressed after the message was created: not sent
    skipped: int = 0
    throttled: int = 0
    unwritable: int = 0  # an outcome the store refused for good (logged)
    retry_reason: str | None = None

    @property
    def done(self) -> bool:
        return self.retry_reason is None

    def defer(self, reason: str) -> None:
        self.retry_reason = self.retry_reason or reason

    def add(self, other: JobResult, *, stopped: bool = False) -> None:
        """Fold one recipient's result in; the reason of a stop wins over a deferral's."""
        self.sent += other.sent
        self.failed += other.failed
        self.dropped += other.dropped
        self.skipped += other.skipped
        self.throttled += other.throttled
        self.unwritable += other.unwritable
        if other.retry_reason is not None:
            if stopped:
                self.retry_reason = other.retry_reason
            else:
                self.defer(other.retry_reason)


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
    stopped: threading.Event = field(default_factory=threading.Event)


@dataclass
class Pacing:
    """This worker's pacer, set to its share of the account's rate at the start of every job (the
    source caches ``GetAccount``, so a raised quota is picked up without a deployment)."""

    pacer: Pacer
    source: SendRateSource | None = None
    share: PaceShare = field(default_factory=PaceShare)

    def refresh(self) -> None:
        if self.source is not None:
            rate = self.source.max_send_rate()
            self.pacer.set_rate(self.share.per_worker(rate), self.share.burst(rate))


class Sender:
    def __init__(
        self,
        store: SendStore,
        mailer: Mailer,
        suppressions: SuppressionCheck,
        policy: SenderPolicy | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
        unsubscribe_link: Callable[[RecipientKey], str] | None = None,
        pacing: Pacing | None = None,
    ) -> None:
        """``unsubscribe_link``: the one-click unsubscribe URL of a recipient, added to every
        ``email`` (RFC 8058 headers); without it emails go out without the headers."""
        self._store = store
        self._mailer = mailer
        self._suppressions = suppressions
        self._policy = policy or SenderPolicy()
        self._clock = clock
        self._sleep = sleep
        self._unsubscribe_link = unsubscribe_link
        self._outcomes = OutcomeRecorder(store, Backoff(sleep=sleep))
        self._pacing = pacing
        # Lives as long as the container (threads start on first use).
        self._pool = (
            ThreadPoolExecutor(self._policy.parallel_calls, thread_name_prefix="ThreadPoolExecutor-sender")
            if self._policy.parallel_calls > 1
            else None
        )

    def process_job(
        self,
        job: SendJob,
        receive_count: int = 1,
        remaining_ms: Callable[[], int] | None = None,
    ) -> JobResult:
        """Send every unsent recipient of the job once. ``result.done`` is False when the job must
        be delivered again (throttling, time, a concurrent sender); on the queue's last delivery
        nothing is left for a retry: unsent recipients are marked Failed instead."""
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
        # One read for the job: a suppression that arrived after the message was created (and
        # Dropped its recipients then) must not be sent to either.
        sendable = [t.email for t in pending if t.unclaimed_unsent]
        if sendable:
            state.suppressed = self._suppressions.active_reasons(job.tenant_id, sendable, kind=job.kind)
            if any(normalize_email(email) not in state.suppressed for email in sendable):
                # One read of the content for the job, before the threads need it.
                state.content = self._store.load_content(job.tenant_id, job.message_id)
            if self._pacing is not None:
                self._pacing.refresh()
                self._warn_if_too_slow(state, len(sendable))
        if self._pool is not None and len(pending) > 1:
            steps = list(self._pool.map(lambda target: self._task(state, target), pending))
        else:
            steps = [self._task(state, target) for target in pending]
        for target, (step, partial) in zip(pending, steps, strict=True):
            result.add(partial, stopped=step is _Step.STOP)
            if step in (_Step.STOP, _Step.NOT_STARTED, _Step.DEFER):
                unsettled.append(target)
        if state.last_chance and unsettled:
            # SQS will not deliver this job again: settle every recipient that is left.
            reason = f"{result.retry_reason or OUT_OF_TIME_REASON} (delivery {receive_count})"
            result.retry_reason = None
            for target in unsettled:
                self._settle_last(state, target, reason, result)
        return result

    # --- per job ---------------------------------------------------------------

    def _warn_if_too_slow(self, state: _JobState, recipients: int) -> None:
        """At this worker's share of the rate the job cannot end in this invocation: its tail waits
        for redeliveries, each a receive towards the DLQ (the job size or the rate is wrong)."""
        assert self._pacing is not None
        rate = self._pacing.pacer.rate
        usable_ms = state.remaining_ms() - self._policy.time_margin_ms
        if rate is not None and recipients / rate * 1000 > usable_ms:
            logger.warning(
                "a send job cannot finish at this sender's share of the SES rate: lower sendJobSize, "
                "senderMaxConcurrency, or raise the account's rate",
                extra={"recipients": recipients, "sends_per_second": rate, "usable_ms": usable_ms},
            )

    def _task(self, state: _JobState, target: SendTarget) -> tuple[_Step | None, JobResult]:
        """One recipient, on whichever thread: its own result, folded in by ``process_job``."""
        partial = JobResult()
        if state.stopped.is_set():
            return _Step.NOT_STARTED, partial
        step = self._isolated(state, target, partial)
        if step is _Step.STOP:
            state.stopped.set()
        return step, partial

    def _one(self, state: _JobState, target: SendTarget, result: JobResult) -> _Step | None:
        if target.claim is not None:
            return self._settle_claim(state, target, result)
        if not target.unsent:
            result.skipped += 1
            return None
        suppressed = state.suppressed.get(normalize_email(target.email))
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
            result.retry_reason = "the message content is not readable yet"
            return _Step.STOP
        return self._send(state, target, state.content, result)

    def _isolated(self, state: _JobState, target: SendTarget, result: JobResult) -> _Step | None:
        """``_one``, where a failure concerns this recipient only: the store's trouble with it
        leaves it to the redelivery (the others go on); a write refused for good is logged and
        the recipient left as it is, since no retry can record it."""
        try:
            return self._one(state, target, result)
        except TransientStoreError as error:
            result.defer(f"the data store failed for a recipient: {error}")
            return _Step.DEFER
        except UnwritableError:
            logger.exception("a recipient's send outcome cannot be stored", extra={"recipient": target.key})
            result.unwritable += 1
            return None

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
            headers=self._headers(job, target),
            tracked=job.tracking is not Tracking.OFF,
        )
        attempt = 0
        while True:
            try:
                if self._pacing is not None:
                    self._pacing.pacer.acquire()
                ses_message_id = self._mailer.send(mail)
            except (SendThrottledError, SendUnavailableError) as error:
                if isinstance(error, SendThrottledError):
                    result.throttled += 1
                    if self._pacing is not None:
                        self._pacing.pacer.throttled()
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

    def _headers(self, job: SendJob, target: SendTarget) -> tuple[tuple[str, str], ...]:
        if self._unsubscribe_link is None or not carries_unsubscribe(job.kind):
            return ()
        return unsubscribe_headers(self._unsubscribe_link(target.key))

    def _release(self, target: SendTarget) -> None:
        """Certainly not sent: drop the claim so the redelivery may send it. If even that fails, the
        claim stays and the redelivery settles it as "outcome unknown" (never a second copy)."""
        with contextlib.suppress(ConflictError, TransientStoreError):
            self._store.release(target)

    def _backoff(self, attempt: int) -> float:
        """Seconds before the next SES call after the ``attempt``-th throttled one (1-based)."""
        return jittered_delay(
            attempt - 1, self._policy.backoff_base_seconds, self._policy.backoff_cap_seconds
        )
