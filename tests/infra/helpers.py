"""Reading a synthesized template: references, functions, IAM statements, resource policies."""

from __future__ import annotations

from typing import Any

from tests.infra.conftest import Synthesized


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def ref_id(value: Any) -> str:
    """The logical id behind {"Ref": id} or {"Fn::GetAtt": [id, attr]}."""
    if "Ref" in value:
        return str(value["Ref"])
    return str(value["Fn::GetAtt"][0])


def function_by_handler(synth: Synthesized, handler: str) -> tuple[str, dict[str, Any]]:
    matches = [
        (k, v)
        for k, v in synth.resources("AWS::Lambda::Function").items()
        if v["Properties"]["Handler"] == handler
    ]
    assert len(matches) == 1, f"expected one function with handler {handler}"
    return matches[0]


def role_statements(synth: Synthesized, function: dict[str, Any]) -> list[dict[str, Any]]:
    """Every IAM statement that applies to the function's execution role."""
    role_id = ref_id(function["Properties"]["Role"])
    role = synth.json["Resources"][role_id]["Properties"]
    statements: list[dict[str, Any]] = []
    for policy in role.get("Policies", []):
        statements += policy["PolicyDocument"]["Statement"]
    for policy in synth.resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"].get("Roles", []):
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def actions_of(statements: list[dict[str, Any]]) -> set[str]:
    return {a for s in statements if s["Effect"] == "Allow" for a in as_list(s["Action"])}


def ses_arn(resource: str) -> dict[str, Any]:
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":ses:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                resource,
            ],
        ]
    }


def denies_insecure_transport(statements: list[dict[str, Any]], action: str) -> bool:
    return any(
        s["Effect"] == "Deny"
        and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        and action in as_list(s["Action"])
        and s["Principal"] in ("*", {"AWS": "*"})
        for s in statements
    )
