"""The emulator's HTTP front: one thread serves every connection, one request at a time.

moto's backends are not thread-safe, so requests reach moto one at a time whatever serves them.
A thread per connection behind a lock (http.server's way) made each request pay for that
serialisation twice: every thread parsing a request or sending an answer competed with the one
in moto for the interpreter lock, and a thread that had released it for a socket call waited up
to the switch interval (5 ms) to get it back, a wait in the middle of every request. Here one
thread reads whatever is readable, answers each complete request as it comes, and writes each
answer in one send: no lock, no hand-over. The parsing is the little HTTP/1.1 that SDK clients
speak (a request line, headers, a ``Content-Length`` body, keep-alive, ``Expect: 100-continue``);
anything else is answered with an error and the connection closed.

The answers are the WSGI app's (moto's server) byte for byte, less the hop-by-hop headers, which
this server writes itself.
"""

from __future__ import annotations

import contextlib
import io
import selectors
import socket
import sys
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from local.emulator_long_polls import LongPolls, found_nothing, long_poll_of
from local.emulator_tally import TALLY_PATH, Tally, operation_of

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
HOP_BY_HOP = frozenset({"connection", "content-length", "keep-alive", "transfer-encoding"})
MAX_HEADER_BYTES = 64 * 1024
READ_BYTES = 256 * 1024


class BadRequestError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Request:
    __slots__ = ("body_length", "close", "headers", "method", "target", "version")

    def __init__(self, head: bytes) -> None:
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise BadRequestError(400, f"not an HTTP/1.x request line: {lines[0][:100]!r}")
        self.method, self.target, self.version = parts
        self.headers: list[tuple[str, str]] = []
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if not colon or not name or name != name.strip():
                raise BadRequestError(400, f"not a header line: {line[:100]!r}")
            self.headers.append((name, value.strip()))
        fields = {name.lower(): value for name, value in self.headers}
        if "chunked" in fields.get("transfer-encoding", "").lower():
            raise BadRequestError(411, "a request body needs a Content-Length here")
        try:
            self.body_length = int(fields.get("content-length") or 0)
        except ValueError:
            raise BadRequestError(400, "the Content-Length is not a number") from None
        if self.body_length < 0:
            raise BadRequestError(400, "the Content-Length is negative")
        connection = fields.get("connection", "").lower()
        self.close = connection == "close" or (self.version == "HTTP/1.0" and connection != "keep-alive")

    def expects_continue(self) -> bool:
        return any(n.lower() == "expect" and v.lower() == "100-continue" for n, v in self.headers)


