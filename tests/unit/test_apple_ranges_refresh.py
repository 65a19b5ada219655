"""The daily refresh of Apple's ranges with fakes for the feed and the store: a good list is stored
and counted; a truncated, unparseable or unreachable list, or a store that fails, is reported in the
metrics and never overwrites the stored list."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from tests.apple_ranges import egress_csv, synthetic_egress_csv
from tests.lambda_context import FakeLambdaContext
from tracker import constants as c
from tracker.domain.engagement import AppleRanges
from tracker.domain.errors import ReferenceDataError
from tracker.handlers import apple_ranges as handler
from tracker.logic.apple_ranges_refresh import AppleRangesRefresh, RefreshFailure

NOW = datetime(2026, 12, 1, 4, 17, tzinfo=UTC)
MINIMUM = 500
GOOD_LIST = synthetic_egress_csv(800)
CUT_IN_A_PREFIX = GOOD_LIST[: GOOD_LIST.rstrip("\n").rfind("\n") + 6]
PREVIOUS = AppleRanges.from_csv(egress_csv(["203.0.113.0/24"])).to_compact()


@dataclass
class FakeFeed:
    text: str | None = GOOD_LIST
    error: str | None = None
    calls: int = 0

    def download(self) -> str:
        self.calls += 1
        if self.error is not None:
            raise ReferenceDataError(self.error)
        assert self.text is not None
        return self.text


@dataclass
class FakeStore:
    blob: bytes | None = PREVIOUS
    refreshed_at: datetime | None = None
    prefixes: int | None = None
    refuse_writes: bool = False
    writes: list[bytes] = field(default_factory=list)

    def read(self) -> bytes | None:
        return self.blob

    def write(self, blob: bytes, *, refreshed_at: datetime, prefixes: int) -> None:
        self.writes.append(blob)
        if self.refuse_writes:
            raise ReferenceDataError("s3://bucket/key not written: AccessDenied")
        self.blob, self.refreshed_at, self.prefixes = blob, refreshed_at, prefixes


def refresh(feed: FakeFeed, store: FakeStore) -> AppleRangesRefresh:
    return AppleRangesRefresh(feed, store, MINIMUM, clock=lambda: NOW)


def emitted_metrics(output: str) -> dict[str, float]:
    """The metric values of the EMF documents Powertools printed."""
    values: dict[str, float] = {}
    for line in output.splitlines():
        if not line.startswith("{"):
            continue
        document = json.loads(line)
        for directive in document.get("_aws", {}).get("CloudWatchMetrics", []):
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                values[metric["Name"]] = value[0] if isinstance(value, list) else value
    return values


def run_handler(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], run: AppleRangesRefresh
) -> tuple[dict[str, object], dict[str, float]]:
    monkeypatch.setattr(handler, "default_refresh", lambda: run)
    handler.metrics.clear_metrics()  # only this invocation's metrics (the buffer is per process)
    capsys.readouterr()
    summary = handler.handler({"source": "aws.events"}, FakeLambdaContext())
    return summary, emitted_metrics(capsys.readouterr().out)


def test_a_good_list_is_stored_in_compact_form_with_its_time_and_count(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = FakeStore()
    summary, metrics = run_handler(monkeypatch, capsys, refresh(FakeFeed(), store))

    assert summary["refreshed"] is True
    assert store.blob is not None
    stored = AppleRanges.from_compact(store.blob)
    expected = AppleRanges.from_csv(GOOD_LIST)
    assert stored.to_compact() == expected.to_compact()
    assert (store.refreshed_at, store.prefixes) == (NOW, 800)
    assert "203.0.113.9" not in stored  # the previous list is replaced, not merged into
    assert metrics == {
        c.METRIC_APPLE_RANGES_REFRESHED: 1.0,
        c.METRIC_APPLE_RANGES_REFRESH_FAILED: 0.0,
        c.METRIC_APPLE_RANGES_PREFIXES: 800.0,
    }


@pytest.mark.parametrize(
    ("feed", "store", "failure", "detail"),
    [
        # The download stopped at a line boundary: it parses, but is far too short.
        (
            FakeFeed(text=GOOD_LIST[: len(GOOD_LIST) // 3].rsplit("\n", 1)[0]),
            FakeStore(),
            "too_few_prefixes",
            "fewer than the minimum 500",
        ),
        # The download stopped inside a line's prefix.
        (FakeFeed(text=CUT_IN_A_PREFIX), FakeStore(), "unparseable", "line 800"),
        (
            FakeFeed(text="<html><body>Service Unavailable</body></html>\n"),
            FakeStore(),
            "unparseable",
            "line 1",
        ),
        (FakeFeed(text=""), FakeStore(), "too_few_prefixes", "0 prefixes"),
        (
            FakeFeed(error="https://mask-api.icloud.com/egress-ip-ranges.csv: HTTP 503 Service Unavailable"),
            FakeStore(),
            "download",
            "HTTP 503",
        ),
        (FakeFeed(), FakeStore(refuse_writes=True), "store", "AccessDenied"),
    ],
    ids=["truncated at a line", "truncated in a line", "an error page", "empty", "HTTP error", "S3 error"],
)
def test_a_failed_refresh_is_counted_and_keeps_the_stored_list(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    feed: FakeFeed,
    store: FakeStore,
    failure: str,
    detail: str,
) -> None:
    summary, metrics = run_handler(monkeypatch, capsys, refresh(feed, store))

    assert summary["refreshed"] is False
    assert summary["failure"] == failure
    assert detail in str(summary["detail"])
    assert store.blob == PREVIOUS  # never overwritten
    if failure != RefreshFailure.STORE:
        assert store.writes == []  # an implausible list is not even offered to the store
    assert metrics == {c.METRIC_APPLE_RANGES_REFRESHED: 0.0, c.METRIC_APPLE_RANGES_REFRESH_FAILED: 1.0}


def test_the_minimum_is_inclusive() -> None:
    store = FakeStore()
    exactly = AppleRangesRefresh(FakeFeed(), store, 800, clock=lambda: NOW).run()
    assert exactly.refreshed
    one_more = AppleRangesRefresh(FakeFeed(), FakeStore(), 801, clock=lambda: NOW).run()
    assert one_more.failure is RefreshFailure.TOO_FEW_PREFIXES
    assert (one_more.prefixes, one_more.stored_bytes) == (800, 0)


def test_the_result_says_what_was_stored() -> None:
    store = FakeStore()
    result = refresh(FakeFeed(), store).run()
    assert store.blob is not None
    assert (result.prefixes, result.stored_bytes) == (800, len(store.blob))
    assert result.intervals == len(AppleRanges.from_csv(GOOD_LIST).table)
    assert result.detail == f"stored 800 prefixes ({result.intervals} intervals, {len(store.blob)} bytes)"
