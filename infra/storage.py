"""The single DynamoDB table (items, counters, event log, idempotency records)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from infra.settings import TableThroughput
from tracker import constants as c


class Storage(Construct):
    """The table. Deployed resources get CloudFormation-generated names, passed to the functions in
    environment variables; the fixed names in tracker.constants are local mode's."""

    def __init__(self, scope: Construct, construct_id: str, *, throughput: TableThroughput) -> None:
        super().__init__(scope, construct_id)
        string = dynamodb.AttributeType.STRING
        # A launch-day send writes several times what a new on-demand table serves at once (4,000
        # WRU/s); throttled records retry and can end in a DLQ. Warm throughput prepares the table and
        # each index for it up front; the on-demand maximum caps the bill of a runaway writer (requests
        # above it are throttled, and alarmed on in infra/observability.py).
        warm = dynamodb.WarmThroughput(
            read_units_per_second=throughput.warm_read_units,
            write_units_per_second=throughput.warm_write_units,
        )
        self.table = dynamodb.TableV2(
            self,
            "Table",
            # No physical name: CloudFormation generates one and the functions get it as TABLE_NAME.
            # A fixed name plus RETAIN would make a redeploy after `cdk destroy` fail on the
            # retained table, and would forbid two stages in one account and region.
            partition_key=dynamodb.Attribute(name=c.TABLE_PARTITION_KEY, type=string),
            sort_key=dynamodb.Attribute(name=c.TABLE_SORT_KEY, type=string),
            billing=dynamodb.Billing.on_demand(
                max_read_request_units=throughput.max_read_units,
                max_write_request_units=throughput.max_write_units,
            ),
            warm_throughput=warm,
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=index.name,
                    partition_key=dynamodb.Attribute(name=index.partition_key, type=string),
                    sort_key=dynamodb.Attribute(name=index.sort_key, type=string),
                    projection_type=dynamodb.ProjectionType.ALL,
                    max_read_request_units=throughput.max_read_units,
                    max_write_request_units=throughput.max_write_units,
                    warm_throughput=warm,
                )
                for index in c.GLOBAL_INDEXES
            ],
            time_to_live_attribute=c.TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            # AWS managed key (aws/dynamodb): every use of the key is visible in CloudTrail and there
            # is no key policy to get wrong or key to delete by mistake (which would make the table
            # unreadable). A customer managed key would add a monthly key charge and KMS request
            # costs for access control we do not need: IAM on the table already decides who reads.
            encryption=dynamodb.TableEncryptionV2.aws_managed_key(),
            removal_policy=RemovalPolicy.RETAIN,
        )
