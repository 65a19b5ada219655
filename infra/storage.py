"""The single DynamoDB table (recipients with their timelines, messages with their counts,
suppressions, idempotency records) and its stream, which the projector reads (infra/projection.py).

Its keys, indexes, index projections and stream are those of ``tracker.dal.models.table_schema()``
(local mode's and the tests' table); tests/infra/test_storage.py compares the two."""

from __future__ import annotations

from typing import Any

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
                    # Keys only, or keys and the few attributes a list filters on: an item's
                    # update rewrites an index entry only when one of these changes (an open or a
                    # click rewrites none); a page reads its items with one BatchGetItem.
                    **_projection(index),
                    max_read_request_units=throughput.max_read_units,
                    max_write_request_units=throughput.max_write_units,
                    warm_throughput=warm,
                )
                for index in c.GLOBAL_INDEXES
            ],
            # Every write with the item before and after it: the projector's input (message
            # counts, suppression evidence). Lambda's reads of the stream are not charged.
            dynamo_stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
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


def _projection(index: c.IndexSpec) -> dict[str, Any]:
    if index.included:
        return {
            "projection_type": dynamodb.ProjectionType.INCLUDE,
            "non_key_attributes": list(index.included),
        }
    return {"projection_type": dynamodb.ProjectionType.KEYS_ONLY}
