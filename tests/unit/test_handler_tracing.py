"""The handlers' tracing switch: unchanged handlers under Lambda's active tracing alone, Powertools'
Tracer around them when the function's SDK_TRACING is true."""

from __future__ import annotations

from typing import Any

import pytest

from tracker import constants
from tracker.handlers.tracing import sdk_tracing, traced


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    if event.get("fail"):
        raise ValueError("refused")
    return {"echo": event["value"]}


@pytest.mark.parametrize("value", [None, "", "false", "no", "1", "yes"])
def test_without_sdk_tracing_the_handler_is_left_as_it_is(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv(constants.ENV_SDK_TRACING, raising=False)
    else:
        monkeypatch.setenv(constants.ENV_SDK_TRACING, value)
    assert not sdk_tracing()
    assert traced()(handler) is handler


@pytest.mark.parametrize("value", ["true", "TRUE", " True "])
def test_with_sdk_tracing_the_tracer_wraps_the_handler_and_keeps_its_answers_and_errors(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(constants.ENV_SDK_TRACING, value)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")  # no X-Ray daemon here
    wrapped = traced()(handler)
    assert wrapped is not handler
    assert wrapped.__wrapped__ is handler  # type: ignore[attr-defined]
    assert wrapped({"value": 7}, None) == {"echo": 7}
    with pytest.raises(ValueError, match="refused"):
        wrapped({"fail": True}, None)
