"""Synthesizes the CDK app once per test session (jsii start-up and synthesis take seconds).

Tests use the Python API (aws_cdk.App + assertions), never the cdk CLI, and need no AWS account.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Node 20 works with this aws-cdk-lib; jsii's end-of-life banner would only clutter the output.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")

ROOT = Path(__file__).resolve().parents[2]

# Context of the main synthesized stack: every optional feature on, to be checked too.
SENDER_ADDRESS = "billing@acme.example"
SES_IDENTITY = "acme.example"
FRONTEND_ORIGIN = "https://app.acme.example"
ALARM_EMAIL = "ops@acme.example"
TEST_CONTEXT = {
    "senderAddress": SENDER_ADDRESS,
    "sesIdentity": SES_IDENTITY,
    "frontendOrigin": FRONTEND_ORIGIN,
    "alarmEmail": ALARM_EMAIL,
    "eventLogRetentionDays": "365",
}


def cdk_json_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
    return context


@dataclass
class Synthesized:
    app: Any  # aws_cdk.App
    stack: Any  # infra.stack.DeliveryTrackerStack
    template: Any  # aws_cdk.assertions.Template
    json: dict[str, Any]

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.json["Resources"].items() if v["Type"] == resource_type}

    def logical_id(self, construct: Any) -> str:
        from aws_cdk import Stack

        return str(Stack.of(construct).get_logical_id(construct.node.default_child))


def synthesize(tmp: Path, extra_context: dict[str, Any]) -> Synthesized:
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from app import build_app

    context = {
        **cdk_json_context(),
        # Reference assets in place instead of copying the ~40 MB layer into the output folder.
        "aws:cdk:disable-asset-staging": True,
        "aws:cdk:enable-asset-metadata": True,
        **extra_context,
    }
    app, stack = build_app(cdk.App(context=context, outdir=str(tmp)))
    template = Template.from_stack(stack)
    return Synthesized(app=app, stack=stack, template=template, json=dict(template.to_json()))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Make `--dist loadgroup` group again under pytest 9.

    pytest-xdist 3.8 marks a grouped test by assigning `item._nodeid = "<id>@<group>"`, but pytest 9
    keeps node ids in `item._id`, so the suffix is lost and every worker synthesizes the app.
    This restores the suffix for tests marked `xdist_group` (a no-op once xdist does it itself).
    """
    if not config.getoption("loadgroup", default=False):
        return
    try:
        from _pytest.nodeid import NodeId
    except ImportError:  # pytest < 9: xdist's own hook works
        return
    for item in items:
        groups = sorted(
            {
                str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                for m in item.iter_markers("xdist_group")
            }
        )
        suffix = "@" + "_".join(groups)
        if groups and not item.nodeid.endswith(suffix) and hasattr(item, "_id"):
            item._id = NodeId.parse(item.nodeid + suffix)


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(tmp_path_factory.mktemp("cdk-out"), TEST_CONTEXT)