class Connection:
    def __init__(self, sock: socket.socket, server: EmulatorServer) -> None:
        self.sock = sock
        self.server = server
        self.inbox = bytearray()
        self.outbox = bytearray()
        self.peer = _peer(sock)
        self.pending: Request | None = None  # headers read, body not yet complete
        self.parked: Request | None = None  # answered later (a long poll): the next request waits
        self.continued = False
        self.closing = False

    def readable(self) -> None:
        try:
            data = self.sock.recv(READ_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.server.drop(self)
            return
        if not data:
            self.server.drop(self)
            return
        self.inbox += data
        self._answer_complete_requests()
        self.flush()

    def _answer_complete_requests(self) -> None:
        while not self.closing and self.parked is None:
            if self.pending is None:
                end = self.inbox.find(b"\r\n\r\n")
                if end < 0:
                    if len(self.inbox) > MAX_HEADER_BYTES:
                        self._refuse(431, "the request's headers are too long")
                    return
                head = bytes(self.inbox[:end])
                del self.inbox[: end + 4]
                try:
                    self.pending = Request(head)
                except BadRequestError as error:
                    self._refuse(error.status, str(error))
                    return
                self.continued = False
            request = self.pending
            if len(self.inbox) < request.body_length:
                if request.expects_continue() and not self.continued:
                    self.outbox += b"HTTP/1.1 100 Continue\r\n\r\n"
                    self.continued = True
                return
            body = bytes(self.inbox[: request.body_length])
            del self.inbox[: request.body_length]
            self.pending = None
            answer = self.server.answer(request, body, self.peer, self)
            if answer is None:
                self.parked = request
                return
            self.outbox += answer
            if request.close:
                self.closing = True

    def resume(self, answer: bytes) -> None:
        """The parked request's answer: send it, then go on with the requests behind it."""
        request, self.parked = self.parked, None
        self.outbox += answer
        self.closing = self.closing or bool(request and request.close)
        self._answer_complete_requests()
        self.flush()

    def _refuse(self, status: int, message: str) -> None:
        payload = message.encode("utf-8", "replace")
        self.outbox += _response(status, [("Content-Type", "text/plain; charset=utf-8")], payload, close=True)
        self.closing = True

    def flush(self) -> None:
        while self.outbox:
            try:
                sent = self.sock.send(self.outbox)
            except (BlockingIOError, InterruptedError):
                self.server.watch_writes(self, True)
                return
            except OSError:
                self.server.drop(self)
                return
            del self.outbox[:sent]
        self.server.watch_writes(self, False)
        if self.closing:
            self.server.drop(self)


class EmulatorServer:
    """``app`` (a WSGI app) on ``address``, every connection served by the thread that calls
    ``serve_forever``; with ``long_polls``, SQS long polls wait there, not in the app
    (``local.emulator_long_polls``)."""

    def __init__(self, address: tuple[str, int], app: WsgiApp, long_polls: LongPolls | None = None) -> None:
        self.app = app
        self.long_polls = long_polls
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(address)
        self.listener.listen(128)
        self.listener.setblocking(False)
        self.server_address = self.listener.getsockname()
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.listener, selectors.EVENT_READ, None)
        self._running = True
        self.tally = Tally()

    def serve_forever(self) -> None:
        while self._running:
            timeout = self.long_polls.seconds_to_next(0.5) if self.long_polls else 0.5
            for key, events in self.selector.select(timeout=timeout):
                connection: Connection | None = key.data
                if connection is None:
                    self._accept()
                    continue
                if events & selectors.EVENT_READ:
                    connection.readable()
                if events & selectors.EVENT_WRITE and connection.sock.fileno() >= 0:
                    connection.flush()
            if self.long_polls:
                for waiting, answer in self.long_polls.ready():
                    if waiting.sock.fileno() >= 0:
                        waiting.resume(answer)

    def shutdown(self) -> None:
        """Stop ``serve_forever`` (from another thread) within half a second."""
        self._running = False

    def server_close(self) -> None:
        for key in list(self.selector.get_map().values()):
            if key.data is not None:
                self.drop(key.data)
        self.selector.close()
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # e.g. too many open files: the client's connect fails, the server goes on
            sock.setblocking(False)
            # Each answer leaves in one send; without this a small one would still wait for the
            # client's acknowledgement of the previous one (Nagle's algorithm).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.selector.register(sock, selectors.EVENT_READ, Connection(sock, self))

    def watch_writes(self, connection: Connection, wanted: bool) -> None:
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if wanted else 0)
        with contextlib.suppress(KeyError, ValueError):
            if self.selector.get_key(connection.sock).events != events:
                self.selector.modify(connection.sock, events, connection)

    def drop(self, connection: Connection) -> None:
        if self.long_polls is not None:
            self.long_polls.forget(connection)
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(connection.sock)
        connection.sock.close()

    def answer(
        self, request: Request, body: bytes, peer: str, connection: Connection | None = None
    ) -> bytes | None:
        """The app's answer to one request, as bytes to send (the tally's, at its path); None:
        a long poll that found nothing, parked (its connection resumes with the answer)."""
        if request.target == TALLY_PATH and request.method == "GET":
            return _response(200, [("Content-Type", "application/json")], self.tally.json(), request.close)
        polls = self.long_polls
        target = next((v for n, v in request.headers if n.lower() == "x-amz-target"), None)
        poll = long_poll_of(target, body) if polls is not None and connection is not None else None
        if poll is None or polls is None or connection is None:
            return self._tallied(request, body, peer)
        queue, short_body, wait = poll
        answer = self._tallied(request, short_body, peer)
        if not found_nothing(answer):
            return answer
        polls.park(connection, queue, lambda again: self._tallied(request, again, peer), short_body, wait)
        return None

    def _tallied(self, request: Request, body: bytes, peer: str) -> bytes:
        started = time.thread_time()
        try:
            return self._answer(request, body, peer)
        finally:
            operation = operation_of(request.method, request.target, request.headers, body)
            self.tally.add(operation, time.thread_time() - started)

    def _answer(self, request: Request, body: bytes, peer: str) -> bytes:
        answer: dict[str, Any] = {}
        written: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:  # noqa: ARG001
            answer["status"], answer["headers"] = status, headers
            return written.append

        try:
            chunks = self.app(self._environ(request, body, peer), start_response)
            try:
                payload = b"".join([*written, *chunks])
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
        except Exception as error:  # the app failed outside its own error handling: say so
            return _response(500, [("Content-Type", "text/plain")], repr(error).encode(), request.close)
        code, _, reason = str(answer["status"]).partition(" ")
        headers = [(n, v) for n, v in answer["headers"] if n.lower() not in HOP_BY_HOP]
        if request.method == "HEAD":
            return _response(int(code), headers, b"", request.close, reason, len(payload))
        return _response(int(code), headers, payload, request.close, reason)

    def _environ(self, request: Request, body: bytes, peer: str) -> dict[str, Any]:
        path, _, query = request.target.partition("?")
        host, port = self.server_address[:2]
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": "",
            # PEP 3333: the decoded path, its UTF-8 bytes as latin-1 characters.
            "PATH_INFO": unquote(path).encode("utf-8").decode("latin-1"),
            "QUERY_STRING": query,
            "REQUEST_URI": request.target,
            "RAW_URI": request.target,
            "CONTENT_TYPE": "",
            "CONTENT_LENGTH": str(len(body)),
            "SERVER_NAME": str(host),
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": request.version,
            "REMOTE_ADDR": peer,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in request.headers:
            key = "HTTP_" + name.upper().replace("-", "_")
            if key == "HTTP_CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            elif key != "HTTP_CONTENT_LENGTH":
                environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ


def _peer(sock: socket.socket) -> str:
    try:
        return str(sock.getpeername()[0])
    except OSError:
        return ""


def _response(
    status: int,
    headers: list[tuple[str, str]],
    payload: bytes,
    close: bool,
    reason: str = "",
    length: int | None = None,
) -> bytes:
    if not reason:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = ""
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{name}: {value}" for name, value in headers]
    lines.append(f"Content-Length: {len(payload) if length is None else length}")
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload
