"""The suppression service, shared by the ingest path (it records evidence) and the send path (it
checks addresses)."""

from __future__ import annotations

from tracker.dal.suppressions import DynamoSuppressionStore
from tracker.domain.suppression import SuppressionRules
from tracker.logic.suppression import SuppressionService
from tracker.settings import SendSettings, Settings


def suppression_rules(send: SendSettings) -> SuppressionRules:
    return SuppressionRules(
        permanent_bounces=send.permanent_bounces_to_suppress,
        complaints=send.complaints_to_suppress,
        transient_bounces=send.transient_bounces_to_suppress,
        transient_window=send.transient_bounce_window,
    )


def suppression_service(config: Settings, send: SendSettings) -> SuppressionService:
    return SuppressionService(DynamoSuppressionStore(config.event_log_retention), suppression_rules(send))
