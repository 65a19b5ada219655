"""The AWS emulator: moto's server, in a child process of local mode.

In its own process moto's work runs on the second core, beside the handlers, instead of sharing
one interpreter lock with them. Connections are served by threads and kept alive (HTTP/1.1: an
SDK client reuses its connections instead of connecting for every request); requests reach moto
one at a time, because moto's backends are not thread-safe (and real AWS services serialize per
item anyway). Pollers therefore use short polls, never long polls: a long poll would hold the
emulator. moto runs with the shortcuts of ``local.moto_shortcuts`` in its bookkeeping (the same
answers and stored items, at a cost proportional to the request instead of the table).

The child ignores Ctrl+C (the terminal sends it to the whole process group; local mode stops the
emulator last, after the pollers) and exits when local mode ends, however it ends: it watches
its standard input, a pipe from local mode that closes when local mode's process is gone.
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

REGION = "us-east-1"
ROOT = Path(__file__).resolve().parent.parent
HOP_BY_HOP = frozenset({"connection", "content-length", "keep-alive", "transfer-encoding"})
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class WsgiServer(ThreadingHTTPServer):
    """A WSGI app behind keep-alive HTTP/1.1 connections, one request at a time into the app."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], app: WsgiApp) -> None:
        super().__init__(address, WsgiRequestHandler)
        self.app = app
        self.app_lock = threading.Lock()


class WsgiRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The headers and the body leave in two writes; with Nagle's algorithm the body would wait
    # for the client's delayed acknowledgement of the headers (~40 ms per request).
    disable_nagle_algorithm = True
    server: WsgiServer

    def log_message(self, format: str, *args: Any) -> None:
        """moto's own answers say what happened; a line per request would drown local mode's output."""

    def _serve(self) -> None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.send_error(411, "a request body needs a Content-Length here")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        answer: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:  # noqa: ARG001
            answer["status"], answer["headers"] = status, headers
            return lambda data: answer.setdefault("written", []).append(data)

        with self.server.app_lock:
            chunks = self.server.app(self._environ(body), start_response)
            try:
                payload = b"".join([*answer.get("written", []), *chunks])
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
        code, _, reason = str(answer["status"]).partition(" ")
        self.send_response(int(code), reason)
        for name, value in answer["headers"]:
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve  # noqa: N815

    def _environ(self, body: bytes) -> dict[str, Any]:
        path, _, query = self.path.partition("?")
        host, port = self.server.server_address[:2]
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            # PEP 3333: the decoded path, its UTF-8 bytes as latin-1 characters.
            "PATH_INFO": unquote(path).encode("utf-8").decode("latin-1"),
            "QUERY_STRING": query,
            "REQUEST_URI": self.path,
            "RAW_URI": self.path,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "SERVER_NAME": str(host),
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name in set(self.headers.keys()):
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[key] = ",".join(self.headers.get_all(name) or [])
        return environ


def serve(port: int, shortcuts: bool = True) -> None:
    """The child process: moto's server on ``port`` until local mode's pipe closes."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from local import moto_shortcuts

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with ExitStack() as patches:
        if shortcuts:
            patches.enter_context(moto_shortcuts.installed())
        server = WsgiServer(("127.0.0.1", port), DomainDispatcherApplication(create_backend_app))
        threading.Thread(target=_exit_when_parent_is_gone, daemon=True).start()
        server.serve_forever()


def _exit_when_parent_is_gone() -> None:
    sys.stdin.buffer.read()  # returns at end of file: local mode closed the pipe or is gone
    os._exit(0)


@dataclass
class Emulator:
    endpoint: str
    process: subprocess.Popen[bytes]

    def stop(self, timeout: float = 2.0) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()  # the child exits at once
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout)


def start_emulator(port: int | None = None, shortcuts: bool = True, timeout: float = 60.0) -> Emulator:
    """moto's server in a child process, once it accepts connections; ``shortcuts=False`` runs
    plain moto (the differential test compares the two)."""
    port = port or free_port()
    command = [sys.executable, "-m", "local.emulator", "--port", str(port)]
    if not shortcuts:
        command.append("--plain")
    process = subprocess.Popen(command, stdin=subprocess.PIPE, cwd=ROOT)  # noqa: S603 - our own module
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the AWS emulator exited with {process.returncode} at start")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return Emulator(endpoint=f"http://127.0.0.1:{port}", process=process)
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(
                    f"the AWS emulator did not listen on port {port} within {timeout:.0f} s"
                ) from None
            time.sleep(0.05)


def point_sdk_at(endpoint: str) -> None:
    """Every boto3/botocore/PynamoDB client created after this talks to the emulator."""
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
        }
    )
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="moto's server for local mode (started by local mode).")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--plain", action="store_true", help="plain moto, without local.moto_shortcuts")
    args = parser.parse_args(argv)
    serve(args.port, shortcuts=not args.plain)


if __name__ == "__main__":
    main()
