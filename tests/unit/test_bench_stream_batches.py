"""The bench's model of the projector's stream batches, and the main run's projector cut to it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.emulator import ENVIRONMENT
from bench.generator import SyntheticSend
from bench.runs import OURS, run_ingest
from bench.stream_batches import batching, deployed_batching
from tracker.models.ses import parse_record_body


@pytest.fixture(autouse=True)
def bench_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)


def test_a_send_at_a_few_thousand_events_per_second_fills_a_shard_for_the_whole_window() -> None:
    # 2,850 changes/s: the message's partition splits into 3 shards of 950/s; a 1 s window gathers
    # 950 records, under the batch size.
    model = batching(3000, 0.95, batch_size=1000, window=1)

    assert model.shards == 3
    assert model.per_shard == pytest.approx(950)
    assert model.fill_seconds == pytest.approx(1.0)
    assert model.whole_records == 950


def test_without_a_batching_window_a_batch_holds_what_arrives_between_two_polls() -> None:
    model = batching(3000, 0.95, batch_size=1000, window=0)

    assert model.fill_seconds == 0
    assert model.whole_records == 237  # 950/s x 0.25 s


def test_the_batch_size_caps_a_long_window_and_a_slow_send_fills_less() -> None:
    assert batching(3000, 0.95, batch_size=500, window=5).whole_records == 500
    assert batching(3000, 0.95, batch_size=500, window=5).fill_seconds == pytest.approx(500 / 950)
    assert batching(200, 1.0, batch_size=1000, window=1).whole_records == 200


@given(
    rate=st.integers(0, 50_000),
    changes=st.floats(0, 2),
    batch_size=st.integers(1, 10_000),
    window=st.integers(0, 300),
)
def test_a_batch_holds_at_least_one_record_and_never_more_than_the_batch_size(
    rate: int, changes: float, batch_size: int, window: int
) -> None:
    model = batching(rate, changes, batch_size=batch_size, window=window)

    assert 1 <= model.whole_records <= batch_size
    assert model.per_shard <= 1000


def test_the_deployed_model_reads_the_stacks_settings() -> None:
    model = deployed_batching(3000, 0.95)

    assert model.batch_size.found
    assert model.window.found
    assert "infra/projection.py" in model.batch_size.source
    assert (
        model.whole_records == batching(3000, 0.95, model.batch_size.value, model.window.value).whole_records
    )


def test_larger_projector_batches_count_the_same_with_fewer_invocations() -> None:
    send = SyntheticSend(90, seed=5)
    truth = send.truth(parse_record_body)
    indexes = list(range(send.recipients))

    small = run_ingest(OURS, send, send.specs, indexes, lambda: truth)
    large = run_ingest(OURS, send, send.specs, indexes, lambda: truth, projector_batch_size=300)

    assert small.check.ok, small.check.problems()
    assert large.check.ok, large.check.problems()
    assert max(b.records for b in small.projector_batches) <= 100
    assert max(b.records for b in large.projector_batches) > 100
    assert len(large.projector_batches) < len(small.projector_batches)
    assert sum(b.records for b in large.projector_batches) == sum(b.records for b in small.projector_batches)
