"""CSV exports (docs/exports.md): the exports bucket, the export queue (+ DLQ) and the worker that
writes each export to the bucket, and the grants of the two API functions.

- The bucket: private (all public access blocked), SSE-S3, TLS only, server access logs, objects
  expire after DEFAULT_EXPORT_RETENTION_DAYS and incomplete uploads after a day. Downloads are
  presigned GETs (EXPORT_URL_TTL_MINUTES) signed by the read function, which may only get objects
  under ``exports/``.
- The worker may put objects under ``exports/`` (a multipart upload is authorized as PutObject),
  abort its uploads, read the table (the read side's queries) and write the job items; it queues
  the rest of an export that ran out of time on its own queue.
- The send function starts exports: it writes the job item (its table grants) and sends to the queue.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra import table_access
from infra.functions import FunctionFactory, FunctionSpec, grant_table_access
from infra.queues import Consumer, consume, work_queue
from tracker import constants as c

# A 100,000-recipient export is ~100 table pages and ~15 MB of CSV: about a minute of work; the
# worker stops taking pages 30 s before its timeout and queues the rest (tracker.logic.exports).
EXPORTER_TIMEOUT = Duration.minutes(5)
EXPORTER_MEMORY_MB = 1024  # one part (5 MiB) buffered, and one full vCPU fraction for the CSV
EXPORTER_CONSUMER = Consumer(EXPORTER_TIMEOUT, 1, Duration.seconds(0), 2)
EXPORT_PREFIX = "exports/"


class Exports(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: FunctionFactory,
        table: dynamodb.ITableV2,
        access_log_bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=Duration.days(c.DEFAULT_EXPORT_RETENTION_DAYS),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            server_access_logs_bucket=access_log_bucket,
            server_access_logs_prefix="s3/exports/",
            # Its objects expire within days; a bucket with objects cannot be deleted by CloudFormation.
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.queue, self.dead_letter_queue = work_queue(self, "Export", EXPORTER_CONSUMER)
        self.function = factory.create(
            self,
            FunctionSpec(
                construct_id="ExporterFunction",
                handler=c.EXPORT_HANDLER,
                description="Writes CSV exports (a message's recipients, an invoice's logs) to S3",
                memory_mb=EXPORTER_MEMORY_MB,
                timeout=EXPORTER_TIMEOUT,
                environment=self.environment,
            ),
        )
        grant_table_access(self.function, table, table_access.EXPORTER)
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                sid="WriteExports",
                actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                resources=[self.bucket.arn_for_objects(f"{EXPORT_PREFIX}*")],
            )
        )
        self.queue.grant_send_messages(self.function)
        consume(self.function, self.queue, EXPORTER_CONSUMER)

    @property
    def environment(self) -> dict[str, str]:
        return {c.ENV_EXPORT_BUCKET: self.bucket.bucket_name, c.ENV_EXPORT_QUEUE_URL: self.queue.queue_url}

    def grant_download(self, function: lambda_.Function) -> None:
        """The read function presigns downloads: GetObject on the exports only."""
        function.add_environment(c.ENV_EXPORT_BUCKET, self.bucket.bucket_name)
        function.add_to_role_policy(
            iam.PolicyStatement(
                sid="PresignExportDownloads",
                actions=["s3:GetObject"],
                resources=[self.bucket.arn_for_objects(f"{EXPORT_PREFIX}*")],
            )
        )

    def grant_start(self, function: lambda_.Function) -> None:
        """The send function starts exports: it queues them."""
        for name, value in self.environment.items():
            function.add_environment(name, value)
        self.queue.grant_send_messages(function)
