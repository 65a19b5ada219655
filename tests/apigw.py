"""Builders of API Gateway (REST, proxy integration) events with Cognito authorizer claims."""

from __future__ import annotations

import json
from typing import Any

from local.lambda_runtime import api_gateway_event
from tracker import constants


def claims_for(tenant_id: str, subject: str = "user-1") -> dict[str, str]:
    """The claims API Gateway's Cognito user pool authorizer passes for a user of ``tenant_id``."""
    return {
        "sub": subject,
        "cognito:username": subject,
        constants.TENANT_CLAIM: tenant_id,
        "token_use": "id",
    }


def api_event(
    method: str,
    url: str,
    *,
    tenant_id: str | None = "tenant-a",
    body: Any = None,
    headers: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
    resource: str | None = None,
    claims: dict[str, str] | None = None,
    query_string: str | None = None,
) -> dict[str, Any]:
    """``url`` is path plus optional query string, e.g. ``/messages?limit=2``, or, with
    ``query_string``, the decoded path alone.

    ``tenant_id=None`` leaves out the authorizer (an unauthenticated request)."""
    if claims is None and tenant_id is not None:
        claims = claims_for(tenant_id)
    return api_gateway_event(
        method,
        url,
        headers={"Content-Type": "application/json", **(headers or {})},
        body=None if body is None else (body if isinstance(body, str) else json.dumps(body)),
        claims=claims,
        source_ip="198.51.100.7",
        stage="prod",
        path_parameters=path_parameters,
        resource=resource,
        query_string=query_string,
    )


def json_body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None
