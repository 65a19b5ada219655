"""DynamoDB side of erasure (logic.ports.ErasureStore; docs/operations.md "Erasing a customer").

* The customer's recipients come from the customer index (gsi1, keys only) and one BatchGetItem
  per 100, as GET /customers/{id}/messages reads them.
* A recipient is erased with a version-conditioned PutItem of the whole item, like every other
  recipient write: a concurrent SES event's write then fails its condition and is applied again
  on the erased item, which ``write_facts`` keeps free of personal data from then on. Status and
  tallies are written unchanged, so the projector counts nothing.
* An address's suppression item and history move to ``T#{t}#SUP#{pseudonym}`` in transactions that
  delete the originals only while they are unchanged; the send path looks the pseudonym up too.
* The audit entry: ``T#{t}#C#{customer}`` / ``ERASURE#{time}#{id}``.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import DoesNotExist, PynamoDBException, TransactWriteError
from pynamodb.expressions.condition import And, Condition, size
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from tracker import constants
from tracker.dal import keys
from tracker.dal.models import (
    ErasureItem,
    MessageContentItem,
    MessageItem,
    RecipientItem,
    SuppressionHistoryItem,
    SuppressionItem,
    shared_connection,
)
from tracker.dal.recipients import facts_from_item, write_facts
from tracker.dal.support import failed_conditions, fetch_items, is_condition_failure, store_errors
from tracker.dal.suppressions import decode_evidence, encode_evidence
from tracker.domain.erasure import (
    CustomerRecipient,
    ErasureRecord,
    erase_evidence,
    erase_facts,
    pseudonym,
    redact,
)
from tracker.domain.errors import TransientStoreError
from tracker.domain.records import RecipientKey
from tracker.domain.suppression import SuppressionState

ATTEMPTS = 5
IDEMPOTENCY_DATA = "data"  # Powertools' attribute for the stored answer (tracker.dal.idempotency)
# Items per transaction: DynamoDB's limit is 100; a history entry moves as a put and a delete.
HISTORY_PER_TRANSACTION = 40


def _customer_recipient(item: RecipientItem) -> CustomerRecipient:
    return CustomerRecipient(RecipientKey(*item.key), item.email, item.name, erased=bool(item.erased_at))


def _scrubbed_entry(entry: str) -> str:
    return encode_evidence(erase_evidence(decode_evidence(entry)))


def _scrubbed_json(raw: Any) -> Any:
    return [{**e, "detail": None} for e in raw] if isinstance(raw, list) else raw


def _unchanged(item: SuppressionItem | None) -> Condition:
    """The suppression item is as read (every write bumps ``version`` or grows ``observed``)."""
    if item is None:
        return SuppressionItem.pk.does_not_exist()
    version: Condition = (
        SuppressionItem.version == item.version
        if item.version is not None
        else SuppressionItem.version.does_not_exist()
    )
    entries = len(item.observed or ())
    same_set: Condition = (
        size(SuppressionItem.observed) == entries if entries else SuppressionItem.observed.does_not_exist()
    )
    return And(version, same_set)


def _takes_record(source: SuppressionItem, target: SuppressionItem | None) -> bool:
    """Whether the moved record replaces the pseudonym's: an active record wins over a lifted one,
    and a record over evidence alone; otherwise the pseudonym's (an earlier erasure's) stays."""
    if source.state is None:
        return False
    if target is None or target.state is None:
        return True
    return source.state == SuppressionState.ACTIVE.value and target.state != SuppressionState.ACTIVE.value


def _record_actions(source: SuppressionItem, email: str) -> list[Action]:
    listed_at = (source.gsi1sk or "").split("#", 1)[0]
    return [
        SuppressionItem.state.set(source.state),
        SuppressionItem.reason.set(source.reason),
        SuppressionItem.suppressed_at.set(source.suppressed_at),
        SuppressionItem.evidence.set(_scrubbed_json(source.evidence)),
        *(
            getattr(SuppressionItem, name).set(value)
            if (value := getattr(source, name)) is not None
            else getattr(SuppressionItem, name).remove()
            for name in ("counts_from", "lifted_at", "lifted_by")
        ),
        SuppressionItem.gsi1pk.set(source.gsi1pk),
        SuppressionItem.gsi1sk.set(f"{listed_at}#{email}"),
    ]


def _get(model: Any, pk: str, sk: str) -> Any:
    try:
        return model.get(pk, sk, consistent_read=True)
    except DoesNotExist:
        return None


class DynamoErasureStore:
    # --- finding the customer's items ----------------------------------------------------------

    def customer_recipients(self, tenant_id: str, customer_id: str) -> list[CustomerRecipient]:
        with store_errors("find the customer's recipients"):
            listed = [
                (entry.pk, entry.sk)
                for entry in RecipientItem.lists_index.query(keys.customer_pk(tenant_id, customer_id))
            ]
        found = fetch_items(RecipientItem, listed, "read the customer's recipients")
        return [_customer_recipient(item) for key in listed if (item := found.get(key)) is not None]

    # --- recipients ------------------------------------------------------------------------

    def erase_recipient(self, recipient: CustomerRecipient, at: datetime) -> bool:
        key = recipient.key
        pk, sk = keys.message_pk(key.tenant_id, key.message_id), keys.recipient_sk(key.recipient_id)
        for _ in range(ATTEMPTS):
            with store_errors("erase a recipient"):
                item = _get(RecipientItem, pk, sk)
                if item is None or item.erased_at:
                    return False
                facts = erase_facts(facts_from_item(item), (*recipient.personal, item.email))
                item.email = pseudonym(key.tenant_id, item.email)
                item.name = None
                item.erased_at = keys.iso(at)
                write_facts(item, facts)
                try:
                    item.save()  # conditioned on the version it was read at
                    return True
                except PynamoDBException as error:
                    if not is_condition_failure(error):
                        raise
        raise TransientStoreError("the recipient kept changing while it was erased; retry")

    # --- the messages' texts ---------------------------------------------------------------------

    def redact_message(self, tenant_id: str, message_id: str, personal: Collection[str]) -> None:
        pk = keys.message_pk(tenant_id, message_id)
        with store_errors("redact a message"):
            header = _get(MessageItem, pk, keys.MESSAGE_SK)
            subject = redact(header.subject, personal) if header is not None else None
            if header is not None and subject is not None and subject != header.subject:
                header.update([MessageItem.subject.set(subject)], condition=MessageItem.pk.exists())
            content = _get(MessageContentItem, pk, keys.CONTENT_SK)
            if content is None:
                return
            actions = [
                getattr(MessageContentItem, name).set(new)
                for name in ("subject", "text", "html")
                if (old := getattr(content, name)) and (new := redact(old, personal)) != old
            ]
            if actions:
                content.update(actions, condition=MessageContentItem.pk.exists())

    # --- Idempotency-Key records (Powertools' items: their answers quote the recipients) --------

    def redact_idempotency(self, tenant_id: str, personal: Collection[str]) -> int:
        """Redact the stored answers of the tenant's Idempotency-Key records that quote these
        values (they live a day: one Query of the tenant's partition). A retried request then gets
        the redacted answer; it is not run again."""
        needles = sorted({value for value in personal if value})
        if not needles:
            return 0
        client: Any = shared_connection().client  # Powertools' items have no PynamoDB model
        values: dict[str, Any] = {":pk": {"S": keys.idempotency_pk(tenant_id)}}
        values.update({f":v{i}": {"S": needle} for i, needle in enumerate(needles)})
        query: dict[str, Any] = {
            "TableName": RecipientItem.Meta.table_name,
            "KeyConditionExpression": "#pk = :pk",
            "FilterExpression": " OR ".join(f"contains(#data, :v{i})" for i in range(len(needles))),
            "ExpressionAttributeNames": {"#pk": constants.TABLE_PARTITION_KEY, "#data": IDEMPOTENCY_DATA},
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
        }
        redacted = 0
        try:
            while True:
                page = client.query(**query)
                for item in page.get("Items", []):
                    self._redact_answer(client, item, needles)
                    redacted += 1
                if "LastEvaluatedKey" not in page:
                    return redacted
                query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except (BotoCoreError, ClientError) as error:
            raise TransientStoreError(f"redact idempotency records: {error}") from error

    @staticmethod
    def _redact_answer(client: Any, item: Mapping[str, Any], needles: Collection[str]) -> None:
        key = {name: item[name] for name in (constants.TABLE_PARTITION_KEY, constants.TABLE_SORT_KEY)}
        data = str(item.get(IDEMPOTENCY_DATA, {}).get("S", ""))
        client.update_item(
            TableName=RecipientItem.Meta.table_name,
            Key=key,
            UpdateExpression="SET #data = :data",
            ConditionExpression="attribute_exists(#pk)",
            ExpressionAttributeNames={"#pk": constants.TABLE_PARTITION_KEY, "#data": IDEMPOTENCY_DATA},
            ExpressionAttributeValues={":data": {"S": redact(data, needles) or ""}},
        )

    # --- suppressions ------------------------------------------------------------------------------

    def move_suppression(self, tenant_id: str, email: str) -> bool:
        source_pk = keys.suppression_pk(tenant_id, email)
        target_email = pseudonym(tenant_id, email)
        target_pk = keys.suppression_pk(tenant_id, target_email)
        moved = False
        for _ in range(ATTEMPTS):
            # Read again on every attempt: a conflict is a lift or a suppression, which also wrote
            # a history entry.
            with store_errors("read the address's suppression and history"):
                history = list(
                    SuppressionHistoryItem.query(
                        source_pk,
                        SuppressionHistoryItem.sk.startswith(keys.HISTORY_SK_PREFIX),
                        consistent_read=True,
                    )
                )
                source = _get(SuppressionItem, source_pk, keys.SUPPRESSION_SK)
                target = _get(SuppressionItem, target_pk, keys.SUPPRESSION_SK) if source else None
            for start in range(0, len(history), HISTORY_PER_TRANSACTION):
                self._move_history(history[start : start + HISTORY_PER_TRANSACTION], target_pk, target_email)
            moved = moved or bool(history)
            if source is None:
                return moved
            if self._move_item(tenant_id, source, target, target_pk, target_email):
                return True
        raise TransientStoreError("the suppression kept changing while it was erased; retry")

    @staticmethod
    def _move_history(entries: Sequence[SuppressionHistoryItem], target_pk: str, email: str) -> None:
        with (
            store_errors("move the address's history"),
            TransactWrite(
                connection=shared_connection(), client_request_token=uuid.uuid4().hex
            ) as transaction,
        ):
            for entry in entries:
                copy = SuppressionHistoryItem(
                    target_pk,
                    entry.sk,
                    tenant_id=entry.tenant_id,
                    email=email,
                    action=entry.action,
                    at=entry.at,
                    actor=entry.actor,
                    reason=entry.reason,
                    evidence=_scrubbed_json(entry.evidence),
                )
                transaction.save(copy)
                transaction.delete(entry)

    @staticmethod
    def _move_item(
        tenant_id: str, source: SuppressionItem, target: SuppressionItem | None, target_pk: str, email: str
    ) -> bool:
        """One transaction: the pseudonym's item gains the evidence (and the record, see
        ``_takes_record``), the address's item goes; False when either changed since it was read."""
        moved = SuppressionItem(target_pk, keys.SUPPRESSION_SK)
        versions = [int(i.version) for i in (source, target) if i is not None and i.version is not None]
        actions: list[Action] = [
            SuppressionItem.item_type.set(SuppressionItem),
            SuppressionItem.tenant_id.set(tenant_id),
            SuppressionItem.email.set(email),
            SuppressionItem.version.set(max(versions, default=0) + 1),
        ]
        entries = {_scrubbed_entry(entry) for entry in source.observed or ()}
        if entries:
            actions.append(SuppressionItem.observed.add(entries))
        if _takes_record(source, target):
            actions += _record_actions(source, email)
        actions += _unsubscription_actions(source, target)
        try:
            with TransactWrite(
                connection=shared_connection(), client_request_token=uuid.uuid4().hex
            ) as transaction:
                transaction.update(moved, actions, condition=_unchanged(target))
                transaction.delete(source, condition=_unchanged(source))
        except TransactWriteError as error:
            if failed_conditions(error):
                return False
            raise TransientStoreError(f"move suppression: {error}") from error
        except PynamoDBException as error:
            raise TransientStoreError(f"move suppression: {error}") from error
        return True

    # --- the audit ---------------------------------------------------------------------------

    def latest_erasure(self, tenant_id: str, customer_id: str) -> ErasureRecord | None:
        with store_errors("read the customer's erasures"):
            for item in ErasureItem.query(
                keys.erasure_pk(tenant_id, customer_id),
                ErasureItem.sk.startswith(keys.ERASURE_SK_PREFIX),
                scan_index_forward=False,
                limit=1,
                consistent_read=True,
            ):
                return ErasureRecord(
                    tenant_id=tenant_id,
                    customer_id=item.customer_id,
                    erased_at=keys.parse_iso(item.erased_at),
                    erased_by=item.erased_by,
                    recipients=int(item.recipients),
                    messages=int(item.messages),
                    suppressions=int(item.suppressions),
                )
        return None

    def record_erasure(self, record: ErasureRecord) -> None:
        item = ErasureItem(
            keys.erasure_pk(record.tenant_id, record.customer_id),
            keys.erasure_sk(record.erased_at, uuid.uuid4().hex),
            tenant_id=record.tenant_id,
            customer_id=record.customer_id,
            erased_at=keys.iso(record.erased_at),
            erased_by=record.erased_by,
            recipients=record.recipients,
            messages=record.messages,
            suppressions=record.suppressions,
        )
        with store_errors("record the erasure"):
            item.save()


def _unsubscription_actions(source: SuppressionItem, target: SuppressionItem | None) -> list[Action]:
    """An unsubscription stays with the address's pseudonym (an erased customer still receives no
    emails); the later of each time is kept, as every unsubscription write does."""
    actions: list[Action] = []
    later = [
        (
            SuppressionItem.unsubscribed_at,
            ("unsubscribed_source", "unsubscribed_message", "unsubscribed_recipient"),
        ),
        (SuppressionItem.resubscribed_at, ("resubscribed_by",)),
    ]
    for attribute, companions in later:
        value = getattr(source, attribute.attr_name)
        current = getattr(target, attribute.attr_name) if target is not None else None
        if value is None or (current is not None and current >= value):
            continue
        actions.append(attribute.set(value))
        for name in companions:
            companion = getattr(SuppressionItem, name)
            found = getattr(source, name)
            actions.append(companion.set(found) if found else companion.remove())
    return actions
