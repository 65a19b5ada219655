"""`make run`: the whole system on this machine, with an embedded AWS emulator and demo data."""

from __future__ import annotations

import errno
import logging
import os
import secrets
import signal
import socket
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "functions"))

SENDER_ADDRESS = "noreply@example.com"
STOP_SECONDS = 4.0  # Ctrl+C: the orderly stop gets this long, then the process exits all the same


def step(message: str) -> None:
    print(f"  • {message}", flush=True)


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def configure_environment(resources: Any, port: int = 8000) -> None:
    """The same variables the CDK stack gives the functions, pointing at local resources."""
    from tracker import constants

    os.environ.update(
        {
            constants.ENV_TABLE_NAME: resources.table_name,
            constants.ENV_SEND_QUEUE_URL: resources.send_queue_url,
            constants.ENV_CONFIGURATION_SET: resources.configuration_set,
            constants.ENV_UNTRACKED_CONFIGURATION_SET: resources.untracked_configuration_set,
            constants.ENV_SENDER_ADDRESS: resources.sender_address,
            constants.ENV_CURSOR_SECRET: os.environ.get("CURSOR_SECRET") or secrets.token_urlsafe(32),
            # One sender poller: it takes the SES simulator's whole rate.
            constants.ENV_SENDER_CONCURRENCY: "1",
            # Emails' one-click unsubscribe links point at the local gateway (plain HTTP locally).
            constants.ENV_UNSUBSCRIBE_BASE_URL: f"http://127.0.0.1:{port}",
            constants.ENV_UNSUBSCRIBE_SECRET: os.environ.get("UNSUBSCRIBE_SECRET")
            or secrets.token_urlsafe(32),
            constants.ENV_EXPORT_QUEUE_URL: resources.export_queue_url,
            constants.ENV_EXPORT_BUCKET: resources.export_bucket,
        }
    )
    if resources.events is not None:
        os.environ.update(
            {
                constants.ENV_EVENT_BUS_NAME: resources.events.bus_name,
                constants.ENV_WEBHOOK_DLQ_ARN: resources.events.dead_letter_arn,
                # Local mode only: webhooks to http://127.0.0.1:<port> and http://localhost:<port>.
                constants.ENV_WEBHOOK_ALLOW_LOCAL: "1",
            }
        )


RUN_STATE = ROOT / ".run" / "local.env"


def write_run_state(endpoint: str, resources: Any) -> None:
    """What `make quarantine` (and other operator tools) need to reach this instance."""
    from tracker import constants

    RUN_STATE.parent.mkdir(exist_ok=True)
    values = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        constants.ENV_TABLE_NAME: resources.table_name,
        constants.ENV_EVENTS_QUEUE_URL: resources.events_queue_url,
    }
    RUN_STATE.write_text("".join(f"{key}={value}\n" for key, value in values.items()), encoding="utf-8")


def main() -> int:
    logging.basicConfig(
        level=os.environ.get("LOCAL_LOG_LEVEL", "WARNING"), format="%(levelname)s %(name)s: %(message)s"
    )
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "delivery-tracker")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "DeliveryTrackerLocal")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    # Powertools warns after every invocation that emitted no metric, even with metrics disabled as here.
    warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)

    from local import profiling

    if profiling.enabled():
        profiling.profile_new_threads()
    port = int(os.environ.get("PORT", "8000"))
    started = time.monotonic()
    print(f"Delivery tracker, local mode (port {port})", flush=True)
    if not port_is_free(port):
        print(
            f"error: port {port} on 127.0.0.1 is already in use. Stop whatever is using it "
            f"(e.g. an earlier `make run`), or choose another port: PORT=8001 make run",
            file=sys.stderr,
        )
        return 2

    from local.emulator import point_sdk_at, start_emulator

    emulator = start_emulator()
    point_sdk_at(emulator.endpoint)
    from local import shared_sdk_data, unsigned

    unsigned.install()  # the emulator reads no signature: local mode computes none
    shared_sdk_data.install()  # the SDK's data files read once, not once per thread
    step(
        f"AWS emulator (moto server) on {emulator.endpoint}; data lives in its memory and ends with this process"
    )

    from local.resources import create_resources

    resources = create_resources(SENDER_ADDRESS)
    configure_environment(resources, port)
    write_run_state(emulator.endpoint, resources)
    step(
        f"created table {resources.table_name}, SNS topic, SQS queues with DLQs, "
        f"SES identity {resources.sender_address} and configuration sets {resources.configuration_set} "
        f"and {resources.untracked_configuration_set}"
    )

    from local.wiring import start_system

    system = start_system(resources, port)
    step(f"pollers invoke the ingest and sender handlers; local API gateway on http://127.0.0.1:{port}")
    step(
        f"SES simulator: at most {system.ses.limiter.rate:g} sends/s (LOCAL_SES_MAX_SEND_RATE), "
        "throttling above it like SES; the sender paces to it"
    )

    stop = threading.Event()

    def shutdown(_signum: int, _frame: Any) -> None:
        if stop.is_set():  # a second Ctrl+C: do not wait for anything
            _exit_now(130)
        stop.set()

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)

    base_url = f"http://127.0.0.1:{port}"
    demo = None
    if os.environ.get("DEMO", "1") != "0":
        from local.demo import seed

        step("seeding demo data through the send API and SES events...")
        try:
            demo = seed(base_url)
        except Exception as error:  # the system is still usable without demo data
            print(f"warning: demo data could not be seeded: {error}", file=sys.stderr)
    system.gateway.ready.set()
    token = demo["token"] if demo else system.tokens.issue("demo")
    print(
        f"\nready in {time.monotonic() - started:.1f}s: {base_url}\n\n"
        f"  dashboard:  {base_url}/\n"
        f"  API docs:   {base_url}/docs (send the token as a Bearer header)\n"
        f"  token for tenant 'demo' (valid 12 h):\n    {token}\n\n"
        f"  try:\n    curl -s -H 'Authorization: Bearer {token}' {base_url}/messages\n\n"
        "  webhooks (docs/events.md): local mode delivers to http://127.0.0.1:<port> or http://localhost:<port>,\n"
        "  e.g. a receiver printing each event:  python3 -m local.webhook_echo 9000\n"
        f"    curl -s -X PUT -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' \\\n"
        f'      -d \'{{"url": "http://127.0.0.1:9000/hook"}}\' {base_url}/webhook\n\n'
        "Press Ctrl+C to stop.",
        flush=True,
    )
    # Waited in short steps: Python runs a signal's handler in the main thread, and when the kernel
    # hands SIGINT to another of local mode's threads (likelier the busier they are), a main thread
    # blocked in one long wait would not run it until that wait ended.
    while not stop.wait(timeout=0.2):
        pass
    print("\nstopping...", flush=True)
    profiling.write("local")
    RUN_STATE.unlink(missing_ok=True)  # `make quarantine` no longer finds a running local mode
    stop_within(STOP_SECONDS, system.stop, emulator.stop)
    return 0


def stop_within(seconds: float, *steps: Callable[[], None]) -> None:
    """Run the stop steps in order; should they take longer than ``seconds`` (a handler still in
    a long batch), exit anyway: everything local mode holds lives in memory and ends with it."""
    finished = threading.Event()

    def run() -> None:
        for step_ in steps:
            step_()
        finished.set()

    threading.Thread(target=run, name="stop", daemon=True).start()
    if not finished.wait(seconds):
        print(f"stopped after {seconds:.0f} s with work still running", file=sys.stderr, flush=True)
        _exit_now(0)


def _exit_now(code: int) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
