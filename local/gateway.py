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
from tracker.api.auth import is_public
from tracker.domain.ids import TENANT_ID_PATTERN

log = logging.getLogger("local.gateway")

ApiHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
MAX_SNS_MESSAGE_BYTES = 256 * 1024  # SNS's message size limit: SES cannot publish a larger event either
LOCAL_ROUTES = frozenset({"/local/token", "/local/ses-events"})


class PublishError(Exception):
    """The topic did not take an SES event (the emulator is unreachable or refused it)."""


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
        server = ThreadingHTTPServer(("127.0.0.1", port), _request_handler(self))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, name="gateway", daemon=True).start()
        return server

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes, source_ip: str
    ) -> tuple[int, dict[str, str], bytes]:
        """The answer to one request, whatever goes wrong on the way: an error inside the gateway
        is a JSON 500 (an unreachable topic a 502), never a dropped connection."""
        try:
            return self._route(method, urlsplit(raw_path).path, raw_path, headers, body, source_ip)
        except PublishError:
            log.exception("could not publish an SES event to the topic")
            return _json_error(502, "bad_gateway", "the SES event could not be published to the SNS topic")
        except Exception:
            log.exception("the local gateway failed on %s %s", method, raw_path)
            return _json_error(500, "internal_error", "the local gateway failed on this request")

    def _route(
        self, method: str, path: str, raw_path: str, headers: dict[str, str], body: bytes, source_ip: str
    ) -> tuple[int, dict[str, str], bytes]:
        if path == "/health" and not self.ready.is_set():
            return 503, {"Content-Type": "application/json"}, json.dumps({"status": "starting"}).encode()
        if path in LOCAL_ROUTES and method != "POST":
            status, out_headers, payload = _json_error(
                405, "method_not_allowed", f"{path} answers POST only", field=None
            )
            return status, {**out_headers, "Allow": "POST"}, payload
        if path == "/local/token":
            return self._issue_token(body)
        if method == "GET" and self._static_root is not None and not _is_api_path(path):
            static = self._static(path)
            if static is not None:
                return static
        claims = self._tokens.verify(headers.get("Authorization") or headers.get("authorization"))
        if claims is None and not is_public(path):
            # API Gateway's Cognito authorizer answers before the Lambda runs.
            return _json_error(401, "unauthenticated", "a valid bearer token is required")
        if path == "/local/ses-events":
            return self._ses_event(body)
        try:
            text = body.decode("utf-8") if body else None
        except UnicodeDecodeError:
            # API Gateway hands a REST proxy integration the body as text: it must be UTF-8.
            return _json_error(400, "invalid_request", "the body is not UTF-8 text")
        event = api_gateway_event(
            method, raw_path, headers=headers, body=text, claims=claims, source_ip=source_ip
        )
        with self._invoke_lock:
            response = self._api_handler(event, LambdaContext(function_name="local-api"))
        out_headers = dict(response.get("headers") or {})
        for key, values in (response.get("multiValueHeaders") or {}).items():
            out_headers[key] = ", ".join(values)
        text_out = str(response.get("body") or "")
        return int(response["statusCode"]), out_headers, text_out.encode("utf-8")

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
        if len(message.encode("utf-8")) > MAX_SNS_MESSAGE_BYTES:
            return _json_error(
                413, "payload_too_large", "the SES event is over 256 KB, the largest message SNS publishes"
            )
        try:
            message_id = self._publish(message)
        except Exception as error:
            raise PublishError(str(error)) from error
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


def _request_handler(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    """HTTP in, ``gateway.handle`` between, a JSON answer out for every request (even one this
    server cannot parse, or one with a method it has never heard of)."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "delivery-tracker-local"
        protocol_version = "HTTP/1.1"  # keep-alive: a client does not connect for every request
        # Headers and body leave in two writes; with Nagle's algorithm the body would wait for
        # the client's delayed acknowledgement of the headers (~40 ms per request).
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s - %s", self.address_string(), format % args)

        def __getattr__(self, name: str) -> Any:
            if name.startswith("do_"):  # any method: the gateway decides what it allows
                return self._handle
            raise AttributeError(name)

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:  # noqa: ARG002
            """http.server's own errors (a malformed request line, headers too long), as JSON."""
            self.close_connection = True
            if (
                self.request_version == "HTTP/0.9"
            ):  # an unparsable request line: answer with headers all the same
                self.request_version = "HTTP/1.0"
            status = HTTPStatus(code)
            self._send(code, _error(status.phrase.lower().replace(" ", "_"), message or status.description))

        def _handle(self) -> None:
            body = self._body()
            if body is None:
                return
            status, headers, payload = gateway.handle(
                self.command, self.path, dict(self.headers.items()), body, self.client_address[0]
            )
            self._send(status, payload, headers)

        def _body(self) -> bytes | None:
            """The request body, or None once an error has been answered (the connection then
            closes: what is left of a refused body is never read)."""
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                self.close_connection = True
                self._send(411, _error("length_required", "send the body with a Content-Length"))
                return None
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if length < 0:
                self.close_connection = True
                self._send(400, _error("invalid_request", "the Content-Length is not a number of bytes"))
                return None
            if length > MAX_BODY_BYTES:
                self.close_connection = True
                self._send(413, _error("payload_too_large", "the body is over 10 MB, API Gateway's limit"))
                return None
            return self.rfile.read(length) if length else b""

        def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
            try:
                self.send_response(status)
                for key, value in (headers or {"Content-Type": "application/json"}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                if self.close_connection:
                    self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)
            except OSError:
                self.close_connection = True  # the client has gone: nobody to answer

    return Handler


# The API's paths: a GET of any other path is the dashboard's (web/, with index.html as fallback).
API_PREFIXES = (
    "/messages",
    "/attention",
    "/stats",
    "/invoices",
    "/customers",
    "/suppressions",
    "/unsubscribe/",
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


def _json_error(
    status: int, code: str, message: str, field: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, _error(code, message, field)


def _error(code: str, message: str, field: str | None = None) -> bytes:
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    return json.dumps({"error": error}).encode()
