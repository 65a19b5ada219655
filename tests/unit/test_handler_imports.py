"""Cold start guard: each handler module imports only what its function needs (bench section 5
times it). One fresh interpreter per handler, in Lambda's environment (LAMBDA_TASK_ROOT set), with
the X-Ray SDK's tracing off as deployed by default, and on as ``sdkTracing=true`` deploys it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tracker import constants

ROOT = Path(__file__).resolve().parents[2]

# Loaded by none of the handlers at import: Powertools' batch utility and event source data classes
# (the handlers build the partial batch response), the OpenAPI models (only /docs and /openapi.json
# need them), X-Ray patches of libraries the functions never call.
NEVER = (
    "aws_lambda_powertools.utilities.batch",
    "aws_lambda_powertools.event_handler.openapi.models",
    "requests",
    "sqlite3",
    "httpx",
)
NOT_IN = {
    # Apple's refreshed ranges are read from S3 by the first bare-agent event, so no S3 client
    # (boto3.s3 is loaded when one is built) and no download code (the refresher's) at import.
    # SES events are parsed with msgspec: pydantic's import alone is ~0.4x of `import boto3`.
    "tracker.handlers.ingest": (
        "pydantic",
        "pydantic_core",
        "email_validator",
        "tracker.models.send",
        "tracker.models.api",
        "tracker.models.histories",
        "boto3.s3",
        "tracker.dal.apple_feed",
    ),
    # The refresher of Apple's ranges touches no table and validates no event.
    "tracker.handlers.apple_ranges": (
        "pynamodb",
        "pydantic",
        "tracker.models",
        "tracker.dal.models",
        "tracker.api",
        "boto3.s3",
    ),
    # email-validator is loaded by the routes that validate addresses, when first used; the send
    # stack (stores, SQS client, idempotency utility) when a send or suppression route first runs.
    "tracker.handlers.api": (
        "email_validator",
        "boto3",
        "aws_lambda_powertools.utilities.idempotency",
        "tracker.dal.outbound",
        "tracker.dal.messages",
        "tracker.dal.suppressions",
    ),
    # The deployed API's two functions: each imports neither the other's routes nor its stack.
    "tracker.handlers.read_api": (
        "email_validator",
        "boto3",
        "tracker.api.send_routes",
        "tracker.models.send",
        "aws_lambda_powertools.utilities.idempotency",
        "tracker.dal.outbound",
        "tracker.dal.messages",
        "tracker.dal.suppressions",
    ),
    "tracker.handlers.send_api": (
        "email_validator",
        "tracker.api.read_routes",
        "tracker.dal.queries",
        "tracker.logic.queries",
    ),
    # Status events are decoded from the stream's images and put with boto3: no API, no pydantic.
    "tracker.handlers.events": ("pydantic", "tracker.api", "tracker.models", "email_validator"),
    # The webhook DLQ's records become table items: no API, no pydantic, no engagement classifier.
    "tracker.handlers.webhook_failures": ("pydantic", "tracker.api", "tracker.models", "email_validator"),
    # The export worker builds its stores (S3, the read store) on its first export; it has no routes.
    "tracker.handlers.exporter": (
        "email_validator",
        "boto3.s3",
        "tracker.api",
        "tracker.models",
        "tracker.dal.queries",
        "aws_lambda_powertools.utilities.idempotency",
    ),
    # A send job is checked without pydantic; the idempotency utility is the API's.
    "tracker.handlers.sender": (
        "pydantic",
        "email_validator",
        "tracker.models.send",
        "aws_lambda_powertools.utilities.idempotency",
        "aws_lambda_powertools.utilities.data_classes",
        # The plain reasons and the attention queue are the API's and the projector's.
        "tracker.domain.reasons",
        "tracker.domain.attention",
    ),
}


# The draft stack and the message planning (tracker.domain.drafts, .messages) are the send API's and
# the sender's: a draft's limits, which every function's settings hold, live apart from them.
for _handler in (*NOT_IN, "tracker.handlers.projector"):
    if _handler != "tracker.handlers.sender":
        NOT_IN[_handler] = (*NOT_IN.get(_handler, ()), "tracker.domain.drafts", "tracker.domain.messages")
NOT_IN["tracker.handlers.sender"] += ("tracker.domain.drafts",)
# Only ingest classifies opens and clicks (and the refresher builds Apple's table): the others read
# stored verdicts, without the classifier's address tables and user-agent rules.
for _handler in NOT_IN:
    if _handler not in ("tracker.handlers.ingest", "tracker.handlers.apple_ranges"):
        NOT_IN[_handler] += ("tracker.domain.engagement.networks", "tracker.domain.engagement.user_agents")
# The stream's other consumers read its records without the projector's stores.
for _handler in ("tracker.handlers.events", "tracker.handlers.webhook_failures"):
    NOT_IN[_handler] += ("tracker.dal.projection", "tracker.logic.projector", "tracker.domain.attention")


def imported_by(module: str, then: str = "", sdk_tracing: bool = False) -> set[str]:
    """The modules loaded by importing ``module`` (and running ``then``) in a fresh interpreter."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "functions"),
        "LAMBDA_TASK_ROOT": str(ROOT / "functions"),
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "delivery-tracker",
        constants.ENV_SDK_TRACING: "true" if sdk_tracing else "false",
    }
    env.pop("POWERTOOLS_TRACE_DISABLED", None)  # as in Lambda: the Tracer patches when it is used
    code = f"import json, sys, {module}\n{then}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=str(ROOT)
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


