"""The suppression service, shared by the ingest path (it records evidence) and the send path (it
checks addresses)."""

from __future__ import annotations

from collections.abc import Callable

from tracker import settings
from tracker.dal.suppressions import DynamoSuppressionStore
from tracker.dal.unsubscriptions import DynamoRecipientAddresses, DynamoUnsubscriptionStore
from tracker.domain.suppression import SuppressionRules
from tracker.logic.suppression import SuppressionService
from tracker.logic.unsubscribe import UnsubscribeService
from tracker.settings import SendSettings, SettingError, Settings


def suppression_rules(send: SendSettings) -> SuppressionRules:
    """Raises SettingError for a threshold no address could reach (above the evidence it keeps)."""
    try:
        return SuppressionRules(
            permanent_bounces=send.permanent_bounces_to_suppress,
            complaints=send.complaints_to_suppress,
            transient_bounces=send.transient_bounces_to_suppress,
            transient_window=send.transient_bounce_window,
        )
    except ValueError as error:
        raise SettingError(str(error)) from error


def suppression_service(_config: Settings, send: SendSettings) -> SuppressionService:
    """The first argument is every composition root's common one; this store needs nothing of it."""
    return SuppressionService(DynamoSuppressionStore(), suppression_rules(send))


def unsubscribe_service(
    key: Callable[[], bytes] = settings.unsubscribe_secret,
) -> UnsubscribeService:
    """Unsubscriptions (the projector's SES opt-outs, the one-click link, resubscribing); the link
    key is read on the first link checked."""
    return UnsubscribeService(DynamoUnsubscriptionStore(), DynamoRecipientAddresses(), key)
