"""The embedded AWS emulator: moto's WSGI app, served from a thread of this process.

Requests are served one at a time (a non-threaded server): moto's backends are not thread-safe
(a DynamoDB transaction deep-copies tables that a concurrent request may be mutating), and real
AWS services serialize per item anyway. Pollers therefore use short polls, never long polls.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

REGION = "us-east-1"

# moto's server logs every request at INFO through werkzeug; the startup steps are what people read.
logging.getLogger("werkzeug").setLevel(logging.WARNING)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Emulator:
    endpoint: str
    server: BaseWSGIServer
    thread: threading.Thread

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


def start_emulator(port: int | None = None) -> Emulator:
    port = port or free_port()
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", port, app, threaded=False, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="moto-server", daemon=True)
    thread.start()
    return Emulator(endpoint=f"http://127.0.0.1:{port}", server=server, thread=thread)


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
