"""Factories that put messages and recipients into the (moto) table, and read state back."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from tests.projection import project
from tracker.dal import keys
from tracker.dal.messages import NewMessage, NewRecipient, put_message
from tracker.dal.models import MessageItem, RecipientItem, SuppressionItem
from tracker.dal.recipients import facts_from_item
from tracker.domain.facts import RecipientFacts
from tracker.domain.status import Status
from tracker.domain.timeline import TimelineEntry
from tracker.logic.attention import AttentionQueries
from tracker.logic.stats import StatsQueries

CREATED_AT = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class SeededMessage:
    message: NewMessage
    recipients: list[NewRecipient]

    @property
    def tenant_id(self) -> str:
        return self.message.tenant_id

    @property
    def message_id(self) -> str:
        return self.message.message_id


def seed_message(
    tenant_id: str = "tenant-a",
    message_id: str = "msg-1",
    recipients: int = 3,
    *,
    kind: str = "email",
    invoice_id: str | None = None,
    payment_id: str | None = None,
    created_at: datetime = CREATED_AT,
    outcomes: dict[int, Status] | None = None,
) -> SeededMessage:
    message = NewMessage(
        tenant_id=tenant_id,
        message_id=message_id,
        kind=kind,
        subject=f"Subject of {message_id}",
        created_at=created_at,
        invoice_id=invoice_id,
        payment_id=payment_id,
    )
    people = [
        NewRecipient(
            recipient_id=f"r{i}",
            customer_id=f"cust-{i}",
            email=f"person{i}@example.com",
            name=f"Person {i}",
            send_outcome=(outcomes or {}).get(i, Status.QUEUED),
            ses_message_id=ses_id(message_id, i),
        )
        for i in range(recipients)
    ]
    put_message(message, people)
    return SeededMessage(message, people)


def ses_id(message_id: str, index: int) -> str:
    return f"0100018f-{message_id}-r{index}-000000"


def recipient_item(tenant_id: str, message_id: str, recipient_id: str) -> RecipientItem:
    return RecipientItem.get(keys.message_pk(tenant_id, message_id), keys.recipient_sk(recipient_id))


def timeline(tenant_id: str, message_id: str, recipient_id: str) -> tuple[TimelineEntry, ...]:
    """The recipient's kept events (its item holds them), oldest first."""
    return recipient_facts(tenant_id, message_id, recipient_id).timeline


def recipient_facts(tenant_id: str, message_id: str, recipient_id: str) -> RecipientFacts:
    return facts_from_item(recipient_item(tenant_id, message_id, recipient_id))


def message_counts(tenant_id: str, message_id: str) -> dict[str, int]:
    """Counts as the messages list shows them once the projector has caught up with the table's
    stream (it runs first); ``header_counts`` reads them without projecting."""
    project()
    return header_counts(tenant_id, message_id)


def header_counts(tenant_id: str, message_id: str) -> dict[str, int]:
    item = MessageItem.get(keys.message_pk(tenant_id, message_id), keys.MESSAGE_SK)
    return {status: n for status, n in item.counts().items() if n}


def recount(tenant_id: str, message_id: str) -> dict[str, int]:
    """Counts recomputed from the recipient items themselves: statuses, and the engagement
    tallies (machine_opened, machine_clicked) of the recipients that have one."""
    items = RecipientItem.query(
        keys.message_pk(tenant_id, message_id), RecipientItem.sk.startswith(keys.RECIPIENT_SK_PREFIX)
    )
    tallies = Counter[str]()
    for item in items:
        tallies[Status(item.status)] += 1
        tallies.update(tally for tally in facts_from_item(item).tallies if tally != item.status)
    return dict(tallies)


def evidence_entries(email: str, tenant_id: str = "tenant-a") -> set[str]:
    """An address's suppression evidence as stored (one entry per distinct bounce or complaint)."""
    try:
        item = SuppressionItem.get(keys.suppression_pk(tenant_id, email), keys.SUPPRESSION_SK)
    except SuppressionItem.DoesNotExist:
        return set()
    return set(item.observed or ())


def attention_queries(secret: bytes, clock: Callable[[], datetime] | None = None) -> AttentionQueries:
    """The attention queue's reads on the test table (``clock``: the queue's "now")."""
    from tracker.api.cursors import CursorCodec
    from tracker.dal.attention_queue import DynamoAttentionStore

    if clock is None:
        return AttentionQueries(DynamoAttentionStore(), CursorCodec(secret))
    return AttentionQueries(DynamoAttentionStore(), CursorCodec(secret), clock)


def stats_queries(clock: Callable[[], datetime] | None = None) -> StatsQueries:
    """The statistics' reads on the test table (``clock``: their "now")."""
    from tracker.dal.stats import DynamoStatsReader
    from tracker.logic.stats import StatsQueries

    return StatsQueries(DynamoStatsReader(), clock) if clock else StatsQueries(DynamoStatsReader())
