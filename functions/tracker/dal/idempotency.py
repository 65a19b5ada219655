"""The Idempotency-Key records of ``POST /messages``: Powertools idempotency, DynamoDB persistence on
the same table. Its own module so that the sender function, which never needs it, does not import
Powertools' idempotency utility."""

from __future__ import annotations

from collections.abc import Callable, Mapping
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

from tracker import constants
from tracker.dal import keys
from tracker.domain.errors import ConflictError, RequestMismatchError, TransientStoreError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodb.client import DynamoDBClient

IDEMPOTENCY_KEY_PREFIX = "send_message"
IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60


class PowertoolsIdempotency:
    """logic.ports.IdempotencyGuard: one record per (tenant, Idempotency-Key).

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
