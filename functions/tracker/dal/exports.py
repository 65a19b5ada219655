"""The adapters of the exports (tracker.logic.exports): the job item in the table, the CSV object in
the exports bucket (S3 multipart upload, presigned GET), and the export queue (SQS).

The job item is ``T#{tenant}#EXPORT#{export id}`` / ``#EXPORT``: one GetItem to read, one PutItem per
saved step (only the worker writes it after it is created). It expires with the bucket's objects.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from tracker import constants
from tracker.dal import keys
from tracker.dal.models import MessageItem, TrackerItem
from tracker.dal.support import store_errors
from tracker.domain.errors import NotFoundError
from tracker.domain.exports import ExportJob, ExportKind, ExportState, ExportTarget
from tracker.domain.status import ALL_STATUSES

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_sqs.client import SQSClient

EXPORT_SK = "#EXPORT"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


def export_pk(tenant_id: str, export_id: str) -> str:
    return f"T#{tenant_id}#EXPORT#{export_id}"


class ExportItem(TrackerItem, discriminator="export"):
    export_kind = UnicodeAttribute()
    target_id = UnicodeAttribute()
    created_at = UnicodeAttribute()
    state = UnicodeAttribute()
    rows = NumberAttribute(default=0)
    expected_rows = NumberAttribute(null=True)
    object_key = UnicodeAttribute(null=True)
    finished_at = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    resume = JSONAttribute(null=True)
    expires_at = TTLAttribute(null=True, attr_name=constants.TTL_ATTRIBUTE)


def _item(job: ExportJob, keep_for: timedelta) -> ExportItem:
    return ExportItem(
        export_pk(job.tenant_id, job.export_id),
        EXPORT_SK,
        tenant_id=job.tenant_id,
        export_kind=job.target.kind.value,
        target_id=job.target.target_id,
        created_at=keys.iso(job.created_at),
        state=job.state.value,
        rows=job.rows,
        expected_rows=job.expected_rows,
        object_key=job.object_key,
        finished_at=keys.iso(job.finished_at) if job.finished_at else None,
        error=job.error,
        resume=job.resume or None,
        expires_at=job.created_at + keep_for,
    )


def _job(item: ExportItem, export_id: str) -> ExportJob:
    return ExportJob(
        tenant_id=str(item.tenant_id),
        export_id=export_id,
        target=ExportTarget(ExportKind(item.export_kind), item.target_id),
        created_at=keys.parse_iso(item.created_at),
        state=ExportState(item.state),
        rows=int(item.rows or 0),
        expected_rows=int(item.expected_rows) if item.expected_rows is not None else None,
        object_key=item.object_key,
        finished_at=keys.parse_iso(item.finished_at) if item.finished_at else None,
        error=item.error,
        resume=dict(item.resume or {}),
    )


class DynamoExportJobs:
    """logic.exports.ExportJobs on the table."""

    def __init__(self, keep_for: timedelta = timedelta(days=constants.DEFAULT_EXPORT_RETENTION_DAYS)) -> None:
        self._keep_for = keep_for

    def create(self, job: ExportJob) -> None:
        with store_errors("create export"):
            _item(job, self._keep_for).save(condition=ExportItem.pk.does_not_exist())

    def save(self, job: ExportJob) -> None:
        with store_errors("save export"):
            _item(job, self._keep_for).save()

    def get(self, tenant_id: str, export_id: str) -> ExportJob | None:
        with store_errors("read export"):
            try:
                item = ExportItem.get(export_pk(tenant_id, export_id), EXPORT_SK, consistent_read=True)
            except DoesNotExist:
                return None
        return _job(item, export_id)


def s3_client(region: str | None) -> S3Client:
    """Path-style addressing when an endpoint is set (local mode's emulator on 127.0.0.1)."""
    import os

    import boto3
    from botocore.config import Config

    endpoint = os.environ.get("AWS_ENDPOINT_URL") or None
    config = Config(s3={"addressing_style": "path"}, signature_version="s3v4") if endpoint else None
    return boto3.client("s3", region_name=region, config=config)


class S3ExportObjects:
    """logic.exports.ExportObjects on the exports bucket (SSE-S3 by the bucket's default)."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def begin(self, key: str, filename: str) -> str:
        answer = self._client.create_multipart_upload(
            Bucket=self._bucket,
            Key=key,
            ContentType=CSV_CONTENT_TYPE,
            ContentDisposition=_attachment(filename),
        )
        return answer["UploadId"]

    def part(self, key: str, upload_id: str, number: int, body: bytes) -> str:
        answer = self._client.upload_part(
            Bucket=self._bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
        )
        return answer["ETag"]

    def complete(self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]) -> None:
        self._client.complete_multipart_upload(
            Bucket=self._bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": tag} for n, tag in parts]},
        )

    def url(self, key: str, filename: str, expires: timedelta) -> str:
        return self._client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self._bucket,
                "Key": key,
                "ResponseContentDisposition": _attachment(filename),
                "ResponseContentType": CSV_CONTENT_TYPE,
            },
            ExpiresIn=int(expires.total_seconds()),
        )


def _attachment(filename: str) -> str:
    return f'attachment; filename="{filename}"'


class SqsExportQueue:
    """logic.exports.ExportQueue: one SQS message per export (or per resumed step)."""

    def __init__(self, client: Callable[[], SQSClient], queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def enqueue(self, tenant_id: str, export_id: str) -> None:
        self._client().send_message(QueueUrl=self._queue_url, MessageBody=export_body(tenant_id, export_id))


def export_body(tenant_id: str, export_id: str) -> str:
    return json.dumps({"tenant_id": tenant_id, "export_id": export_id})


def export_of_body(body: str) -> tuple[str, str]:
    data: Any = json.loads(body)
    return str(data["tenant_id"]), str(data["export_id"])


class DynamoExportTargets:
    """logic.exports.ExportTargets: a message's header (GetItem). An invoice is not looked up (its
    log is an index the send function's role does not query): an invoice no email carried
    exports the header alone."""

    def expected_rows(self, tenant_id: str, target: ExportTarget) -> int | None:
        if target.kind is not ExportKind.MESSAGE_RECIPIENTS:
            return None
        with store_errors("read message"):
            try:
                item = MessageItem.get(keys.message_pk(tenant_id, target.target_id), keys.MESSAGE_SK)
            except DoesNotExist:
                raise NotFoundError("message not found") from None
        counts = item.counts()
        return int(item.recipient_count or 0) or sum(counts.get(status, 0) for status in ALL_STATUSES)
