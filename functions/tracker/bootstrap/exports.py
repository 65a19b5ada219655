"""The exports' collaborators (docs/exports.md): the API's export service, as each API function
needs it (the read function reads jobs and presigns downloads, the send function starts exports),
and the export worker's runner. Built on first use: no other request pays for them."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from tracker.bootstrap.common import bind_table
from tracker.settings import ExportSettings, Settings

if TYPE_CHECKING:
    from tracker.logic.exports import ExportRunner, ExportService


def export_service(*, reads: bool = True, starts: bool = True) -> ExportService:
    """The API's export service: ``reads`` (GET /exports/{id}: presigned URLs), ``starts``
    (POST /exports: the queue and the target lookup)."""
    import boto3

    from tracker.dal.exports import (
        DynamoExportJobs,
        DynamoExportTargets,
        S3ExportObjects,
        SqsExportQueue,
        s3_client,
    )
    from tracker.logic.exports import ExportService

    config, exports = Settings.from_env(), ExportSettings.from_env()
    bind_table(config)
    queue = None
    if starts:
        if exports.queue_url is None:
            raise RuntimeError("EXPORT_QUEUE_URL is not set: this function cannot start exports")
        queue = SqsExportQueue(
            cache(lambda: boto3.client("sqs", region_name=config.region)), exports.queue_url
        )
    return ExportService(
        DynamoExportJobs(),
        queue=queue,
        targets=DynamoExportTargets() if starts else None,
        objects=cache(lambda: S3ExportObjects(s3_client(config.region), exports.bucket)) if reads else None,
        url_ttl=exports.url_ttl,
    )


def export_runner() -> tuple[ExportRunner, ExportService]:
    """The worker's runner, and a service to queue the rest of an export that ran out of time."""
    from tracker.dal.exports import DynamoExportJobs, S3ExportObjects, s3_client
    from tracker.dal.queries import DynamoReadStore
    from tracker.logic.exports import ExportRunner

    config, exports = Settings.from_env(), ExportSettings.from_env()
    bind_table(config)
    runner = ExportRunner(
        DynamoExportJobs(), S3ExportObjects(s3_client(config.region), exports.bucket), DynamoReadStore()
    )
    return runner, export_service(reads=False, starts=True)
