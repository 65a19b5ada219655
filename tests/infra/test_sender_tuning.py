"""The sender's throughput as context values: concurrency, job size, calls in flight, a rate cap."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.infra.conftest import SENDER_ADDRESS, SES_IDENTITY, Synthesized, synthesize
from tests.infra.helpers import as_list, function_by_handler, role_statements
from tests.infra.test_settings import REQUIRED, settings
from tracker import constants as c

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


def sender_mapping(synth: Synthesized) -> dict[str, Any]:
    sender_id, _ = function_by_handler(synth, c.SENDER_HANDLER)
    (mapping,) = [
        m["Properties"]
        for m in synth.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": sender_id}
    ]
    return mapping


def test_defaults() -> None:
    tuning = settings(**REQUIRED).sender
    assert (tuning.max_concurrency, tuning.job_size, tuning.parallel_calls, tuning.send_rate) == (
        c.DEFAULT_SENDER_CONCURRENCY,
        c.DEFAULT_SEND_JOB_SIZE,
        c.DEFAULT_SEND_PARALLEL_CALLS,
        None,
    )


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({c.CONTEXT_SENDER_MAX_CONCURRENCY: "1"}, "senderMaxConcurrency must be between 2 and 1000"),
        ({c.CONTEXT_SEND_JOB_SIZE: "101"}, "sendJobSize must be between 1 and 100"),
        ({c.CONTEXT_SEND_PARALLEL_CALLS: "0"}, "sendParallelCalls must be between 1 and 64"),
        ({c.CONTEXT_SEND_RATE: "fast"}, "sendRate must be a number of sends per second"),
        ({c.CONTEXT_SEND_RATE: "0"}, "sendRate must be above 0"),
        # 14/s over 4 senders is 3.5/s each: 70 recipients in an invocation's 20 s, not 100.
        ({c.CONTEXT_SEND_RATE: "14", c.CONTEXT_SEND_JOB_SIZE: "100"}, r"at most 70"),
    ],
)
def test_invalid_values_are_refused_naming_the_value(context: dict[str, str], message: str) -> None:
    from infra.settings import SettingsError

    with pytest.raises(SettingsError, match=message):
        settings(**REQUIRED, **context)


def test_the_default_stack_paces_to_the_accounts_rate(synth: Synthesized) -> None:
    _, sender = function_by_handler(synth, c.SENDER_HANDLER)
    env = sender["Properties"]["Environment"]["Variables"]
    assert env[c.ENV_SENDER_CONCURRENCY] == str(c.DEFAULT_SENDER_CONCURRENCY)
    assert env[c.ENV_SEND_PARALLEL_CALLS] == str(c.DEFAULT_SEND_PARALLEL_CALLS)
    assert c.ENV_SEND_RATE not in env, "the account's rate, from GetAccount"
    _, send_api = function_by_handler(synth, c.SEND_API_HANDLER)
    assert send_api["Properties"]["Environment"]["Variables"][c.ENV_SEND_CHUNK_SIZE] == str(
        c.DEFAULT_SEND_JOB_SIZE
    )
    mapping = sender_mapping(synth)
    # Every sender paces to rate / N: N must be the mapping's maximum concurrency.
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": c.DEFAULT_SENDER_CONCURRENCY}
    assert mapping["BatchSize"] == 1
    actions = {a for s in role_statements(synth, sender) for a in as_list(s["Action"])}
    assert "ses:GetAccount" in actions


def test_the_sender_follows_the_context(tmp_path: Path) -> None:
    tuned = synthesize(
        tmp_path,
        {
            "senderAddress": SENDER_ADDRESS,
            "sesIdentity": SES_IDENTITY,
            c.CONTEXT_SENDER_MAX_CONCURRENCY: "10",
            c.CONTEXT_SEND_JOB_SIZE: "100",
            c.CONTEXT_SEND_PARALLEL_CALLS: "32",
            c.CONTEXT_SEND_RATE: "2000",
        },
    )
    _, sender = function_by_handler(tuned, c.SENDER_HANDLER)
    env = sender["Properties"]["Environment"]["Variables"]
    assert (env[c.ENV_SENDER_CONCURRENCY], env[c.ENV_SEND_PARALLEL_CALLS], env[c.ENV_SEND_RATE]) == (
        "10",
        "32",
        "2000",
    )
    _, send_api = function_by_handler(tuned, c.SEND_API_HANDLER)
    assert send_api["Properties"]["Environment"]["Variables"][c.ENV_SEND_CHUNK_SIZE] == "100"
    assert sender_mapping(tuned)["ScalingConfig"] == {"MaximumConcurrency": 10}
    actions = {a for s in role_statements(tuned, sender) for a in as_list(s["Action"])}
    assert "ses:GetAccount" not in actions, "a capped rate needs no GetAccount"
