"""One factory for every Lambda function, so runtime, architecture, layer, tracing, logging and the
Powertools environment are the same everywhere and set in one place."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field

from aws_cdk import AssetHashType, Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.function_code import FUNCTIONS_DIR as FUNCTIONS_DIR  # where the handlers live (tests)
from infra.function_code import function_code
from infra.table_access import TableAccess
from layers.build_layer import ensure_layer
from tracker import constants as c
from tracker.settings import FUNCTION_RUNTIME_ENVIRONMENT

# The newest Python runtime aws-cdk-lib 2.275 offers (tests check it is the newest and that the layer
# build targets the same version). Python 3.12+ runtimes run on Amazon Linux 2023.
RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64  # Graviton: ~20% cheaper per GB-second than x86_64

LOG_RETENTION = logs.RetentionDays.THREE_MONTHS


def runtime_python_version() -> str:
    """'python3.14' -> '3.14'."""
    return RUNTIME.name.removeprefix("python")


@dataclass(frozen=True)
class FunctionSpec:
    """What differs between our functions."""

    construct_id: str
    handler: str
    description: str
    memory_mb: int
    timeout: Duration
    environment: Mapping[str, str] = field(default_factory=dict)
    log_level: str = "INFO"
    reserved_concurrency: int | None = None


class FunctionFactory(Construct):
    """Holds what all functions share (the dependency layer, the common environment) and builds them."""

    def __init__(self, scope: Construct, construct_id: str, *, common_environment: Mapping[str, str]) -> None:
        super().__init__(scope, construct_id)
        build = ensure_layer(runtime_python_version())
        if build.rebuilt:
            print(
                f"built the dependency layer: {build.unzipped_bytes / 1048576:.1f} MiB unzipped",
                file=sys.stderr,
            )
        self.layer = lambda_.LayerVersion(
            self,
            "Dependencies",
            # The build stamp already fingerprints the layer (the hashed lock, Python version,
            # platform), so CDK need not hash ~40 MB of files on every synth.
            code=lambda_.Code.from_asset(
                str(build.path),
                exclude=[".build-stamp.json", ".build.lock"],
                asset_hash_type=AssetHashType.CUSTOM,
                asset_hash=build.fingerprint,
            ),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="Pinned runtime dependencies (layers/requirements.lock), manylinux aarch64 wheels",
        )
        # functions/ only, with the runtime's byte-code when this machine can make it (infra.function_code).
        code = function_code(runtime_python_version())
        self._code = lambda_.Code.from_asset(str(code.path), exclude=code.excludes)
        self._common_environment = dict(common_environment)

    def create(self, scope: Construct, spec: FunctionSpec) -> lambda_.Function:
        # An explicit log group (retention, removal) and an explicit role: the role gets write access
        # to this log group only, instead of the AWS managed AWSLambdaBasicExecutionRole (logs:* on
        # every log group in the account).
        log_group = logs.LogGroup(
            scope,
            f"{spec.construct_id}Logs",
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        role = iam.Role(
            scope,
            f"{spec.construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Execution role of {spec.construct_id}",
        )
        log_group.grant_write(role)
        environment = {
            "POWERTOOLS_SERVICE_NAME": c.SERVICE_NAME,
            "POWERTOOLS_METRICS_NAMESPACE": c.METRICS_NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": spec.log_level,
            **FUNCTION_RUNTIME_ENVIRONMENT,
            **self._common_environment,
            **spec.environment,
        }
        return lambda_.Function(
            scope,
            spec.construct_id,
            description=spec.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=spec.handler,
            code=self._code,
            layers=[self.layer],
            memory_size=spec.memory_mb,
            timeout=spec.timeout,
            environment=environment,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            role=role,
            reserved_concurrent_executions=spec.reserved_concurrency,
        )


def grant_table_access(function: lambda_.Function, table: dynamodb.ITableV2, access: TableAccess) -> None:
    """The function's DynamoDB actions on the table's items, and Query on the named indexes only."""
    function.add_to_role_policy(
        iam.PolicyStatement(sid="TableItems", actions=list(access.actions), resources=[table.table_arn])
    )
    if access.queried_indexes:
        function.add_to_role_policy(
            iam.PolicyStatement(
                sid="QueryIndexes",
                actions=["dynamodb:Query"],
                resources=[f"{table.table_arn}/index/{name}" for name in access.queried_indexes],
            )
        )
