"""The cold-start part of the bench: the libraries' floors are measured beside the handlers and
shown against the goal, never judged by it."""

from __future__ import annotations

import pytest

from bench import coldstart
from bench.other_sections import cold_start_section
from bench.report import Goal
from bench.stack_floors import FLOORS, is_floor

HANDLER = "tracker.handlers.apple_ranges"
API_FLOOR = next(label for label in FLOORS if "REST resolver" in label)


def _timed(module: str, cpu_ms: float) -> coldstart.ImportTime:
    seconds = cpu_ms / 1000
    return coldstart.ImportTime(module, (seconds,) * 3, cpu_samples=(seconds,) * 3)


def _goal(*imports: coldstart.ImportTime) -> tuple[Goal, str]:
    goals: list[Goal] = []
    text = cold_start_section([_timed(coldstart.BASELINE, 100), *imports], runs=3, goals=goals)
    return goals[0], text


def test_a_floor_above_the_ratio_does_not_fail_the_goal_and_is_printed() -> None:
    goal, text = _goal(_timed(HANDLER, 140), _timed(API_FLOOR, 190))

    assert goal.met is True
    assert API_FLOOR in text
    assert "floor" not in goal.measured  # the goal line lists the handlers only


def test_a_slow_handler_fails_the_goal_and_the_reason_shows_the_floors() -> None:
    goal, _ = _goal(_timed(HANDLER, 160), _timed(API_FLOOR, 190))

    assert goal.met is False
    assert f"{API_FLOOR}: 1.90x" in goal.why


@pytest.mark.parametrize("label", sorted(FLOORS))
def test_every_floor_program_runs_in_a_fresh_interpreter(label: str) -> None:
    assert is_floor(label)
    measured = coldstart._once(FLOORS[label], coldstart.lambda_environment(), coldstart._CODE_PROBE)

    assert isinstance(measured, tuple), measured  # an error comes back as its last line
    wall, cpu = measured
    assert wall > 0
    assert cpu > 0
