"""The API functions' collaborators: the read routes' at cold start, the send stack on first use.

The whole API (``api_app``: local mode, tests) or one deployed function's part of it (``read_app``,
``send_app``). Each part's modules are imported by the builder that needs them, so the read
function never imports the send stack and the send function never imports the read stack.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tracker import constants, settings
from tracker.api.app import PartialResolver, build_app, build_read_app, build_send_app
from tracker.api.cursors import LazyCursorCodec
from tracker.bootstrap.common import bind_table
from tracker.settings import EventSettings, SendSettings, Settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from tracker.api import read_routes, send_routes
    from tracker.api.resolver import TrackerResolver
    from tracker.logic.exports import ExportService


def read_dependencies() -> read_routes.Dependencies:
    """No network until a request needs the table or a cursor (the secret is loaded then)."""
    from tracker.api import read_routes
    from tracker.dal.attention_queue import DynamoAttentionStore
    from tracker.dal.health_metric import publish_health_metric
    from tracker.dal.insights import DynamoInsightStore
    from tracker.dal.queries import DynamoReadStore
    from tracker.dal.stats import DynamoStatsReader
    from tracker.logic.attention import AttentionQueries
    from tracker.logic.insights import InsightQueries
    from tracker.logic.queries import ReadQueries
    from tracker.logic.stats import StatsQueries

    bind_table(Settings.from_env())
    cursors = LazyCursorCodec(settings.cursor_secret)
    return read_routes.Dependencies(
        ReadQueries(DynamoReadStore(), cursors),
        AttentionQueries(DynamoAttentionStore(), cursors),
        StatsQueries(DynamoStatsReader(), observer=publish_health_metric),
        InsightQueries(DynamoInsightStore()),
    )


def _current_lambda_context() -> LambdaContext | None:
    from tracker.api import send_routes

    return send_routes.current_lambda_context()


def build_send_dependencies(
    config: Settings,
    send: SendSettings,
    sqs_client: Any,
    dynamodb_client: Any,
    cursor_secret: Callable[[], bytes],
    lambda_context: Callable[[], LambdaContext | None] = _current_lambda_context,
    unsubscribe_key: Callable[[], bytes] = settings.unsubscribe_secret,
) -> send_routes.Dependencies:
    """The send and suppression routes' collaborators on the given clients (the models must
    already be bound to the table). Their modules are imported here, on first use."""
    from tracker.api import send_routes
    from tracker.bootstrap.suppression import suppression_service, unsubscribe_service
    from tracker.bootstrap.webhooks import build_webhook_service
    from tracker.dal.actions import DynamoRecipientActions
    from tracker.dal.drafts import DynamoDraftStore
    from tracker.dal.erasure import DynamoErasureStore
    from tracker.dal.idempotency import PowertoolsIdempotency
    from tracker.dal.ingest_store import DynamoIngestStore
    from tracker.dal.messages import DynamoMessageStore
    from tracker.dal.outbound import SqsJobQueue
    from tracker.dal.sending import DynamoSendStore
    from tracker.domain.messages import MAX_JOB_RECIPIENTS
    from tracker.logic.creation import MessageService
    from tracker.logic.drafts import DraftService
    from tracker.logic.erasure import ErasureService
    from tracker.logic.outcomes import OutcomeRecorder
    from tracker.logic.resending import RecipientActionService

    suppressions = suppression_service(config, send)
    messages = MessageService(
        store=DynamoMessageStore(config.retention),
        queue=SqsJobQueue(sqs_client, send.send_queue_url),
        suppressions=suppressions,
        outcomes=OutcomeRecorder(DynamoSendStore(DynamoIngestStore(config.retention.recipients))),
        chunk_size=max(1, min(send.chunk_size, MAX_JOB_RECIPIENTS)),
        untracked_kinds=send.untracked_kinds,
    )
    return send_routes.Dependencies(
        messages=messages,
        suppressions=suppressions,
        idempotency=PowertoolsIdempotency(config.table_name, dynamodb_client, lambda_context),
        cursors=LazyCursorCodec(cursor_secret),
        erasure=ErasureService(DynamoErasureStore()),
        actions=RecipientActionService(DynamoRecipientActions(), messages, suppressions),
        unsubscribe=unsubscribe_service(unsubscribe_key),
        webhooks=build_webhook_service(config, EventSettings.from_env()),
        drafts=DraftService(
            DynamoDraftStore(config.retention),
            SqsJobQueue(sqs_client, send.send_queue_url),
            suppressions,
            limits=send.draft_limits,
            chunk_size=max(1, min(send.chunk_size, MAX_JOB_RECIPIENTS)),
            untracked_kinds=send.untracked_kinds,
        ),
    )


def send_dependencies() -> send_routes.Dependencies:
    """Production collaborators of the send routes, built on the first send or suppression request."""
    import boto3

    config = Settings.from_env()
    bind_table(config)
    return build_send_dependencies(
        config,
        SendSettings.from_env(),
        sqs_client=boto3.client("sqs", region_name=config.region),
        dynamodb_client=boto3.client(
            "dynamodb", region_name=config.region, endpoint_url=config.dynamodb_endpoint
        ),
        cursor_secret=settings.cursor_secret,
    )


def _allowed_origin() -> str | None:
    """The hosted dashboard's origin (infra/api.py sets it; unset in local mode, same origin)."""
    return os.environ.get(constants.ENV_ALLOWED_ORIGIN) or None


def _exports(*, reads: bool, starts: bool) -> Callable[[], ExportService]:
    def build() -> ExportService:
        from tracker.bootstrap.exports import export_service

        return export_service(reads=reads, starts=starts)

    return build


def api_app() -> TrackerResolver:
    """Every route in one app (local mode's gateway, the tests, the bench)."""
    return build_app(
        read_dependencies(),
        send_dependencies,
        allowed_origin=_allowed_origin(),
        exports=_exports(reads=True, starts=True),
    )


def read_app() -> PartialResolver:
    """The read function's app: the read routes, health and the documentation."""
    return build_read_app(
        read_dependencies(),
        whole=api_app,
        allowed_origin=_allowed_origin(),
        exports=_exports(reads=True, starts=False),
    )


def send_app() -> PartialResolver:
    """The send function's app: POST /messages, POST /exports and the suppression routes."""
    return build_send_app(
        send_dependencies,
        whole=api_app,
        allowed_origin=_allowed_origin(),
        exports=_exports(reads=False, starts=True),
    )
