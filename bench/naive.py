"""The naive baseline: the same semantics, one event after another, no batching.

What a first implementation would do with the same domain code and the same table: for every SES
event in the SQS batch,

1. ``GetItem`` the recipient (its key comes from the event's SES tags);
2. apply the event to its facts (``RecipientFacts.apply``, the same code as ours); a duplicate
   (event id already in ``seen``) stops here;
3. ``PutItem`` the recipient, conditioned on the version it was read at (PynamoDB's optimistic
   locking; on a conflict, go back to 1);
4. ``PutItem`` the event-log entry (the same item as ours);
5. if the recipient's status changed: ``UpdateItem`` the message item, ``ADD`` -1 to the old
   status count and +1 to the new one.

Counts are exact as long as no process dies between 3 and 5 (a crash there loses a count change
for good, since the redelivered event is then a duplicate): that is the guarantee ours adds, and
this baseline does not try to. Events without our tags and other formats are out of scope here
(every benchmark event is tagged); a record it cannot apply is reported as a batch item failure.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import PutError

from tracker import constants
from tracker.dal import keys
from tracker.dal.models import EventLogItem, MessageItem, RecipientItem, count_attribute
from tracker.dal.recipients import facts_from_item, write_facts
from tracker.domain.events import RecipientEvent
from tracker.domain.status import Status

Parser = Callable[[str], list[RecipientEvent]]
CONFLICT_RETRIES = 5


class NaiveIngestor:
    def __init__(self, parse: Parser, event_log_retention: timedelta = timedelta(days=400)) -> None:
        self._parse = parse
        self._retention = event_log_retention

    def handle(self, event: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
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
        tenant = event.tags[constants.TAG_TENANT]
        message = event.tags[constants.TAG_MESSAGE]
        recipient = event.tags[constants.TAG_RECIPIENT]
        pk = keys.message_pk(tenant, message)
        for _ in range(CONFLICT_RETRIES):
            item = RecipientItem.get(pk, keys.recipient_sk(recipient))
            before = facts_from_item(item)
            after = before.apply(event)
            if after is before:
                return False
            write_facts(item, after)
            try:
                item.save()  # conditioned on the version read above
            except PutError as error:
                if error.cause_response_code == "ConditionalCheckFailedException":
                    continue
                raise
            self._log(item, event)
            if before.status != after.status:
                self._count(pk, before.status, after.status)
            return True
        raise RuntimeError(f"recipient {recipient} kept changing under us")

    def _log(self, recipient: RecipientItem, event: RecipientEvent) -> None:
        sk = keys.event_sk(recipient.recipient_id, event.at, event.event_id)
        item = EventLogItem(
            recipient.pk,
            sk,
            tenant_id=recipient.tenant_id,
            message_id=recipient.message_id,
            recipient_id=recipient.recipient_id,
            email=recipient.email,
            event_id=event.event_id,
            kind=event.kind.value,
            at=keys.iso(event.at),
            ses_message_id=event.ses_message_id,
            details=dict(event.details),
            expires_at=event.at + self._retention,
        )
        if recipient.gsi3pk:
            item.gsi3pk = recipient.gsi3pk
            item.gsi3sk = keys.document_sk(
                keys.parse_iso(recipient.message_created_at), recipient.message_id, sk
            )
        item.save()

    def _count(self, pk: str, old: Status, new: Status) -> None:
        MessageItem(pk, keys.MESSAGE_SK).update(
            actions=[
                getattr(MessageItem, count_attribute(old)).add(-1),
                getattr(MessageItem, count_attribute(new)).add(1),
            ]
        )
