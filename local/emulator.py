"""The AWS emulator: moto's server, in a child process of local mode.

In its own process moto's work runs on the second core, beside the handlers, instead of sharing
one interpreter lock with them. One thread serves every connection (``local.emulator_server``),
kept alive (HTTP/1.1: an SDK client reuses its connections instead of connecting for every
request), and requests reach moto one at a time, because moto's backends are not thread-safe (and
real AWS services serialize per item anyway). An SQS long poll waits in the server, not in moto
(``local.emulator_long_polls``): it holds its connection, not the emulator. moto runs with the shortcuts of ``local.moto_shortcuts`` in its bookkeeping (the same
answers and stored items, at a cost proportional to the request instead of the table).

The child ignores Ctrl+C (the terminal sends it to the whole process group; local mode stops the
emulator last, after the pollers) and exits when local mode ends, however it ends: it watches
its standard input, a pipe from local mode that closes when local mode's process is gone.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REGION = "us-east-1"
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(port: int, shortcuts: bool = True) -> None:
    """The child process: moto's server on ``port`` until local mode's pipe closes."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from local import moto_shortcuts, profiling
    from local.emulator_long_polls import LongPolls, watched_queues
    from local.emulator_server import EmulatorServer

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with ExitStack() as patches:
        if shortcuts:
            patches.enter_context(moto_shortcuts.installed())
        long_polls = LongPolls()
        patches.enter_context(watched_queues(long_polls))
        app = DomainDispatcherApplication(create_backend_app)
        server = EmulatorServer(("127.0.0.1", port), app, long_polls=long_polls)
        threading.Thread(target=_exit_when_parent_is_gone, args=(server,), daemon=True).start()
        if not profiling.enabled():
            server.serve_forever()
            return
        profile = profiling.profiler()
        profile.enable()
        server.serve_forever()  # until local mode's pipe closes (below)
        profile.disable()
        profiling.write("emulator")
        os._exit(0)


def _exit_when_parent_is_gone(server: Any) -> None:
    sys.stdin.buffer.read()  # returns at end of file: local mode closed the pipe or is gone
    from local import profiling

    if profiling.enabled():
        server.shutdown()  # the serving thread writes its profile, then exits
        return
    os._exit(0)


@dataclass
class Emulator:
    endpoint: str
    process: subprocess.Popen[bytes]

    def stop(self, timeout: float = 2.0) -> None:
        from local import profiling

        timeout = timeout * 5 if profiling.enabled() else timeout  # it writes its profile first
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
