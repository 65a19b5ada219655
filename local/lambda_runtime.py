"""What Lambda hands a handler, built locally: the context object and the events of the two event
sources we use (API Gateway's REST proxy integration and SQS). Local mode invokes the real handlers
with these; the tests build their events with them too, so both speak the same shapes."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

REGION = "us-east-1"
ACCOUNT_ID = "000000000000"


@dataclass
class LambdaContext:
    """The attributes and method Powertools and our handlers read from Lambda's context."""

    function_name: str = "local"
    memory_limit_in_mb: int = 256
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    invoked_function_arn: str = ""
    log_stream_name: str = "local"
    remaining_ms: int = 60_000

    def __post_init__(self) -> None:
        if not self.invoked_function_arn:
            self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def api_gateway_event(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: str | None = None,
    claims: Mapping[str, Any] | None = None,
    source_ip: str = "127.0.0.1",
    stage: str = "local",
    path_parameters: dict[str, str] | None = None,
    resource: str | None = None,
    query_string: str | None = None,
) -> dict[str, Any]:
    """A REST API proxy-integration event for ``url`` (path plus optional query string); with
    ``claims``, as API Gateway's Cognito authorizer passes them (None: no authorizer context).

    API Gateway hands the path over URL-decoded, so it may hold any character, '#' and '?'
    included: a caller with a decoded path passes it as ``url`` and the query separately as
    ``query_string``, and nothing in the path is taken for a query or a fragment."""
    if query_string is None:
        parts = urlsplit(url)
        path, query_text = parts.path, parts.query
    else:
        path, query_text = url, query_string
    query = parse_qsl(query_text, keep_blank_values=True)
    multi: dict[str, list[str]] = {}
    for key, value in query:
        multi.setdefault(key, []).append(value)
    all_headers = dict(headers or {})
    request_context: dict[str, Any] = {
        "resourcePath": resource or path,
        "httpMethod": method,
        "path": f"/{stage}{path}",
        "stage": stage,
        "requestId": str(uuid.uuid4()),
        "identity": {"sourceIp": source_ip, "userAgent": all_headers.get("User-Agent", "")},
        "accountId": ACCOUNT_ID,
        "apiId": "local",
    }
    if claims is not None:
        request_context["authorizer"] = {"claims": dict(claims)}
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {key: [value] for key, value in all_headers.items()},
        "queryStringParameters": dict(query) or None,
        "multiValueQueryStringParameters": multi or None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": request_context,
        "body": body,
        "isBase64Encoded": False,
    }


def sqs_lambda_record(
    message_id: str,
    body: str,
    *,
    queue_arn: str,
    receipt_handle: str | None = None,
    attributes: Mapping[str, Any] | None = None,
    md5_of_body: str | None = None,
) -> dict[str, Any]:
    """One record of an SQS event as the event source mapping builds it."""
    return {
        "messageId": message_id,
        "receiptHandle": receipt_handle or f"handle-{message_id}",
        "body": body,
        "attributes": {key: str(value) for key, value in (attributes or {}).items()},
        "messageAttributes": {},
        "md5OfBody": md5_of_body or hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


def sqs_lambda_record_of(message: Mapping[str, Any], queue_arn: str) -> dict[str, Any]:
    """The record for a message as SQS ReceiveMessage returned it."""
    return sqs_lambda_record(
        message["MessageId"],
        message["Body"],
        queue_arn=queue_arn,
        receipt_handle=message["ReceiptHandle"],
        attributes=message.get("Attributes", {}),
        md5_of_body=message.get("MD5OfBody"),
    )
