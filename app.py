#!/usr/bin/env python3
"""CDK app entry point (`cdk synth`, `cdk deploy`; see docs/deploy.md).

Context values (docs/deploy.md, "Context values"): senderAddress and sesIdentity are required;
stage, frontendOrigin, existingUserPoolId, alarmEmail, messageRetentionDays, recipientRetentionDays (formerly eventLogRetentionDays),
contentRetentionDays, attentionStuckHours, web,
webAuthDomainPrefix and the table throughput values are optional.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
# The handlers' package (names shared with the stack) lives in functions/.
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

import aws_cdk as cdk  # noqa: E402

from infra.nag import apply_nag, suppress_accepted_findings  # noqa: E402
from infra.settings import SettingsError, settings_from_context  # noqa: E402
from infra.stack import DeliveryTrackerStack  # noqa: E402


def cdk_json_context() -> dict[str, Any]:
    """The feature flags and defaults of cdk.json. The cdk CLI passes them itself; `python app.py`
    (make synth) gets the same template by using them as defaults (CLI context still wins)."""
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
    return context


def build_app(app: cdk.App | None = None) -> tuple[cdk.App, DeliveryTrackerStack]:
    if app is None:
        app = cdk.App(context=cdk_json_context(), outdir=os.environ.get("CDK_OUTDIR", str(ROOT / "cdk.out")))
    settings = settings_from_context(app.node)
    stack = DeliveryTrackerStack(
        app,
        settings.stack_name,
        settings=settings,
        description="Email and invoice delivery tracker: SES events -> DynamoDB -> HTTP API",
        # Environment-agnostic: no lookups, so synth needs no AWS account. `cdk deploy` deploys to
        # the account and region of the CLI credentials (CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION).
    )
    apply_nag(app)
    suppress_accepted_findings(stack)
    return app, stack


if __name__ == "__main__":
    try:
        built, stack = build_app()
    except SettingsError as error:
        # A clear one-line message instead of a traceback: the operator fixes a -c value.
        sys.exit(f"error: {error}")
    assembly = built.synth()
    print(f"synthesized {stack.stack_name} into {assembly.directory}", file=sys.stderr)
