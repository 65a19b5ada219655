"""The handler strings in the template name real functions under functions/."""

from __future__ import annotations

import importlib

import pytest

from tests.infra.conftest import Synthesized
from tracker import constants as c

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


def test_template_handlers_are_the_constants(synth: Synthesized) -> None:
    handlers = {f["Properties"]["Handler"] for f in synth.resources("AWS::Lambda::Function").values()}
    assert handlers == {c.INGEST_HANDLER, c.SENDER_HANDLER, c.API_HANDLER}


@pytest.mark.parametrize("handler", [c.INGEST_HANDLER, c.SENDER_HANDLER, c.API_HANDLER])
def test_handler_resolves_to_a_callable_in_the_functions_asset(handler: str) -> None:
    from infra.functions import FUNCTIONS_DIR

    module_name, _, attribute = handler.rpartition(".")
    module = importlib.import_module(module_name)
    assert module.__file__ is not None
    assert module.__file__.startswith(str(FUNCTIONS_DIR) + "/"), "the handler must come from the code asset"
    assert callable(getattr(module, attribute))
