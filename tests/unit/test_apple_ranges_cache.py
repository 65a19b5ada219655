"""The ingest path's copy of Apple's ranges: read from the store on the first classification that
needs it (a bare ``Mozilla/5.0`` agent), kept, read again after a while, and the shipped snapshot
(or the list loaded before) whenever the store has nothing readable."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from tests import ses_builders as b
from tests.apple_ranges import egress_csv
from tracker.domain.engagement import AppleRanges
from tracker.domain.errors import ReferenceDataError
from tracker.domain.facts import FETCH_CLASS_DETAIL
from tracker.logic.apple_ranges_cache import StoredAppleRanges
from tracker.models.ses import parse_record_body

ONLY_REFRESHED = "203.0.113.9"  # in the stored list, not in the shipped snapshot
ONLY_SNAPSHOT = "172.225.46.70"  # in the snapshot (172.225.46.64/26), not in the stored list
REFRESHED = AppleRanges.from_csv(egress_csv(["203.0.113.0/24"])).to_compact()
NEWER = AppleRanges.from_csv(egress_csv(["198.51.100.0/24"])).to_compact()


@dataclass
class FakeReader:
    answers: list[bytes | Exception | None] = field(default_factory=lambda: [REFRESHED])
    reads: int = 0

    def read(self) -> bytes | None:
        answer = self.answers[min(self.reads, len(self.answers) - 1)]
        self.reads += 1
        if isinstance(answer, Exception):
            raise answer
        return answer


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta.total_seconds()


def provider(reader: FakeReader, clock: FakeClock | None = None) -> StoredAppleRanges:
    return StoredAppleRanges(
        reader, reload_after=timedelta(hours=6), retry_after=timedelta(minutes=10), clock=clock or FakeClock()
    )


def classified(body: str, apple: StoredAppleRanges) -> str:
    [event] = parse_record_body(body, apple_ranges=apple)
    return str(event.details[FETCH_CLASS_DETAIL])


def open_body(user_agent: str, ip: str) -> str:
    return b.sns_body(b.open_event("ses-1", "person@example.com", ip=ip, user_agent=user_agent))


def test_nothing_is_read_until_a_bare_agent_needs_apples_ranges() -> None:
    reader = FakeReader()
    apple = provider(reader)
    browser = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
    assert classified(open_body(browser, ONLY_REFRESHED), apple) == "browser"
    [delivery] = parse_record_body(b.sns_body(b.delivery_event("ses-1", "person@example.com")), apple)
    assert FETCH_CLASS_DETAIL not in delivery.details  # not an open or click: not classified
    assert reader.reads == 0

    assert classified(open_body("Mozilla/5.0", ONLY_REFRESHED), apple) == "apple_mpp"
    assert classified(open_body("Mozilla/5.0", ONLY_SNAPSHOT), apple) == "mpp_ua"
    assert classified(open_body("Mozilla/5.0", "17.1.2.3"), apple) == "apple_mpp"  # Apple's /8 always
    assert reader.reads == 1  # kept for the container
    assert apple.from_store


def test_a_warm_container_reads_the_stored_list_again_after_reload_after() -> None:
    clock = FakeClock()
    reader = FakeReader([REFRESHED, NEWER])
    apple = provider(reader, clock)
    assert ONLY_REFRESHED in apple
    clock.advance(timedelta(hours=5, minutes=59))
    assert "198.51.100.1" not in apple
    assert reader.reads == 1
    clock.advance(timedelta(minutes=1))
    assert "198.51.100.1" in apple
    assert ONLY_REFRESHED not in apple
    assert reader.reads == 2


@pytest.mark.parametrize(
    ("answer", "logged"),
    [
        (None, "no stored list yet"),
        (
            ReferenceDataError("s3://bucket/key: AccessDenied"),
            "cannot be read: s3://bucket/key: AccessDenied",
        ),
        (REFRESHED[:-5], "corrupt"),
    ],
    ids=["missing", "unreadable", "corrupt"],
)
def test_without_a_readable_stored_list_the_snapshot_is_used_with_a_warning(
    answer: bytes | Exception | None, logged: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    reader = FakeReader([answer, REFRESHED])
    apple = provider(reader, clock)
    with caplog.at_level(logging.WARNING, logger="tracker.logic.apple_ranges_cache"):
        assert classified(open_body("Mozilla/5.0", ONLY_SNAPSHOT), apple) == "apple_mpp"
        assert classified(open_body("Mozilla/5.0", ONLY_REFRESHED), apple) == "mpp_ua"
    assert not apple.from_store
    [warning] = caplog.records
    assert logged in warning.getMessage()
    assert "the shipped snapshot" in warning.getMessage()
    # Not read again on every event, but again after retry_after.
    assert reader.reads == 1
    clock.advance(timedelta(minutes=10))
    assert ONLY_REFRESHED in apple
    assert apple.from_store
    assert reader.reads == 2


def test_a_failed_reload_keeps_the_list_loaded_before(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    reader = FakeReader([REFRESHED, ReferenceDataError("s3://bucket/key: timed out")])
    apple = provider(reader, clock)
    assert ONLY_REFRESHED in apple
    clock.advance(timedelta(hours=6))
    with caplog.at_level(logging.WARNING, logger="tracker.logic.apple_ranges_cache"):
        assert ONLY_REFRESHED in apple
        assert ONLY_SNAPSHOT not in apple
    assert apple.from_store
    [warning] = caplog.records
    assert "the list loaded before" in warning.getMessage()
