"""The ingest function's collaborators."""

from __future__ import annotations

from tracker.bootstrap.common import bind_table
from tracker.bootstrap.suppression import suppression_service
from tracker.dal.ingest_store import DynamoIngestStore
from tracker.logic.ingest import Ingestor
from tracker.models.ses import parse_record_body
from tracker.settings import SendSettings, Settings


def build_ingestor(config: Settings, send: SendSettings) -> Ingestor:
    """The ingest path on the bound table; bounces and complaints also feed the per-tenant
    suppression list (the send path's Dropped)."""
    return Ingestor(
        DynamoIngestStore(config.event_log_retention),
        parse=parse_record_body,
        observer=suppression_service(config, send),
    )


def default_ingestor() -> Ingestor:
    config = Settings.from_env()
    bind_table(config)
    return build_ingestor(config, SendSettings.from_env())
