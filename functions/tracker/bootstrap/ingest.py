"""The ingest function's collaborators."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from tracker.bootstrap.common import bind_table
from tracker.dal.apple_ranges import READ_CLIENT_CONFIG, S3AppleRanges
from tracker.dal.ingest_store import DynamoIngestStore
from tracker.domain.engagement import AddressSet
from tracker.domain.events import RecipientEvent
from tracker.logic.apple_ranges_cache import StoredAppleRanges
from tracker.logic.ingest import Ingestor
from tracker.models.ses import parse_record_body
from tracker.settings import AppleRangesSettings, Settings

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client


def _s3_client(region: str | None) -> S3Client:
    # Built by the first bare-agent event, never at cold start (most containers never need it).
    import boto3

    return boto3.client("s3", region_name=region, config=READ_CLIENT_CONFIG)


def apple_ranges(config: AppleRangesSettings, region: str | None) -> AddressSet | None:
    """The refreshed list from S3 when the deployment stores one; None (the shipped snapshot)
    in local mode and tests."""
    if config.bucket is None:
        return None
    store = S3AppleRanges(partial(_s3_client, region), config.bucket, config.key)
    return StoredAppleRanges(store, reload_after=config.reload_after)


def build_ingestor(config: Settings, apple: AddressSet | None = None) -> Ingestor:
    """The ingest path on the bound table; opens and clicks are classified with ``apple``'s ranges
    (the shipped snapshot when None). Bounces and complaints reach the suppression list through
    the projector (tracker.bootstrap.projector)."""
    parse: Callable[[str], list[RecipientEvent]] = (
        parse_record_body if apple is None else partial(parse_record_body, apple_ranges=apple)
    )
    return Ingestor(DynamoIngestStore(config.retention.recipients), parse=parse)


def default_ingestor() -> Ingestor:
    config = Settings.from_env()
    bind_table(config)
    return build_ingestor(config, apple_ranges(AppleRangesSettings.from_env(), config.region))
