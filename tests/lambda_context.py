"""The Lambda context the tests hand to handlers: local mode's, with a test function's name."""

from __future__ import annotations

from functools import partial

from local.lambda_runtime import LambdaContext

FakeLambdaContext = partial(
    LambdaContext,
    function_name="tracker-test",
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:tracker-test",
    remaining_ms=30_000,
)
