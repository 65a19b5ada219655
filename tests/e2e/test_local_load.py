"""A small `make localload` in the suite: local mode under a shuffled, duplicated SES event load.

It asserts behaviour, never speed (the machine is shared): every event applied exactly once
(each recipient's status and open count and the message's counts equal the model answer, the
events queue drained), the send reaches `sent`, and Ctrl+C stops local mode cleanly. The
figures are printed (`make localload` states them beside the goals).
"""

from __future__ import annotations

import pytest

from bench.localload import LoadPlan, report, run_load

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def test_a_shuffled_duplicated_load_is_applied_exactly_and_ctrl_c_stops_cleanly() -> None:
    plan = LoadPlan(recipients=30, events=250, send=40, posters=3, timeout_seconds=300.0)
    result = run_load(plan)
    print(report(result))
    assert result.problems == [], result.output[-3000:]
    assert result.posted == 250
    assert result.duplicates > 0  # the stream does hold second deliveries of the same events
    assert result.exit_code == 0
    assert result.peak_rss_bytes > 0
    assert "Traceback" not in result.output, result.output[-3000:]


def test_ctrl_c_in_the_middle_of_a_large_send_stops_local_mode() -> None:
    from bench.local_process import LocalProcess
    from bench.localload import Api

    local = LocalProcess()
    try:
        local.wait_healthy(240.0)
        api = Api(local.base_url)
        message_id = api.send(500, "stopped mid-send")
        # Still under way: counts are a projection that may not have met the message yet (all
        # zero), so the check is that fewer than all 500 have left the queue, not that some are queued.
        counts = api.counts(message_id)
        assert sum(n for status, n in counts.items() if status != "queued") < 500, counts
    finally:
        _, code = local.interrupt(timeout=120.0)  # generous: only a hung stop takes this long
    assert code == 0, local.output[-3000:]
    assert "stopping..." in local.output
