"""Cold start guard: each handler module imports only what its function needs (bench section 5
times it). One fresh interpreter per handler, with Powertools' Tracer active as in Lambda."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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
    "tracker.handlers.ingest": (
        "email_validator",
        "tracker.models.send",
        "tracker.models.api",
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
    # A send job is checked without pydantic; the idempotency utility is the API's.
    "tracker.handlers.sender": (
        "pydantic",
        "email_validator",
        "tracker.models.send",
        "aws_lambda_powertools.utilities.idempotency",
        "aws_lambda_powertools.utilities.data_classes",
    ),
}


def imported_by(module: str) -> set[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "functions"),
        "LAMBDA_TASK_ROOT": str(ROOT / "functions"),
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "delivery-tracker",
    }
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=str(ROOT)
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


@pytest.mark.parametrize("module", sorted(NOT_IN))
def test_handlers_import_nothing_their_function_never_needs(module: str) -> None:
    modules = imported_by(module)
    assert "aws_xray_sdk.core" in modules, "the Tracer is active, as in Lambda"
    unwanted = [
        name
        for name in (*NEVER, *NOT_IN[module])
        if any(m == name or m.startswith(name + ".") for m in modules)
    ]
    assert unwanted == []
