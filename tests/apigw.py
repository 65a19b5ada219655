"""Builders of API Gateway (REST, proxy integration) events with Cognito authorizer claims."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlsplit

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
) -> dict[str, Any]:
    """``url`` is path plus optional query string, e.g. ``/messages?limit=2``.

    ``tenant_id=None`` leaves out the authorizer (an unauthenticated request)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    single = dict(query) or None
    multi: dict[str, list[str]] = {}
    for key, value in query:
        multi.setdefault(key, []).append(value)
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    request_context: dict[str, Any] = {
        "resourcePath": resource or parts.path,
        "httpMethod": method,
        "path": f"/prod{parts.path}",
        "stage": "prod",
        "requestId": str(uuid.uuid4()),
        "identity": {"sourceIp": "198.51.100.7", "userAgent": "pytest"},
        "accountId": "123456789012",
        "apiId": "abcdef1234",
    }
    if claims is not None or tenant_id is not None:
        request_context["authorizer"] = {
            "claims": claims if claims is not None else claims_for(tenant_id or "")
        }
    return {
        "resource": resource or parts.path,
        "path": parts.path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": single,
        "multiValueQueryStringParameters": multi or None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": request_context,
        "body": None if body is None else (body if isinstance(body, str) else json.dumps(body)),
        "isBase64Encoded": False,
    }


def json_body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None
