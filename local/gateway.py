"""A local stand-in for API Gateway: HTTP in, API Gateway (REST proxy) events with authorizer
claims out, the same API handler in between.

It also serves the local-only routes `/local/token` (sign-in) and `/local/ses-events` (inject an
SES event through the real topic), and the dashboard's static files when they are built.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from local.lambda_runtime import LambdaContext, api_gateway_event
from local.tokens import LocalTokens
from tracker.domain.ids import TENANT_ID_PATTERN

log = logging.getLogger("local.gateway")

ApiHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit


class Gateway:
    def __init__(
        self,
        api_handler: ApiHandler,
        tokens: LocalTokens,
        publish_ses_event: Callable[[str], str],
        static_root: Path | None = None,
    ) -> None:
        self._api_handler = api_handler
        self._tokens = tokens
        self._publish = publish_ses_event
        self._static_root = static_root
        self.ready = threading.Event()
        # One request at a time through the handler, like one Lambda container: the resolver
        # keeps the current event on the instance.
        self._invoke_lock = threading.Lock()

    def serve(self, port: int) -> ThreadingHTTPServer:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "delivery-tracker-local"
            protocol_version = "HTTP/1.1"  # keep-alive: a client does not connect for every request
            # Headers and body leave in two writes; with Nagle's algorithm the body would wait for
            # the client's delayed acknowledgement of the headers (~40 ms per request).
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("%s - %s", self.address_string(), format % args)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY_BYTES:
                    self._send(
                        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                        _error("payload_too_large", "the body is over 10 MB"),
                    )
                    return
                body = self.rfile.read(length) if length else b""
                status, headers, payload = gateway.handle(
                    self.command, self.path, dict(self.headers.items()), body, self.client_address[0]
                )
                self._send(status, payload, headers)

            def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                headers = headers or {"Content-Type": "application/json"}
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle  # noqa: N815

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, name="gateway", daemon=True).start()
        return server

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes, source_ip: str
    ) -> tuple[int, dict[str, str], bytes]:
        path = urlsplit(raw_path).path
        if path == "/health" and not self.ready.is_set():
            return 503, {"Content-Type": "application/json"}, json.dumps({"status": "starting"}).encode()
        if path == "/local/token" and method == "POST":
            return self._issue_token(body)
        if method == "GET" and self._static_root is not None and not _is_api_path(path):
            static = self._static(path)
            if static is not None:
                return static
        claims = self._tokens.verify(headers.get("Authorization") or headers.get("authorization"))
        if path == "/local/ses-events" and method == "POST":
            if claims is None:
                return (
                    401,
                    {"Content-Type": "application/json"},
                    _error("unauthenticated", "a valid bearer token is required"),
                )
            return self._ses_event(body)
        if path != "/health" and claims is None:
            # API Gateway's Cognito authorizer answers before the Lambda runs.
            return (
                401,
                {"Content-Type": "application/json"},
                _error("unauthenticated", "a valid bearer token is required"),
            )
        event = api_gateway_event(
            method,
            raw_path,
            headers=headers,
            body=body.decode("utf-8") if body else None,
            claims=claims,
            source_ip=source_ip,
        )
        with self._invoke_lock:
            response = self._api_handler(event, LambdaContext(function_name="local-api"))
        out_headers = dict(response.get("headers") or {})
        for key, values in (response.get("multiValueHeaders") or {}).items():
            out_headers[key] = ", ".join(values)
        payload = response.get("body") or ""
        return int(response["statusCode"]), out_headers, payload.encode("utf-8")

    def _issue_token(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        try:
            tenant = json.loads(body or b"{}").get("tenant_id")
        except (ValueError, AttributeError):
            tenant = None
        if not isinstance(tenant, str) or not TENANT_ID_PATTERN.fullmatch(tenant):
            return (
                400,
                {"Content-Type": "application/json"},
                _error("invalid_request", "tenant_id: 1-64 letters, digits, '_' or '-'", field="tenant_id"),
            )
        token = self._tokens.issue(tenant)
        return 200, {"Content-Type": "application/json"}, json.dumps({"token": token}).encode()

    def _ses_event(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        try:
            document = json.loads(body)
        except ValueError:
            return (
                400,
                {"Content-Type": "application/json"},
                _error("invalid_request", "the body is not JSON"),
            )
        if (
            isinstance(document, dict)
            and document.get("Type") == "Notification"
            and isinstance(document.get("Message"), str)
        ):
            message = document["Message"]
        elif isinstance(document, dict) and ("eventType" in document or "notificationType" in document):
            message = json.dumps(document)
        else:
            return (
                400,
                {"Content-Type": "application/json"},
                _error(
                    "invalid_request",
                    "expected an SES event record (eventType/notificationType) or an SNS notification",
                ),
            )
        message_id = self._publish(message)
        return 202, {"Content-Type": "application/json"}, json.dumps({"message_id": message_id}).encode()

    def _static(self, path: str) -> tuple[int, dict[str, str], bytes] | None:
        assert self._static_root is not None
        root = self._static_root.resolve()
        candidate = (root / path.lstrip("/")).resolve()
        if not candidate.is_relative_to(root):
            return None
        if candidate.is_dir():
            candidate = candidate / "index.html"
        if not candidate.is_file():
            candidate = root / "index.html"  # single-page app: unknown paths load the app
            if not candidate.is_file():
                return None
        content_type = mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
        return 200, {"Content-Type": content_type, "Cache-Control": "no-cache"}, candidate.read_bytes()


API_PREFIXES = (
    "/messages",
    "/invoices",
    "/customers",
    "/suppressions",
    "/health",
    "/openapi.json",
    "/docs",
    "/local/",
)


def _is_api_path(path: str) -> bool:
    return any(
        path == prefix or path.startswith(prefix.rstrip("/") + "/") or path == prefix.rstrip("/")
        for prefix in API_PREFIXES
    )


def _error(code: str, message: str, field: str | None = None) -> bytes:
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    return json.dumps({"error": error}).encode()