@pytest.mark.parametrize("module", sorted(NOT_IN))
def test_handlers_import_nothing_their_function_never_needs(module: str) -> None:
    modules = imported_by(module)
    assert "aws_lambda_powertools.logging" in modules, "the handler module was imported"
    unwanted = [
        name
        for name in (*NEVER, *NOT_IN[module])
        if any(m == name or m.startswith(name + ".") for m in modules)
    ]
    assert unwanted == []


@pytest.mark.parametrize("module", sorted(NOT_IN))
def test_the_x_ray_sdk_is_loaded_only_when_sdk_tracing_is_on(module: str) -> None:
    assert not any(m.startswith("aws_xray_sdk") for m in imported_by(module))
    traced = imported_by(module, sdk_tracing=True)
    assert "aws_xray_sdk.core" in traced
    assert "aws_xray_sdk.ext.botocore.patch" in traced, "botocore calls get subsegments"
    assert [name for name in NEVER if name in traced] == [], "and nothing patch_all would have loaded"


# What each API function's app holds once built (its first request builds it): still none of the
# other function's routes.
BUILT_WITHOUT = {
    "tracker.handlers.read_api": (
        "tracker.api.send_routes",
        "tracker.models.send",
        "tracker.logic.creation",
        "tracker.dal.exports",  # the export service is built by the first export request
    ),
    "tracker.handlers.send_api": (
        "tracker.api.read_routes",
        "tracker.dal.queries",
        "tracker.logic.queries",
        "tracker.dal.exports",
    ),
}


@pytest.mark.parametrize("module", sorted(BUILT_WITHOUT))
def test_each_api_function_builds_its_app_without_the_other_functions_routes(module: str) -> None:
    modules = imported_by(module, then=f"{module}.default_app()")
    assert "tracker.api.app" in modules
    assert [name for name in BUILT_WITHOUT[module] if name in modules] == []


def _after_import(module: str, in_lambda: bool) -> dict[str, int]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "functions"),
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "delivery-tracker",
    }
    env.pop("LAMBDA_TASK_ROOT", None)
    if in_lambda:
        env["LAMBDA_TASK_ROOT"] = str(ROOT / "functions")
    code = (
        f"import gc, json, {module}\n"
        "print(json.dumps({'enabled': gc.isenabled(), 'frozen': gc.get_freeze_count(),"
        " 'garbage': gc.collect()}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=str(ROOT)
    )
    found: dict[str, int] = json.loads(result.stdout.splitlines()[-1])
    return found


# Every deployed entry point: one that forgot cold_start_done() would run with the collector off.
HANDLER_MODULES = sorted(
    {value.rpartition(".")[0] for name, value in vars(constants).items() if name.endswith("_HANDLER")}
)


@pytest.mark.parametrize("module", HANDLER_MODULES)
def test_in_lambda_a_handler_freezes_what_its_import_built_and_collects_again(module: str) -> None:
    after = _after_import(module, in_lambda=True)
    assert after["enabled"] == 1, "the collector is back on once the module has loaded"
    assert after["frozen"] > 10_000, "the import's objects are in the permanent generation"


def test_outside_lambda_importing_a_handler_leaves_the_collector_alone() -> None:
    after = _after_import("tracker.handlers.ingest", in_lambda=False)
    assert (after["enabled"], after["frozen"]) == (1, 0)
