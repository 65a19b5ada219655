"""The naive baseline: the same semantics, one event after another, no batching, its own layout.

What a first implementation would do with the same domain code, on a table of its own design
(the models below, not the app's): for every SES event in the SQS batch,

1. ``GetItem`` the recipient (its key comes from the event's SES tags);
2. apply the event to its facts (``RecipientFacts.apply``, the same code as ours); a duplicate
   (event id already in ``seen``) stops here;
3. ``PutItem`` the recipient, conditioned on the version it was read at (PynamoDB's optimistic
   locking; on a conflict, go back to 1);
4. ``PutItem`` an event-log item for the event (what the timeline view then queries);
5. if what the message counts the recipient under changed: ``UpdateItem`` the message item,
   ``ADD`` -1 to each tally it left and +1 to each it entered.

Its layout is the obvious one: the recipient item carries the message's subject, kind and date
(so a customer's history is one query), its facts as plain JSON and every applied event id; the
three global indexes project ``ALL`` attributes (each page is then a single Query), so every
recipient write also rewrites its index entries.

Counts are exact as long as no process dies between 3 and 5 (a crash there loses a count change
for good, since the redelivered event is then a duplicate): that is the guarantee ours adds, and
this baseline does not try to. Events without our tags and other formats are out of scope here
(every benchmark event is tagged); a record it cannot apply is reported as a batch item failure.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import (
    DiscriminatorAttribute,
    JSONAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    VersionAttribute,
)
from pynamodb.exceptions import PutError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from tracker import constants
from tracker.dal.messages import NewMessage, NewRecipient
from tracker.dal.recipients import facts_from_json, facts_to_json
from tracker.domain.engagement import DEFAULT_RULES
from tracker.domain.events import RecipientEvent
from tracker.domain.facts import RecipientFacts
from tracker.domain.status import COUNTED

TABLE = "delivery-tracker-naive"
Parser = Callable[[str], list[RecipientEvent]]
CONFLICT_RETRIES = 5

MESSAGE_SK = "#META"
RECIPIENT_SK_PREFIX = "R#"
EVENT_SK_PREFIX = "E#"


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def message_pk(tenant_id: str, message_id: str) -> str:
    return f"T#{tenant_id}#M#{message_id}"


def recipient_sk(recipient_id: str) -> str:
    return f"{RECIPIENT_SK_PREFIX}{recipient_id}"


def event_sk(recipient_id: str, at: datetime, event_id: str) -> str:
    return f"{EVENT_SK_PREFIX}{recipient_id}#{iso(at)}#{event_id}"


def _index(name: str) -> type:
    return type("Meta", (), {"index_name": name, "projection": AllProjection()})


class NaiveListsIndex(GlobalSecondaryIndex["NaiveItem"]):
    Meta = _index("gsi1")
    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class NaiveLookupIndex(GlobalSecondaryIndex["NaiveItem"]):
    Meta = _index("gsi2")
    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class NaiveDocumentsIndex(GlobalSecondaryIndex["NaiveItem"]):
    Meta = _index("gsi3")
    gsi3pk = UnicodeAttribute(hash_key=True)
    gsi3sk = UnicodeAttribute(range_key=True)


class NaiveItem(Model):
    class Meta:
        table_name = TABLE
        region: str | None = None

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    item_type = DiscriminatorAttribute()
    tenant_id = UnicodeAttribute()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi3pk = UnicodeAttribute(null=True)
    gsi3sk = UnicodeAttribute(null=True)
    lists_index = NaiveListsIndex()
    lookup_index = NaiveLookupIndex()
    documents_index = NaiveDocumentsIndex()


def _count_name(tally: str) -> str:
    return f"count_{tally}"


class NaiveMessage(NaiveItem, discriminator="message"):
    message_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    subject = UnicodeAttribute()
    created_at = UnicodeAttribute()
    recipient_count = NumberAttribute()
    # One number per tally (tracker.domain.status.COUNTED), so that updates can ADD to it.
    count_queued = NumberAttribute(default=0)
    count_sent = NumberAttribute(default=0)
    count_delayed = NumberAttribute(default=0)
    count_delivered = NumberAttribute(default=0)
    count_opened = NumberAttribute(default=0)
    count_clicked = NumberAttribute(default=0)
    count_bounced = NumberAttribute(default=0)
    count_dropped = NumberAttribute(default=0)
    count_complaint = NumberAttribute(default=0)
    count_rejected = NumberAttribute(default=0)
    count_failed = NumberAttribute(default=0)
    count_machine_opened = NumberAttribute(default=0)
    count_machine_clicked = NumberAttribute(default=0)

    def counts(self) -> dict[str, int]:
        return {tally: int(getattr(self, _count_name(tally)) or 0) for tally in COUNTED}


class NaiveRecipient(NaiveItem, discriminator="recipient"):
    message_id = UnicodeAttribute()
    recipient_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    kind = UnicodeAttribute()
    subject = UnicodeAttribute()
    message_created_at = UnicodeAttribute()
    ses_message_id = UnicodeAttribute(null=True)
    version = VersionAttribute()
    status = UnicodeAttribute()
    tallies = UnicodeSetAttribute(null=True)
    open_count = NumberAttribute(default=0)
    click_count = NumberAttribute(default=0)
    facts = JSONAttribute(null=True)
    seen = UnicodeSetAttribute(null=True)

    def recipient_facts(self) -> RecipientFacts:
        return facts_from_json(self.facts or {}, frozenset(self.seen or ()), DEFAULT_RULES)

    def store(self, facts: RecipientFacts) -> None:
        self.facts = facts_to_json(facts)
        self.seen = set(facts.seen) or None
        self.status = facts.status.value
        self.tallies = set(facts.tallies)
        self.open_count = facts.open_count
        self.click_count = facts.click_count


class NaiveEventLog(NaiveItem, discriminator="event"):
    message_id = UnicodeAttribute()
    recipient_id = UnicodeAttribute()
    email = UnicodeAttribute()
    event_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    at = UnicodeAttribute()
    ses_message_id = UnicodeAttribute()
    details = JSONAttribute(null=True)
    expires_at = TTLAttribute(null=True, attr_name=constants.TTL_ATTRIBUTE)


MODELS: tuple[type[NaiveItem], ...] = (NaiveItem, NaiveMessage, NaiveRecipient, NaiveEventLog)


def table_schema() -> dict[str, Any]:
    indexes = ("gsi1", "gsi2", "gsi3")
    return {
        "TableName": TABLE,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"}
            for name in ("pk", "sk", *(f"{i}{part}" for i in indexes for part in ("pk", "sk")))
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": name,
                "KeySchema": [
                    {"AttributeName": f"{name}pk", "KeyType": "HASH"},
                    {"AttributeName": f"{name}sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for name in indexes
        ],
    }


@contextmanager
def naive_table(region: str) -> Iterator[None]:
    """The naive design's table in the running emulator, its models bound to it."""
    import boto3

    for model in MODELS:
        model.Meta.region = region
        model._connection = None
    boto3.client("dynamodb", region_name=region).create_table(**table_schema())
    yield


