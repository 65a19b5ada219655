"""Apple's address ranges kept fresh: a private S3 bucket holding their compact form, the refresher
function that writes it once a day from Apple's published list, and the read grant of the ingest
function (docs/engagement.md, "Keeping Apple's ranges fresh").

Each function may touch exactly one object: the refresher may put it, the ingest function may get
it. The bucket is versioned, so a bad list that got through could be rolled back by restoring the
previous version; old versions expire after a month.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

from infra.functions import FunctionFactory, FunctionSpec
from tracker import constants as c

# Parsing a full list (hundreds of thousands of lines) is CPU-bound for seconds: at 1,769 MB the
# function has one full vCPU, and a daily run of ~10-20 s costs well under a cent a month.
REFRESH_MEMORY_MB = 1769
REFRESH_TIMEOUT = Duration.minutes(2)
NONCURRENT_VERSIONS_KEPT_FOR = Duration.days(30)
LOG_RETENTION_DAYS = 365


class ReferenceData(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: FunctionFactory,
        schedule: str,
        min_prefixes: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = c.APPLE_RANGES_KEY

        # Server access logs of the bucket, as the dashboard's site bucket has (infra/web.py).
        self.log_bucket = s3.Bucket(
            self,
            "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(LOG_RETENTION_DAYS))],
            removal_policy=RemovalPolicy.RETAIN,  # audit data outlives the stack
        )
        NagSuppressions.add_resource_suppressions(
            self.log_bucket,
            [
                NagPackSuppression(
                    id="AwsSolutions-S1",
                    reason="This is the access-log bucket itself: the reference-data bucket logs into it, "
                    "and logging it into itself would log every log delivery in a loop.",
                )
            ],
            apply_to_children=True,
        )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    noncurrent_version_expiration=NONCURRENT_VERSIONS_KEPT_FOR,
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            server_access_logs_bucket=self.log_bucket,
            server_access_logs_prefix="s3/reference-data/",
            # What it holds is public data, refreshed daily: the stack's deletion retains it only
            # because a versioned bucket with objects cannot be deleted by CloudFormation.
            removal_policy=RemovalPolicy.RETAIN,
        )

        self.function = factory.create(
            self,
            FunctionSpec(
                construct_id="AppleRangesFunction",
                handler=c.APPLE_RANGES_HANDLER,
                description="Refreshes Apple's address ranges (Apple Mail Privacy Protection) into S3, daily",
                memory_mb=REFRESH_MEMORY_MB,
                timeout=REFRESH_TIMEOUT,
                environment={
                    **self.environment,
                    c.ENV_APPLE_RANGES_URL: c.APPLE_RANGES_URL,
                    c.ENV_APPLE_RANGES_MIN_PREFIXES: str(min_prefixes),
                },
            ),
        )
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                sid="WriteAppleRanges",
                actions=["s3:PutObject"],
                resources=[self.bucket.arn_for_objects(self.key)],
            )
        )
        self.schedule = events.Rule(
            self,
            "RefreshSchedule",
            description="Refreshes Apple's address ranges",
            schedule=events.Schedule.expression(schedule),
            targets=[
                targets.LambdaFunction(self.function, retry_attempts=2, max_event_age=Duration.hours(2))
            ],
        )

    @property
    def environment(self) -> dict[str, str]:
        """Where the stored ranges are: what the refresher and every reader needs."""
        return {c.ENV_APPLE_RANGES_BUCKET: self.bucket.bucket_name, c.ENV_APPLE_RANGES_KEY: self.key}

    def grant_read(self, function: lambda_.Function) -> None:
        """GetObject on the one object, and where it is in the function's environment."""
        for name, value in self.environment.items():
            function.add_environment(name, value)
        function.add_to_role_policy(
            iam.PolicyStatement(
                sid="ReadAppleRanges",
                actions=["s3:GetObject"],
                resources=[self.bucket.arn_for_objects(self.key)],
            )
        )
