"""How the handlers trace: Lambda's active tracing always, the X-Ray SDK's subsegments on request.

Every function runs with active tracing (infra.functions), so X-Ray records each invocation's
segment (initialization, invocation, overhead) and links it to the API Gateway request or queue
message that caused it, with no code in the function. Powertools' Tracer adds subsegments from
inside: the handler (cold start annotation, the error that escaped it) and each botocore call
(DynamoDB, SES, SQS, S3). It is built on the AWS X-Ray SDK for Python, which AWS put in maintenance
mode on 2026-02-25 (security fixes only; end of support 2027-02-25, with OpenTelemetry as the
recommended successor), and loading it is ~23 ms of CPU at every cold start (~0.15x of
``import boto3``; README "Benchmarks"). So the subsegments are opt-in: the context value
``sdkTracing=true`` sets ``SDK_TRACING=true`` in every function, and only then do the handlers
import the SDK and wrap themselves in the Tracer, patching exactly ``TRACED_MODULES``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar, cast

from tracker import constants

Handler = TypeVar("Handler", bound=Callable[..., Any])

# Everything the handlers call goes through botocore; X-Ray's pynamodb patch adds PynamoDB's own
# DynamoDB subsegments. ``Tracer()`` without ``patch_modules`` would call X-Ray's ``patch_all``,
# which imports and patches every library it supports that happens to be importable (``requests``,
# ``sqlite3``, ``httpx``, database drivers, ...): the same subsegments, after importing the rest.
TRACED_MODULES = ("botocore", "pynamodb")


def sdk_tracing() -> bool:
    """Whether this function records X-Ray SDK subsegments (its ``SDK_TRACING`` variable)."""
    return os.environ.get(constants.ENV_SDK_TRACING, "").strip().lower() == "true"


def traced(patch_modules: tuple[str, ...] = TRACED_MODULES) -> Callable[[Handler], Handler]:
    """The handler as Lambda should run it: unchanged under active tracing alone, or wrapped in
    Powertools' ``capture_lambda_handler`` (its modules patched) when SDK tracing is on."""

    def decorate(handler: Handler) -> Handler:
        if not sdk_tracing():
            return handler
        from aws_lambda_powertools import Tracer

        return cast(Handler, Tracer(patch_modules=patch_modules).capture_lambda_handler(handler))

    return decorate
