"""The sender function's collaborators."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3

from tracker import settings
from tracker.bootstrap.common import bind_table
from tracker.bootstrap.suppression import suppression_service
from tracker.dal.ingest_store import DynamoIngestStore
from tracker.dal.outbound import SES_CLIENT_CONFIG, SesMailer, SesSendRate
from tracker.dal.sending import DynamoSendStore
from tracker.domain.records import RecipientKey
from tracker.domain.unsubscribe import sign, unsubscribe_url
from tracker.logic.pacing import Pacer, PaceShare
from tracker.logic.sending import Pacing, Sender, SenderPolicy
from tracker.settings import SendSettings, Settings


def build_sender(
    ses_client: Any,
    send: SendSettings,
    config: Settings,
    policy: SenderPolicy | None = None,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    monotonic: Callable[[], float] = time.monotonic,
    unsubscribe_key: Callable[[], bytes] = settings.unsubscribe_secret,
) -> Sender:
    """A Sender on the given SES client (the models must already be bound to the table), paced to
    its share of the send rate (``SEND_RATE``, else the account's from ``GetAccount``) and with
    ``SEND_PARALLEL_CALLS`` SES calls in flight unless ``policy`` says otherwise."""
    store = DynamoSendStore(DynamoIngestStore(config.retention.recipients))
    mailer = SesMailer(
        ses_client, send.sender_address, send.configuration_set, send.untracked_configuration_set
    )
    pacing = Pacing(
        Pacer(None, clock=monotonic, sleep=sleep or time.sleep),
        SesSendRate(ses_client, send.send_rate),
        PaceShare(workers=send.sender_concurrency),
    )
    return Sender(
        store,
        mailer,
        suppression_service(config, send),
        policy or SenderPolicy(parallel_calls=send.parallel_calls),
        clock=clock,
        sleep=sleep or time.sleep,
        unsubscribe_link=unsubscribe_links(send.unsubscribe_base_url, unsubscribe_key),
        pacing=pacing,
    )


def unsubscribe_links(base_url: str | None, key: Callable[[], bytes]) -> Callable[[RecipientKey], str] | None:
    """A recipient's one-click unsubscribe URL (the key read on first use, then cached)."""
    if not base_url:
        return None
    return lambda recipient: unsubscribe_url(base_url, sign(key(), recipient))


def default_sender() -> Sender:
    config = Settings.from_env()
    bind_table(config)
    ses = boto3.client("sesv2", region_name=config.region, config=SES_CLIENT_CONFIG)
    return build_sender(ses, SendSettings.from_env(), config)
