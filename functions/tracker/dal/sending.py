"""DynamoDB side of the send path: the sender's recipient writes (the Idempotency-Key records of
``POST /messages`` are in ``tracker.dal.idempotency``).

Every recipient write here goes through optimistic locking (the item's ``version``), like the
ingest path's, so the sender, the ingest Lambda and a second copy of a send job never overwrite
each other. Outcomes reuse the ingest path's recipient write (``DynamoIngestStore.commit``); the
counts follow from the table's stream like every other recipient change.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from pynamodb.exceptions import UpdateError

from tracker.dal import keys
from tracker.dal.ingest_store import DynamoIngestStore, to_stored
from tracker.dal.messages import load_content, set_ses_message_id
from tracker.dal.models import RecipientItem
from tracker.dal.support import is_condition_failure, store_errors
from tracker.domain.errors import ConflictError, TransientStoreError
from tracker.domain.facts import RecipientFacts
from tracker.domain.messages import MessageContent, SendTarget
from tracker.domain.records import RecipientChange

BATCH_GET_LIMIT = 100


def _target(item: RecipientItem) -> SendTarget:
    return SendTarget(
        recipient=to_stored(item),
        name=item.name,
        claim=item.send_claim,
        claimed_at=keys.parse_iso(item.send_claimed_at) if item.send_claimed_at else None,
    )


def _item(target: SendTarget) -> RecipientItem:
    item = target.recipient.store_ref
    if not isinstance(item, RecipientItem):
        raise TypeError("a send target must carry the RecipientItem it was loaded from")
    return item


class DynamoSendStore:
    """logic.ports.SendStore on the single table."""

    def __init__(self, commits: DynamoIngestStore) -> None:
        self._commits = commits

    def load_targets(
        self, tenant_id: str, message_id: str, recipient_ids: Collection[str]
    ) -> dict[str, SendTarget]:
        pk = keys.message_pk(tenant_id, message_id)
        wanted = sorted(set(recipient_ids))
        found: dict[str, SendTarget] = {}
        with store_errors("load send targets"):
            for start in range(0, len(wanted), BATCH_GET_LIMIT):
                group = [(pk, keys.recipient_sk(rid)) for rid in wanted[start : start + BATCH_GET_LIMIT]]
                for item in RecipientItem.batch_get(group, consistent_read=True):
                    found[item.recipient_id] = _target(item)
        return found

    def reload(self, target: SendTarget) -> SendTarget:
        key = target.key
        with store_errors("reload send target"):
            item = RecipientItem.get(
                keys.message_pk(key.tenant_id, key.message_id),
                keys.recipient_sk(key.recipient_id),
                consistent_read=True,
            )
        return _target(item)

    def load_content(self, tenant_id: str, message_id: str) -> MessageContent | None:
        return load_content(tenant_id, message_id)

    def claim(self, target: SendTarget, claim: str, at: datetime) -> SendTarget:
        item = _item(target)
        try:
            # Version-conditioned (PynamoDB adds it) and, explicitly, "still never sent".
            item.update(
                actions=[
                    RecipientItem.send_claim.set(claim),
                    RecipientItem.send_claimed_at.set(keys.iso(at)),
                ],
                condition=RecipientItem.gsi2pk.does_not_exist() & RecipientItem.send_claim.does_not_exist(),
            )
        except UpdateError as error:
            if is_condition_failure(error):
                raise ConflictError([target.key]) from error
            raise TransientStoreError(f"claim recipient: {error}") from error
        return _target(item)

    def release(self, target: SendTarget) -> None:
        item = _item(target)
        try:
            item.update(actions=[RecipientItem.send_claim.remove(), RecipientItem.send_claimed_at.remove()])
        except UpdateError as error:
            if is_condition_failure(error):
                raise ConflictError([target.key]) from error
            raise TransientStoreError(f"release recipient: {error}") from error

    def record(self, target: SendTarget, facts: RecipientFacts, ses_message_id: str | None) -> None:
        item = _item(target)
        item.send_claim = None
        item.send_claimed_at = None
        if ses_message_id is not None:
            set_ses_message_id(item, ses_message_id)
        self._commits.commit(RecipientChange(target.recipient, facts))
