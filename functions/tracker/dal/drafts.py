"""Drafts and their recipient batches on the single table (tracker.logic.drafts.DraftStore).

A draft is one item (``DRAFT``) beside the message's own items, one item per batch
(``DRAFT#B#<n>``). The state changes are conditional on the state read, so two concurrent calls
cannot both start a send, nor add a batch to a draft that is being sent. The fan-out's cursors
move once per batch: the message header itself is written once at the send's start and then only
by the projector (once per stream batch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from pynamodb.exceptions import DeleteError, UpdateError

from tracker import constants
from tracker.dal import keys
from tracker.dal.messages import NewMessage, NewRecipient, list_message, put_header, write_recipients
from tracker.dal.models import DraftBatchItem, DraftItem
from tracker.dal.support import is_condition_failure, store_errors
from tracker.domain.drafts import Draft, DraftState
from tracker.domain.errors import ConflictError
from tracker.domain.messages import MessageContent, PlannedRecipient, RecipientDraft
from tracker.domain.retention import DEFAULT_RETENTION, Retention
from tracker.domain.tracking import Tracking

DRAFT_SK = "DRAFT"
_BATCH_PREFIX = "DRAFT#B#"


def _drafts_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}#DRAFTS"


def _batch_sk(number: int) -> str:
    return f"{_BATCH_PREFIX}{number:05d}"


def _draft_of(item: DraftItem) -> Draft:
    tenant_id, message_id = keys.parse_message_pk(item.pk)
    return Draft(
        tenant_id=tenant_id,
        message_id=message_id,
        kind=item.kind,
        content=MessageContent(subject=item.subject, text=item.text, html=item.html),
        created_at=keys.parse_iso(item.created_at),
        tracking=Tracking(item.tracking),
        created_by=item.created_by,
        invoice_id=item.invoice_id,
        payment_id=item.payment_id,
        state=DraftState(item.state),
        batch_rows={
            int(k): int(v) for k, v in (item.batch_rows.as_dict() if item.batch_rows else {}).items()
        },
        written=int(item.written or 0),
        queued=int(item.queued or 0),
        recipients=int(item.recipients or 0),
        duplicates=int(item.duplicates or 0),
    )


def _new_message(draft: Draft) -> NewMessage:
    return NewMessage(
        tenant_id=draft.tenant_id,
        message_id=draft.message_id,
        kind=draft.kind,
        subject=draft.content.subject,
        created_at=draft.created_at,
        invoice_id=draft.invoice_id,
        payment_id=draft.payment_id,
        created_by=draft.created_by,
        tracking=draft.tracking,
    )


class DynamoDraftStore:
    def __init__(self, retention: Retention = DEFAULT_RETENTION) -> None:
        self._retention = retention

    def _key(self, draft: Draft) -> tuple[str, str]:
        return keys.message_pk(draft.tenant_id, draft.message_id), DRAFT_SK

    def create(self, draft: Draft) -> None:
        pk, sk = self._key(draft)
        item = DraftItem(
            pk,
            sk,
            tenant_id=draft.tenant_id,
            message_id=draft.message_id,
            kind=draft.kind,
            subject=draft.content.subject,
            text=draft.content.text or None,
            html=draft.content.html or None,
            tracking=draft.tracking.value,
            created_at=keys.iso(draft.created_at),
            created_by=draft.created_by,
            invoice_id=draft.invoice_id,
            payment_id=draft.payment_id,
            state=DraftState.DRAFT.value,
            batch_rows={},
            gsi1pk=_drafts_pk(draft.tenant_id),
            gsi1sk=keys.iso(draft.created_at) + "#" + draft.message_id,
            expires_at=self._retention.content_expiry(draft.created_at),
        )
        with store_errors("create draft"):
            item.save(condition=DraftItem.pk.does_not_exist())

    def get(self, tenant_id: str, message_id: str) -> Draft | None:
        with store_errors("load draft"):
            try:
                item = DraftItem.get(keys.message_pk(tenant_id, message_id), DRAFT_SK, consistent_read=True)
            except DraftItem.DoesNotExist:
                return None
        return _draft_of(item)

    def count_open(self, tenant_id: str) -> int:
        with store_errors("count drafts"):
            return int(DraftItem.lists_index.count(_drafts_pk(tenant_id)))

    def put_batch(self, draft: Draft, number: int, rows: Sequence[RecipientDraft]) -> Draft:
        pk, sk = self._key(draft)
        document: list[Any] = [[r.customer_id, r.email, r.name] for r in rows]
        with store_errors("put draft batch"):
            DraftBatchItem(
                pk,
                _batch_sk(number),
                rows=document,
                expires_at=self._retention.content_expiry(draft.created_at),
            ).save()
            self._update(pk, sk, draft.state, [DraftItem.batch_rows[str(number)].set(len(rows))])
        return replace(draft, batch_rows={**draft.batch_rows, number: len(rows)})

    def load_batches(self, draft: Draft) -> dict[int, list[RecipientDraft]]:
        pk, _ = self._key(draft)
        batches: dict[int, list[RecipientDraft]] = {}
        with store_errors("load draft batches"):
            for item in DraftBatchItem.query(
                pk, DraftBatchItem.sk.startswith(_BATCH_PREFIX), consistent_read=True
            ):
                number = int(item.sk.removeprefix(_BATCH_PREFIX))
                batches[number] = [RecipientDraft(c, e, n) for c, e, n in item.rows]
        return batches

    def start_sending(self, draft: Draft, recipients: int, duplicates: int) -> Draft:
        pk, sk = self._key(draft)
        message = _new_message(draft)
        with store_errors("start a draft's send"):
            header = put_header(message, recipients, draft.content, self._retention)
            list_message(header, message)
            self._update(
                pk,
                sk,
                DraftState.DRAFT,
                [
                    DraftItem.state.set(DraftState.SENDING.value),
                    DraftItem.recipients.set(recipients),
                    DraftItem.duplicates.set(duplicates),
                    DraftItem.gsi1pk.remove(),
                    DraftItem.gsi1sk.remove(),
                ],
            )
        return replace(draft, state=DraftState.SENDING, recipients=recipients, duplicates=duplicates)

    def write_recipients(self, draft: Draft, recipients: Sequence[PlannedRecipient]) -> None:
        listed = draft.recipients <= constants.LISTED_RECIPIENTS_MAX
        rows = [
            NewRecipient(r.recipient_id, r.customer_id, r.email, r.name, r.status, r.reason)
            for r in recipients
        ]
        with store_errors("write a draft's recipients"):
            write_recipients(_new_message(draft), rows, listed, self._retention)

    def advance(self, draft: Draft, *, written: int, queued: int, state: DraftState) -> Draft:
        pk, sk = self._key(draft)
        with store_errors("advance a draft's send"):
            self._update(
                pk,
                sk,
                draft.state,
                [
                    DraftItem.written.set(written),
                    DraftItem.queued.set(queued),
                    DraftItem.state.set(state.value),
                ],
            )
        return replace(draft, written=written, queued=queued, state=state)

    def discard(self, draft: Draft) -> None:
        pk, sk = self._key(draft)
        with store_errors("discard draft"):
            with DraftBatchItem.batch_write() as batch:
                for number in draft.batch_rows:
                    batch.delete(DraftBatchItem(pk, _batch_sk(number)))
            try:
                DraftItem(pk, sk).delete(condition=DraftItem.state == DraftState.DRAFT.value)
            except DeleteError as error:
                if not is_condition_failure(error):
                    raise
                raise ConflictError("this draft is being sent: it can no longer be discarded") from None

    @staticmethod
    def _update(pk: str, sk: str, state: DraftState, actions: list[Any]) -> None:
        try:
            DraftItem(pk, sk).update(actions=actions, condition=DraftItem.state == state.value)
        except UpdateError as error:
            if not is_condition_failure(error):
                raise
            raise ConflictError("the draft changed meanwhile (another call sent or discarded it)") from None
