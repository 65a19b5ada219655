"""Apple's ranges end to end on moto's S3: the real refresher downloads the list from a local HTTPS
server standing in for Apple's and stores it; the real ingest handler, deployed with the bucket,
classifies with it; without a stored object it falls back to the shipped snapshot."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest

from tests import ses_builders as b
from tests.apple_ranges import egress_csv
from tests.factories import CREATED_AT, message_counts, recipient_facts, seed_message, ses_id
from tests.https_server import LocalHttps, answer, https_server
from tests.lambda_context import FakeLambdaContext
from tracker import constants as c
from tracker.dal import apple_ranges as store
from tracker.domain.engagement import AppleRanges
from tracker.domain.status import Status, Tally
from tracker.handlers import apple_ranges as refresher
from tracker.handlers import ingest

pytestmark = pytest.mark.usefixtures("table")

BUCKET = "tracker-reference-data"
# Addresses in the refreshed list only, and in the shipped snapshot only.
ONLY_REFRESHED = "203.0.113.9"
ONLY_SNAPSHOT = "172.225.46.70"
REFRESHED_LIST = egress_csv(["203.0.113.0/24", "198.51.100.0/25", "2a09:bac1:14a0::/48", "104.28.0.16/28"])
SENT = CREATED_AT + timedelta(minutes=1)


@pytest.fixture(scope="module")
def apple(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHttps]:
    """Apple's endpoint, served locally over TLS."""
    routes = {"/egress-ip-ranges.csv": answer(200, REFRESHED_LIST.encode(), {"Content-Type": "text/csv"})}
    with https_server(tmp_path_factory.mktemp("apple"), routes) as server:
        yield server


@pytest.fixture
def deployed(table: str, monkeypatch: pytest.MonkeyPatch, apple: LocalHttps) -> None:
    """The environment the stack gives the refresher and the ingest function, and the bucket."""
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
    monkeypatch.setenv(c.ENV_APPLE_RANGES_BUCKET, BUCKET)
    monkeypatch.setenv(c.ENV_APPLE_RANGES_KEY, c.APPLE_RANGES_KEY)
    monkeypatch.setenv(c.ENV_APPLE_RANGES_URL, apple.url("/egress-ip-ranges.csv"))
    monkeypatch.setenv(c.ENV_APPLE_RANGES_MIN_PREFIXES, "4")
    # The default TLS context (the one the refresher uses) trusts the local server's certificate.
    monkeypatch.setenv("SSL_CERT_FILE", str(apple.certificate))
    refresher.default_refresh.cache_clear()
    ingest.default_ingestor.cache_clear()


def run_refresher() -> dict[str, Any]:
    refresher.default_refresh.cache_clear()
    return refresher.handler({"source": "aws.events", "detail-type": "Scheduled Event"}, FakeLambdaContext())


def stored_object() -> dict[str, Any]:
    return boto3.client("s3", region_name="us-east-1").get_object(Bucket=BUCKET, Key=c.APPLE_RANGES_KEY)


def ingest_opens(*addresses: str) -> None:
    """A message to one recipient per address, delivered, then a bare-agent open from that address."""
    seed_message(recipients=len(addresses))
    records = []
    for index, address in enumerate(addresses):
        who = f"person{index}@example.com"
        tags = b.tags_for("tenant-a", "msg-1", f"r{index}")
        records += [
            b.delivery_event(ses_id("msg-1", index), who, tags=tags, sent_at=SENT),
            b.open_event(
                ses_id("msg-1", index),
                who,
                tags=tags,
                sent_at=SENT,
                at=SENT + timedelta(hours=1),
                ip=address,
                user_agent="Mozilla/5.0",
            ),
        ]
    ingest.default_ingestor.cache_clear()
    response = ingest.handler(
        b.sqs_event([b.sqs_record(b.sns_body(r)) for r in records]), FakeLambdaContext()
    )
    assert response["batchItemFailures"] == []


def open_codes(count: int) -> list[str]:
    return [
        fetch.code
        for index in range(count)
        for fetch in recipient_facts("tenant-a", "msg-1", f"r{index}").fetches
    ]


@pytest.mark.usefixtures("deployed")
def test_the_refresher_stores_apples_list_and_the_ingest_path_classifies_with_it() -> None:
    summary = run_refresher()
    assert summary["refreshed"] is True, summary

    stored = stored_object()
    assert stored["Metadata"][store.META_PREFIXES] == "4"
    assert stored["Metadata"][store.META_FORMAT] == "1"
    assert stored["Metadata"][store.META_REFRESHED_AT].startswith("20")
    assert stored["ContentType"] == "application/gzip"
    ranges = AppleRanges.from_compact(stored["Body"].read())
    assert ONLY_REFRESHED in ranges
    assert ONLY_SNAPSHOT not in ranges

    ingest_opens(ONLY_REFRESHED, ONLY_SNAPSHOT)
    # Apple MPP only where the refreshed list says Apple; the snapshot's address is not Apple's any more.
    assert open_codes(2) == ["apple_mpp", "mpp_ua"]
    # Machine opens: both recipients stay delivered, counted as opened by machines only.
    assert message_counts("tenant-a", "msg-1") == {Status.DELIVERED: 2, Tally.MACHINE_OPENED: 2}


@pytest.mark.usefixtures("deployed")
def test_without_a_stored_list_the_ingest_path_classifies_with_the_snapshot(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="tracker.logic.apple_ranges_cache"):
        ingest_opens(ONLY_REFRESHED, ONLY_SNAPSHOT)
    assert open_codes(2) == ["mpp_ua", "apple_mpp"]
    assert any("the shipped snapshot" in record.getMessage() for record in caplog.records)


@pytest.mark.usefixtures("deployed")
def test_a_failed_refresh_leaves_the_stored_list_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_refresher()["refreshed"] is True
    before = stored_object()
    monkeypatch.setenv(c.ENV_APPLE_RANGES_MIN_PREFIXES, "5")  # the served list is now "too short"
    summary = run_refresher()
    assert (summary["refreshed"], summary["failure"]) == (False, "too_few_prefixes")
    monkeypatch.setenv(c.ENV_APPLE_RANGES_URL, "https://127.0.0.1:1/egress-ip-ranges.csv")  # unreachable
    assert run_refresher()["failure"] == "download"
    after = stored_object()
    assert after["ETag"] == before["ETag"]
    assert after["Metadata"] == before["Metadata"]
