"""The handler strings in the template name real functions under functions/."""

from __future__ import annotations

import importlib

import pytest

from tests.infra.conftest import Synthesized
from tracker import constants as c

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


HANDLERS = [
    c.INGEST_HANDLER,
    c.PROJECTOR_HANDLER,
    c.SENDER_HANDLER,
    c.READ_API_HANDLER,
    c.SEND_API_HANDLER,
    c.APPLE_RANGES_HANDLER,
    c.EVENTS_HANDLER,
    c.WEBHOOK_FAILURES_HANDLER,
    c.EXPORT_HANDLER,
]
# The whole API in one function: local mode's gateway, the tests and the bench; never deployed.
LOCAL_ONLY = [c.API_HANDLER]


def test_template_handlers_are_the_constants(synth: Synthesized) -> None:
    handlers = {f["Properties"]["Handler"] for f in synth.resources("AWS::Lambda::Function").values()}
    assert handlers == set(HANDLERS)


@pytest.mark.parametrize("handler", HANDLERS + LOCAL_ONLY)
def test_handler_resolves_to_a_callable_in_the_functions_asset(handler: str) -> None:
    from infra.functions import FUNCTIONS_DIR

    module_name, _, attribute = handler.rpartition(".")
    module = importlib.import_module(module_name)
    assert module.__file__ is not None
    assert module.__file__.startswith(str(FUNCTIONS_DIR) + "/"), "the handler must come from the code asset"
    assert callable(getattr(module, attribute))


def test_every_function_gets_the_variables_its_handler_requires_at_cold_start(synth: Synthesized) -> None:
    from tracker.settings import REQUIRED

    functions = synth.resources("AWS::Lambda::Function").values()
    for function in functions:
        properties = function["Properties"]
        name = properties["Handler"].split(".")[-2]  # tracker.handlers.<name>.handler
        variables = properties["Environment"]["Variables"]
        missing = [names for names in REQUIRED[name] if not any(variables.get(n) for n in names)]
        assert missing == [], f"the {name} function would not start: {missing}"
    local_only = {handler.split(".")[-2] for handler in LOCAL_ONLY}
    assert {f["Properties"]["Handler"].split(".")[-2] for f in functions} == set(REQUIRED) - local_only


def test_every_function_is_traced_by_lambda_and_says_whether_the_x_ray_sdk_adds_subsegments(
    synth: Synthesized,
) -> None:
    for function in synth.resources("AWS::Lambda::Function").values():
        properties = function["Properties"]
        assert properties["TracingConfig"] == {"Mode": "Active"}
        assert properties["Environment"]["Variables"][c.ENV_SDK_TRACING] == "false"
