"""The refresher of Apple's ranges: Apple's list over HTTPS into the S3 object the ingest path reads.

It touches no DynamoDB, so it binds no table (and imports neither PynamoDB nor pydantic).
"""

from __future__ import annotations

from datetime import UTC, datetime

import boto3

from tracker.dal.apple_feed import HttpAppleRangesFeed
from tracker.dal.apple_ranges import S3AppleRanges
from tracker.logic.apple_ranges_refresh import AppleRangesRefresh
from tracker.settings import AppleRangesSettings, SettingError


def build_refresh(config: AppleRangesSettings, store: S3AppleRanges) -> AppleRangesRefresh:
    feed = HttpAppleRangesFeed(
        config.url, timeout_seconds=config.download_timeout_seconds, max_bytes=config.max_download_bytes
    )
    return AppleRangesRefresh(feed, store, config.min_prefixes, clock=lambda: datetime.now(UTC))


def default_refresh() -> AppleRangesRefresh:
    config = AppleRangesSettings.from_env()
    if config.bucket is None:
        raise SettingError("the Apple ranges refresher needs APPLE_RANGES_BUCKET")
    client = boto3.client("s3")
    return build_refresh(config, S3AppleRanges(lambda: client, config.bucket, config.key))
