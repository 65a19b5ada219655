"""Wire the production handlers to local collaborators: pollers, the SES simulator, the gateway."""

from __future__ import annotations

import os
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3

from local.emulator import REGION
from local.gateway import Gateway
from local.lambda_runtime import LambdaContext
from local.pollers import QueuePoller
from local.publisher import BatchingPublisher
from local.resources import LocalResources
from local.ses_simulator import DEFAULT_MAX_SEND_RATE, SimulatedSes
from local.streams import StreamPoller
from local.tokens import LocalTokens
from local.webhooks import WebhookDriver, WebhookPoller

# The stack's projector mapping takes up to 1,000 records a batch (infra/projection.py): one count
# update per message per batch, so bigger batches under load are fewer writes.
PROJECTOR_BATCH_SIZE = 1000
# ... gathered for up to its batching window (1 s by default, infra/projection.py) while records keep
# coming: under load each batch moves a tenant's statistics hour items once for more records.
PROJECTOR_BATCHING_WINDOW_SECONDS = 1.0
LOCAL_INGEST_CONCURRENCY = 2
WEB_ROOT = Path(__file__).resolve().parent.parent / "web"
# The SES simulator's maximum send rate (sends/s); the sender reads it with GetAccount.
LOCAL_SES_MAX_SEND_RATE = "LOCAL_SES_MAX_SEND_RATE"


def local_send_rate() -> float:
    raw = os.environ.get(LOCAL_SES_MAX_SEND_RATE)
    rate = float(raw) if raw else DEFAULT_MAX_SEND_RATE
    if not rate > 0:
        raise ValueError(f"{LOCAL_SES_MAX_SEND_RATE} must be above 0, not {raw!r}")
    return rate


@dataclass
class LocalSystem:
    gateway: Gateway
    server: ThreadingHTTPServer
    tokens: LocalTokens
    pollers: list[QueuePoller | StreamPoller | WebhookPoller]
    ses: SimulatedSes

    def stop(self) -> None:
        """Stop taking requests and batches; the batches in flight finish (the emulator stops last)."""
        for poller in self.pollers:
            poller.request_stop()
        self.server.shutdown()
        for poller in self.pollers:
            poller.stop()


def start_system(resources: LocalResources, port: int) -> LocalSystem:
    from tracker.bootstrap.sender import build_sender
    from tracker.dal.outbound import SES_CLIENT_CONFIG
    from tracker.handlers import api, events, exporter, ingest, projector, sender, webhook_failures
    from tracker.settings import SendSettings, Settings

    topic = BatchingPublisher(boto3.client("sns", region_name=REGION), resources.topic_arn)
    ses = SimulatedSes(
        # The deployed sender's client settings: no automatic retries, a connection per parallel call.
        boto3.client("sesv2", region_name=REGION, config=SES_CLIENT_CONFIG),
        publish=topic.publish_batch,
        max_send_rate=local_send_rate(),
    )
    # The sender's only local collaborator: SES is the simulator (the API and ingest handlers run as is).
    local_sender = build_sender(ses, SendSettings.from_env(), Settings.from_env())

    def send_handler(event: dict[str, Any], context: Any) -> Any:
        return sender.process_batch(event, context, local_sender)

    def export_handler(event: dict[str, Any], context: Any) -> Any:
        runner, service = exporter.default_runner()
        return exporter.process_batch(event, context, runner, service)

    def project(event: dict[str, Any]) -> Any:
        return projector.handler(event, LambdaContext(function_name="local-projector"))

    def publish(event: dict[str, Any]) -> Any:
        return events.handler(event, LambdaContext(function_name="local-events"))

    pollers: list[QueuePoller | StreamPoller | WebhookPoller] = [
        # Two batches at once, as the stack's mapping runs several (c.INGEST_MAX_CONCURRENCY): one
        # invocation's writes wait for the emulator while the other's handler runs.
        QueuePoller(
            "ingest", resources.events_queue_url, ingest.handler, concurrency=LOCAL_INGEST_CONCURRENCY
        ),
        # One job per invocation, as the stack's mapping (infra/sending.py SENDER_BATCH_SIZE): a job's
        # time follows from its size and the SES simulator's rate.
        QueuePoller("sender", resources.send_queue_url, send_handler, batch_size=1),
        # CSV exports (docs/exports.md): one export per record, as the stack's mapping.
        QueuePoller("exporter", resources.export_queue_url, export_handler, batch_size=1),
        # The table's stream → the projector: message counts and the suppression list.
        StreamPoller(
            "projector",
            Settings.from_env().table_name,
            project,
            batch_size=PROJECTOR_BATCH_SIZE,
            gather_seconds=PROJECTOR_BATCHING_WINDOW_SECONDS,
        ),
    ]
    if resources.events is not None:
        # The same stream's second consumer -> the event bus; the webhooks' delivery, which moto
        # does not do (local/webhooks.py); the webhook DLQ -> the tenants' delivery failures.
        pollers += [
            StreamPoller("events", Settings.from_env().table_name, publish),
            WebhookPoller(WebhookDriver(resources.events)),
            QueuePoller(
                "webhook-failures", resources.events.dead_letter_url, webhook_failures.handler, batch_size=10
            ),
        ]
    for poller in pollers:
        poller.start()

    tokens = LocalTokens()
    gateway = Gateway(api.handler, tokens, topic.submit, static_root=WEB_ROOT if WEB_ROOT.is_dir() else None)
    server = gateway.serve(port)
    return LocalSystem(gateway=gateway, server=server, tokens=tokens, pollers=pollers, ses=ses)
