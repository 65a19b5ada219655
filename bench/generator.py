"""A synthetic send of N recipients and the SES events it produces, with its ground truth.

Every recipient gets a ``Send``. Then, drawn independently per recipient with a seeded RNG:

* outcome: ~95% ``Delivery``, ~3% permanent ``Bounce``, ~1% transient ``Bounce`` (each with an
  SMTP diagnostic), the rest (~1%) still in flight (no outcome yet);
* ~1% get a ``DeliveryDelay`` first;
* of all recipients ~40% open (only delivered ones; 1 to 8 opens, several for some), ~10% click
  (only openers; 1 to 3 clicks), ~0.1% complain (only delivered ones).

The events carry our SES message tags (tenant, message, recipient), as our sender sends them.
Then ~5% of the events are delivered twice (a second SNS notification of the same SES event, as
SES/SNS/SQS at-least-once delivery does) and the whole stream is shuffled.

The stream is kept as small ``EventSpec`` records; SQS records (SES event → SNS envelope → SQS
record, in AWS's shapes from ``tests.ses_builders``) are built per batch, so a 100,000-recipient
run does not hold 300,000 JSON bodies in memory.

Ground truth, the model answer: each recipient's *distinct* events, parsed by the real parser,
applied in time order with ``RecipientFacts().apply_all`` from the initial (queued) state; the
expected status counts are the counts of the resulting statuses. ``intended_status`` is what the
generator meant to produce (for a cross-check of the two).
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from tests import ses_builders as b
from tracker.dal.messages import NewMessage, NewRecipient
from tracker.domain.events import RecipientEvent
from tracker.domain.facts import RecipientFacts
from tracker.domain.status import Status

TENANT = "bench"
CREATED_AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SEND_RATE_PER_SECOND = 100  # the sender hands SES 100 recipients a second: sends spread over time


class Kind(StrEnum):
    SEND = "send"
    DELIVERY = "delivery"
    PERMANENT_BOUNCE = "permanent_bounce"
    TRANSIENT_BOUNCE = "transient_bounce"
    DELAY = "delay"
    OPEN = "open"
    CLICK = "click"
    COMPLAINT = "complaint"


@dataclass(frozen=True)
class Mix:
    """Fractions of all recipients: a realistic mix of outcomes and engagement."""

    delivery: float = 0.95
    permanent_bounce: float = 0.03
    transient_bounce: float = 0.01
    delay: float = 0.01
    open: float = 0.40
    click: float = 0.10
    complaint: float = 0.001
    duplicate: float = 0.05  # of events
    # How many opens an opener makes / clicks a clicker makes, with their weights.
    opens: tuple[tuple[int, float], ...] = ((1, 0.55), (2, 0.25), (3, 0.10), (4, 0.05), (6, 0.03), (8, 0.02))
    clicks: tuple[tuple[int, float], ...] = ((1, 0.80), (2, 0.15), (3, 0.05))


@dataclass(frozen=True, slots=True)
class EventSpec:
    """One SES event for one recipient; ``copy`` > 0 marks a duplicate delivery of it."""

    recipient: int
    kind: Kind
    at: datetime
    variant: int = 0
    copy: int = 0

    @property
    def identity(self) -> tuple[int, Kind, datetime, int]:
        return (self.recipient, self.kind, self.at, self.variant)


PERMANENT_DIAGNOSTICS = (
    ("General", "smtp; 550 5.1.1 <{email}>: Recipient address rejected: User unknown", "5.1.1"),
    (
        "NoEmail",
        "smtp; 550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
        "5.1.10",
    ),
    (
        "Suppressed",
        "Amazon SES has suppressed sending to this address because it has a recent history of bouncing",
        "5.1.1",
    ),
)
TRANSIENT_DIAGNOSTICS = (
    ("MailboxFull", "smtp; 452 4.2.2 The email account that you tried to reach is over quota", "4.2.2"),
    ("General", "smtp; 421 4.7.0 Try again later, closing connection", "4.7.0"),
)


@dataclass
class SyntheticSend:
    recipients: int
    seed: int = 7
    mix: Mix = field(default_factory=Mix)
    message_id: str = ""
    specs: list[EventSpec] = field(default_factory=list)  # the delivered stream, shuffled
    intended: list[Status] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.message_id:
            self.message_id = f"send-{self.recipients}-{self.seed}"
        rng = random.Random(self.seed)
        events: list[EventSpec] = []
        for index in range(self.recipients):
            recipient_events, status = self._recipient_events(index, rng)
            events.extend(recipient_events)
            self.intended.append(status)
        duplicates = [
            EventSpec(e.recipient, e.kind, e.at, e.variant, copy=1)
            for e in rng.sample(events, round(len(events) * self.mix.duplicate))
        ]
        self.specs = events + duplicates
        rng.shuffle(self.specs)

    # --- drawing one recipient's history ------------------------------------------

    def sent_at(self, index: int) -> datetime:
        return CREATED_AT + timedelta(minutes=1, seconds=index / SEND_RATE_PER_SECOND)

    def _recipient_events(self, index: int, rng: random.Random) -> tuple[list[EventSpec], Status]:
        mix = self.mix
        sent = self.sent_at(index)
        events = [EventSpec(index, Kind.SEND, sent)]

        def at(low_seconds: float, high_seconds: float, after: datetime = sent) -> datetime:
            # Millisecond resolution, like SES timestamps.
            offset = timedelta(milliseconds=rng.randint(int(low_seconds * 1000), int(high_seconds * 1000)))
            return after + offset

        delayed = rng.random() < mix.delay
        if delayed:
            events.append(EventSpec(index, Kind.DELAY, at(60, 900), rng.randrange(2)))
        outcome_start = 1800.0 if delayed else 1.0
        draw = rng.random()
        status = Status.DELAYED if delayed else Status.SENT
        if draw < mix.delivery:
            delivered_at = at(outcome_start, outcome_start + 30)
            events.append(EventSpec(index, Kind.DELIVERY, delivered_at))
            status = Status.DELIVERED
            if rng.random() < mix.open / mix.delivery:
                status = Status.OPENED
                opened = [at(60, 3 * 86400, delivered_at) for _ in range(_weighted(rng, mix.opens))]
                events += [EventSpec(index, Kind.OPEN, t, n) for n, t in enumerate(opened)]
                if rng.random() < mix.click / mix.open:
                    status = Status.CLICKED
                    first_open = min(opened)
                    events += [
                        EventSpec(index, Kind.CLICK, at(5, 3600, first_open), n)
                        for n in range(_weighted(rng, mix.clicks))
                    ]
            if rng.random() < mix.complaint / mix.delivery:
                status = Status.COMPLAINT
                events.append(EventSpec(index, Kind.COMPLAINT, at(3600, 4 * 86400, delivered_at)))
        elif draw < mix.delivery + mix.permanent_bounce:
            variant = rng.randrange(len(PERMANENT_DIAGNOSTICS))
            events.append(
                EventSpec(index, Kind.PERMANENT_BOUNCE, at(outcome_start, outcome_start + 60), variant)
            )
            status = Status.BOUNCED
        elif draw < mix.delivery + mix.permanent_bounce + mix.transient_bounce:
            variant = rng.randrange(len(TRANSIENT_DIAGNOSTICS))
            events.append(
                EventSpec(
                    index, Kind.TRANSIENT_BOUNCE, at(outcome_start + 600, outcome_start + 14400), variant
                )
            )
            status = Status.BOUNCED
        return events, status

    # --- identities -----------------------------------------------------------------

    def recipient_id(self, index: int) -> str:
        return f"r{index:06d}"

    def email(self, index: int) -> str:
        return f"person{index}@example.com"

    def ses_message_id(self, index: int) -> str:
        digest = hashlib.sha256(f"{self.message_id}/{index}".encode()).hexdigest()
        return f"0100019a{digest[:8]}-{digest[8:16]}-{digest[16:20]}-{digest[20:24]}-{digest[24:36]}-000000"

    def message(self) -> NewMessage:
        return NewMessage(
            tenant_id=TENANT,
            message_id=self.message_id,
            kind="email",
            subject="November newsletter",
            created_at=CREATED_AT,
        )

    def new_recipients(self, indexes: Sequence[int] | None = None) -> list[NewRecipient]:
        return [
            NewRecipient(
                recipient_id=self.recipient_id(i),
                customer_id=f"cust-{i:06d}",
                email=self.email(i),
                name=f"Person {i}",
                ses_message_id=self.ses_message_id(i),
            )
            for i in (range(self.recipients) if indexes is None else indexes)
        ]

    # --- AWS shapes ---------------------------------------------------------------------

    def ses_event(self, spec: EventSpec) -> dict[str, Any]:
        i = spec.recipient
        sid, email, sent = self.ses_message_id(i), self.email(i), self.sent_at(i)
        common: dict[str, Any] = {
            "sent_at": sent,
            "tags": b.tags_for(TENANT, self.message_id, self.recipient_id(i)),
        }
        match spec.kind:
            case Kind.SEND:
                return b.send_event(sid, email, **common)
            case Kind.DELIVERY:
                return b.delivery_event(sid, email, at=spec.at, **common)
            case Kind.DELAY:
                return b.delivery_delay_event(
                    sid,
                    email,
                    at=spec.at,
                    delay_type=("TransientCommunicationFailure", "MailboxFull")[spec.variant % 2],
                    **common,
                )
            case Kind.OPEN:
                return b.open_event(sid, email, at=spec.at, ip=f"198.51.100.{1 + spec.variant}", **common)
            case Kind.CLICK:
                return b.click_event(
                    sid, email, at=spec.at, link=f"https://example.com/offers/{spec.variant}", **common
                )
            case Kind.PERMANENT_BOUNCE:
                subtype, diagnostic, status = PERMANENT_DIAGNOSTICS[spec.variant]
                return b.bounce_event(
                    sid,
                    email,
                    at=spec.at,
                    bounce_type="Permanent",
                    bounce_subtype=subtype,
                    diagnostic_code=diagnostic.format(email=email),
                    status=status,
                    **common,
                )
            case Kind.TRANSIENT_BOUNCE:
                subtype, diagnostic, status = TRANSIENT_DIAGNOSTICS[spec.variant]
                return b.bounce_event(
                    sid,
                    email,
                    at=spec.at,
                    bounce_type="Transient",
                    bounce_subtype=subtype,
                    diagnostic_code=diagnostic,
                    status=status,
                    action="delayed",
                    **common,
                )
            case Kind.COMPLAINT:
                return b.complaint_event(sid, email, at=spec.at, **common)
        raise AssertionError(spec.kind)

    def sqs_record(self, spec: EventSpec) -> dict[str, Any]:
        name = (
            f"{self.message_id}/{spec.recipient}/{spec.kind}/{spec.at.isoformat()}/{spec.variant}/{spec.copy}"
        )
        sns_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "sns:" + name))
        sqs_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "sqs:" + name))
        body = json.dumps(b.sns_wrap(self.ses_event(spec), sns_id, published_at=spec.at))
        return b.sqs_record(body, sqs_id, sent_at=spec.at)

    def stream(self, indexes: set[int] | None = None) -> list[EventSpec]:
        """The shuffled stream, optionally only for some recipients (the order is kept)."""
        return [s for s in self.specs if indexes is None or s.recipient in indexes]

    def sqs_event(self, specs: Sequence[EventSpec]) -> dict[str, Any]:
        """The Lambda event for one SQS batch of these events."""
        return b.sqs_event([self.sqs_record(spec) for spec in specs])

    def batches(self, specs: Sequence[EventSpec], size: int = 100) -> Iterator[dict[str, Any]]:
        """Lambda SQS events of ``size`` records each, in stream order."""
        for start in range(0, len(specs), size):
            yield self.sqs_event(specs[start : start + size])

    # --- ground truth -----------------------------------------------------------------

    def truth(
        self, parse: Callable[[str], list[RecipientEvent]], indexes: Sequence[int] | None = None
    ) -> Truth:
        """The model answer: per recipient, the de-duplicated events applied in time order."""
        chosen = range(self.recipients) if indexes is None else indexes
        wanted = set(chosen)
        by_recipient: dict[int, dict[str, RecipientEvent]] = {i: {} for i in chosen}
        for spec in self.specs:
            if spec.copy or spec.recipient not in wanted:
                continue
            body = json.dumps(b.sns_wrap(self.ses_event(spec), "00000000-0000-0000-0000-000000000000"))
            for event in parse(body):
                by_recipient[spec.recipient][event.event_id] = event
        facts = {
            i: RecipientFacts().apply_all(sorted(events.values(), key=lambda e: (e.at, e.event_id)))
            for i, events in by_recipient.items()
        }
        return Truth(
            statuses={self.recipient_id(i): f.status for i, f in facts.items()},
            tallies={self.recipient_id(i): f.tallies for i, f in facts.items()},
            open_counts={self.recipient_id(i): f.open_count for i, f in facts.items()},
            intended={self.recipient_id(i): self.intended[i] for i in chosen},
            distinct_events=sum(len(events) for events in by_recipient.values()),
        )

    def event_counts(self, specs: Sequence[EventSpec]) -> Counter[str]:
        counts: Counter[str] = Counter(str(s.kind) for s in specs)
        counts["duplicate deliveries"] = sum(1 for s in specs if s.copy)
        return counts


@dataclass(frozen=True)
class Truth:
    statuses: dict[str, Status]  # recipient id -> expected status
    tallies: dict[str, frozenset[str]]  # recipient id -> its status and engagement tallies
    open_counts: dict[str, int]
    intended: dict[str, Status]
    distinct_events: int

    @property
    def counts(self) -> dict[str, int]:
        return dict(Counter(tally for tallies in self.tallies.values() for tally in tallies))


def _weighted(rng: random.Random, choices: tuple[tuple[int, float], ...]) -> int:
    values = [value for value, _ in choices]
    weights = [weight for _, weight in choices]
    return rng.choices(values, weights)[0]
