"""DynamoDB side of the send path: the sender's recipient writes and the Idempotency-Key records.

Every recipient write here goes through optimistic locking (the item's ``version``), like the
ingest path's, so the sender, the ingest Lambda and a second copy of a send job never overwrite
each other. Outcomes reuse the ingest path's atomic commit (recipient + count delta in one
transaction, ``DynamoIngestStore.commit``) and its fold.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyInconsistentStateError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from pynamodb.exceptions import PynamoDBException, UpdateError

from tracker import constants
from tracker.dal import keys
from tracker.dal.ingest_store import DynamoIngestStore, store_errors, to_stored
from tracker.dal.messages import load_content
from tracker.dal.models import RecipientItem
from tracker.domain.errors import ConflictError, RequestMismatchError, TransientStoreError
from tracker.domain.facts import RecipientFacts
from tracker.logic.ingest import MessageKey, RecipientChange
from tracker.logic.sending import MessageContent, SendTarget

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodb.client import DynamoDBClient

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


def _is_condition_failure(error: PynamoDBException) -> bool:
    return error.cause_response_code == "ConditionalCheckFailedException"


class DynamoSendStore:
    """logic.sending.SendStore on the single table."""

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
                    if item.tenant_id == tenant_id:
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
                condition=RecipientItem.ses_message_id.does_not_exist()
                & RecipientItem.send_claim.does_not_exist(),
            )
        except UpdateError as error:
            if _is_condition_failure(error):
                raise ConflictError([target.key]) from error
            raise TransientStoreError(f"claim recipient: {error}") from error
        return _target(item)

    def release(self, target: SendTarget) -> None:
        item = _item(target)
        try:
            item.update(actions=[RecipientItem.send_claim.remove(), RecipientItem.send_claimed_at.remove()])
        except UpdateError as error:
            if _is_condition_failure(error):
                raise ConflictError([target.key]) from error
            raise TransientStoreError(f"release recipient: {error}") from error

    def record(self, target: SendTarget, facts: RecipientFacts, ses_message_id: str | None) -> None:
        item = _item(target)
        item.send_claim = None
        item.send_claimed_at = None
        if ses_message_id is not None:
            item.ses_message_id = ses_message_id
            # The lookup key of SES events without our tags (access pattern 9).
            item.gsi2pk = keys.ses_lookup_pk(ses_message_id)
            item.gsi2sk = item.sk
        self._commits.commit([RecipientChange(target.recipient, facts)])

    def fold(self, message: MessageKey) -> None:
        self._commits.fold_counts([message])


# --- Idempotency-Key (Powertools idempotency, DynamoDB persistence on the same table) ------------

IDEMPOTENCY_KEY_PREFIX = "send_message"
IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60


class PowertoolsIdempotency:
    """logic.sending.IdempotencyGuard: one record per (tenant, Idempotency-Key).

    The record lives in the tenant's own partition (``pk = T#{tenant}#IDEMPOTENCY``, Powertools'
    static partition key) and its sort key hashes the tenant together with the client's key, so
    two tenants using the same key can never see each other's result. The request body is hashed
    as the payload to validate: the same key with a different body is refused. Records expire via
    the table's TTL attribute after a day.
    """

    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient,
        lambda_context: Callable[[], LambdaContext | None] = lambda: None,
        ttl_seconds: int = IDEMPOTENCY_TTL_SECONDS,
    ) -> None:
        self._table_name = table_name
        self._client = client
        self._lambda_context = lambda_context
        self._ttl_seconds = ttl_seconds

    def run(
        self,
        tenant_id: str,
        key: str,
        request: Mapping[str, Any],
        compute: Callable[[], dict[str, Any]],
    ) -> dict[str, Any]:
        # Built per call (cheap; the client is shared): the partition key is the caller's tenant.
        persistence = DynamoDBPersistenceLayer(
            table_name=self._table_name,
            key_attr=constants.TABLE_PARTITION_KEY,
            sort_key_attr=constants.TABLE_SORT_KEY,
            static_pk_value=keys.idempotency_pk(tenant_id),
            expiry_attr=constants.TTL_ATTRIBUTE,
            boto3_client=self._client,
        )
        config = IdempotencyConfig(
            event_key_jmespath="[tenant_id, idempotency_key]",
            payload_validation_jmespath="request",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=self._ttl_seconds,
        )
        context = self._lambda_context()
        if context is not None:
            # An in-progress record then expires with this invocation, so a retry after a timeout
            # runs again instead of waiting for the record's full expiry.
            config.register_lambda_context(context)

        @idempotent_function(
            data_keyword_argument="payload",
            persistence_store=persistence,
            config=config,
            key_prefix=IDEMPOTENCY_KEY_PREFIX,
        )
        def once(payload: dict[str, Any]) -> dict[str, Any]:  # noqa: ARG001 - hashed by Powertools
            return compute()

        try:
            result: dict[str, Any] = once(
                payload={"tenant_id": tenant_id, "idempotency_key": key, "request": dict(request)}
            )
        except IdempotencyValidationError as error:
            raise RequestMismatchError(
                "this Idempotency-Key was already used with a different request body; "
                "use a new key for a different message"
            ) from error
        except IdempotencyAlreadyInProgressError as error:
            raise ConflictError(
                "a request with this Idempotency-Key is still in progress; retry in a moment"
            ) from error
        except (IdempotencyPersistenceLayerError, IdempotencyInconsistentStateError) as error:
            raise TransientStoreError(f"idempotency store: {error}") from error
        return result