def seed(message: NewMessage, recipients: Sequence[NewRecipient]) -> None:
    """The message and its recipients as the naive send path writes them (counted as queued)."""
    pk = message_pk(message.tenant_id, message.message_id)
    created = iso(message.created_at)
    header = NaiveMessage(
        pk,
        MESSAGE_SK,
        tenant_id=message.tenant_id,
        message_id=message.message_id,
        kind=message.kind,
        subject=message.subject,
        created_at=created,
        recipient_count=len(recipients),
        gsi1pk=f"T#{message.tenant_id}#MSGS",
        gsi1sk=f"{created}#{message.message_id}",
    )
    header.count_queued = len(recipients)
    header.save()
    with NaiveRecipient.batch_write() as batch:
        for person in recipients:
            item = NaiveRecipient(
                pk,
                recipient_sk(person.recipient_id),
                tenant_id=message.tenant_id,
                message_id=message.message_id,
                recipient_id=person.recipient_id,
                customer_id=person.customer_id,
                email=person.email,
                name=person.name,
                kind=message.kind,
                subject=message.subject,
                message_created_at=created,
                ses_message_id=person.ses_message_id,
                gsi1pk=f"T#{message.tenant_id}#C#{person.customer_id}",
                gsi1sk=created,
                gsi2pk=f"SES#{person.ses_message_id}" if person.ses_message_id else None,
                gsi2sk="R" if person.ses_message_id else None,
            )
            item.store(RecipientFacts())
            batch.save(item)


def load(pk: str) -> tuple[dict[str, int], list[NaiveRecipient]]:
    """The message's counts and its recipients (for the bench's check, not metered)."""
    header = NaiveMessage.get(pk, MESSAGE_SK, consistent_read=True)
    people = list(NaiveRecipient.query(pk, NaiveRecipient.sk.startswith(RECIPIENT_SK_PREFIX)))
    return header.counts(), people


class NaiveIngestor:
    def __init__(self, parse: Parser, event_log_retention: timedelta = timedelta(days=400)) -> None:
        self._parse = parse
        self._retention = event_log_retention

    def handle(self, event: Mapping[str, Any]) -> dict[str, list[dict[str, str]]]:
        """An SQS-triggered Lambda handler: partial batch response like ours."""
        failures: list[dict[str, str]] = []
        for record in event.get("Records", []):
            try:
                for recipient_event in self._parse(record["body"]):
                    self.apply(recipient_event)
            except Exception:
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}

    def apply(self, event: RecipientEvent) -> bool:
        """Apply one event; True when it changed the recipient (False: a duplicate)."""
        pk = message_pk(event.tags[constants.TAG_TENANT], event.tags[constants.TAG_MESSAGE])
        recipient = event.tags[constants.TAG_RECIPIENT]
        for _ in range(CONFLICT_RETRIES):
            item = NaiveRecipient.get(pk, recipient_sk(recipient))
            before = item.recipient_facts()
            after = before.apply(event)
            if after is before:
                return False
            item.store(after)
            try:
                item.save()  # conditioned on the version read above
            except PutError as error:
                if error.cause_response_code == "ConditionalCheckFailedException":
                    continue
                raise
            self._log(item, event)
            if before.tallies != after.tallies:
                self._count(pk, before.tallies, after.tallies)
            return True
        raise RuntimeError(f"recipient {recipient} kept changing under us")

    def _log(self, recipient: NaiveRecipient, event: RecipientEvent) -> None:
        NaiveEventLog(
            recipient.pk,
            event_sk(recipient.recipient_id, event.at, event.event_id),
            tenant_id=recipient.tenant_id,
            message_id=recipient.message_id,
            recipient_id=recipient.recipient_id,
            email=recipient.email,
            event_id=event.event_id,
            kind=event.kind.value,
            at=iso(event.at),
            ses_message_id=event.ses_message_id,
            details=json.loads(json.dumps(dict(event.details), default=str)),
            expires_at=event.at + self._retention,
        ).save()

    def _count(self, pk: str, old: frozenset[str], new: frozenset[str]) -> None:
        NaiveMessage(pk, MESSAGE_SK).update(
            actions=[
                *(getattr(NaiveMessage, _count_name(tally)).add(-1) for tally in sorted(old - new)),
                *(getattr(NaiveMessage, _count_name(tally)).add(1) for tally in sorted(new - old)),
            ]
        )
