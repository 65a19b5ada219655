"""Times in keys: fixed width, so that string order is time order for every year a datetime holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tracker.dal import keys

TIMES = [
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(1000, 1, 1, tzinfo=UTC),
    datetime(2026, 11, 1, 9, 0, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
]


@pytest.mark.parametrize("at", TIMES)
def test_a_key_time_is_fixed_width_and_reads_back(at: datetime) -> None:
    text = keys.iso(at)
    assert len(text) == len("2026-11-01T09:00:00.000000Z")
    assert keys.parse_iso(text) == at


def test_string_order_is_time_order_before_year_1000_too() -> None:
    assert sorted(TIMES, key=keys.iso) == TIMES


def test_a_key_time_is_utc_whatever_the_offset_given() -> None:
    at = datetime(2026, 11, 1, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    assert keys.iso(at) == "2026-11-01T09:00:00.000000Z"
