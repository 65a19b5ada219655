"""What needs the owner's attention (``GET /attention``): documents whose delivery failed or is stuck.

A recipient *concerns* its message while it is failed (bounced, complaint, dropped, rejected,
failed) or pending (queued, sent, delayed: no Delivery yet) and has been neither resent nor
dismissed. A message needs attention from ``attention_at``: the first failure of the current
episode while any recipient failed ("failed"), else the first send plus the stuck setting while
any is pending ("stuck"); a message whose pending recipients are all delivered leaves the queue.
Pure: the projector (tracker.logic.projector) keeps these facts on the message item.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from tracker import constants
from tracker.domain.facts import RecipientFacts
from tracker.domain.reasons.records import recipient_reason
from tracker.domain.status import PENDING_STATUSES, Status
from tracker.domain.views import MessageRecord, dropped_reason

if TYPE_CHECKING:  # field types only: the projector, which imports this module, needs neither
    from tracker.domain.links import ResendLink
    from tracker.domain.messages import MessageContent

FAILED_STATUSES = frozenset(
    {Status.BOUNCED, Status.COMPLAINT, Status.DROPPED, Status.REJECTED, Status.FAILED}
)
LISTED_RECIPIENTS_MAX = constants.LISTED_RECIPIENTS_MAX
RAW_REASON_LIMIT = 200  # the listed raw text; the recipient's timeline has all of it
DEFAULT_STUCK_HOURS = 24
# The kinds whose documents share one queue (the default view): an invoice and its receipt.
DOCUMENT_KINDS = ("invoice", "receipt")
DOCUMENTS_CATEGORY = "documents"


class Problem(StrEnum):
    FAILED = "failed"
    STUCK = "stuck"


def category(kind: str) -> str:
    """The queue (index partition) a message of this kind is in."""
    return DOCUMENTS_CATEGORY if kind in DOCUMENT_KINDS else kind


@dataclass(frozen=True)
class Concern:
    """One recipient that concerns its message, as the message item lists it."""

    recipient_id: str
    customer_id: str
    email: str
    name: str | None
    status: Status
    since: datetime | None
    code: str | None = None
    raw_reason: str | None = None

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES


def failure_time(status: Status, facts: RecipientFacts) -> datetime | None:
    """When the failure SES reported happened (None for a send outcome, which keeps no time)."""
    detail = {
        Status.BOUNCED: facts.bounce,
        Status.COMPLAINT: facts.complaint,
        Status.REJECTED: facts.reject,
        Status.FAILED: facts.rendering_failure,
    }.get(status)
    if detail is not None:
        return detail.at
    return facts.ses_suppressed_at if status is Status.DROPPED else None


def raw_reason(status: Status, facts: RecipientFacts) -> str | None:
    """The raw text a failed recipient's reason was read from, cut for the listing."""
    text: object = None
    if status is Status.BOUNCED:
        text = facts.bounce_reason
    elif status is Status.COMPLAINT and facts.complaint is not None:
        text = facts.complaint.values.get("feedback_type")
    elif status is Status.REJECTED and facts.reject is not None:
        text = facts.reject.values.get("reason")
    elif status is Status.DROPPED:
        text = dropped_reason(status, facts)
    elif status is Status.FAILED:
        failure = facts.rendering_failure
        text = failure.values.get("error_message") if failure is not None else facts.send_outcome_reason
    return str(text)[:RAW_REASON_LIMIT] if text else None


def is_concern(status: Status, resolved: bool) -> bool:
    return not resolved and (status in FAILED_STATUSES or status in PENDING_STATUSES)


@dataclass(frozen=True)
class Who:
    recipient_id: str
    customer_id: str
    email: str
    name: str | None


def concern_of(
    who: Who,
    status: Status,
    load_facts: Callable[[], RecipientFacts],
    sent_at: datetime | None,
    changed_at: datetime,
) -> Concern:
    """The listed entry of a concerned recipient; ``changed_at`` (when its item changed) stands in
    for a failure time the facts do not keep (a drop or failure of the send path). ``load_facts``
    is called for a failed one only: a pending one needs its send time alone, and the projector meets
    pending recipients on every change of a small message."""
    if status in FAILED_STATUSES:
        facts = load_facts()
        reason = recipient_reason(status, facts)
        return Concern(
            who.recipient_id,
            who.customer_id,
            who.email,
            who.name,
            status,
            failure_time(status, facts) or changed_at,
            reason.code if reason else None,
            raw_reason(status, facts),
        )
    return Concern(who.recipient_id, who.customer_id, who.email, who.name, status, sent_at)


@dataclass(frozen=True)
class AttentionFacts:
    """What the message item holds about its concerned recipients."""

    failed: int
    pending: int
    failed_since: datetime | None
    first_sent_at: datetime | None
    created_at: datetime


def attention_due(facts: AttentionFacts, stuck_after: timedelta) -> tuple[Problem, datetime] | None:
    """Since when (and why) the message needs attention; None when it does not (any more)."""
    if facts.failed > 0:
        return Problem.FAILED, facts.failed_since or facts.created_at
    if facts.pending > 0:
        return Problem.STUCK, (facts.first_sent_at or facts.created_at) + stuck_after
    return None


@dataclass(frozen=True)
class AttentionRecord:
    """One document of the attention queue: its header, since when and why it needs attention,
    the recipients concerned that its item lists, and how many more there are."""

    message: MessageRecord
    attention_at: datetime
    problem: Problem
    recipients: tuple[Concern, ...]
    omitted: int


@dataclass(frozen=True)
class ResendSource:
    """What a resend copies: the recipient (customer, address, name), its message's kind and
    document ids, and the content."""

    customer_id: str
    email: str
    name: str | None
    kind: str
    content: MessageContent | None  # None once the content's retention has passed
    invoice_id: str | None
    payment_id: str | None
    resent_as: ResendLink | None
