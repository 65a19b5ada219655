"""The projector function's collaborators: the message counts, the tenants' hourly statistics and
the suppression list, all fed from the recipients' changes on the table's stream."""

from __future__ import annotations

from tracker.bootstrap.common import bind_table
from tracker.bootstrap.suppression import suppression_service, unsubscribe_service
from tracker.dal.projection import DynamoCountStore, recipient_change
from tracker.dal.quarantine import DynamoQuarantineStore
from tracker.dal.stats import DynamoStatsStore
from tracker.logic.projector import Projector
from tracker.settings import SendSettings, Settings


def build_projector(config: Settings, send: SendSettings) -> Projector:
    return Projector(
        DynamoCountStore(stuck_after=config.attention_stuck_after),
        evidence=suppression_service(config, send),
        decode=recipient_change,
        quarantine=DynamoQuarantineStore().put,
        unsubscriptions=unsubscribe_service(),
        stats=DynamoStatsStore(config.retention.messages),
    )


def default_projector() -> Projector:
    config = Settings.from_env()
    bind_table(config)
    return build_projector(config, SendSettings.from_env())
