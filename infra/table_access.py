"""The DynamoDB access each function's role is granted, instead of grant_read_write_data (which also
grants Scan, stream reads, DescribeTable and more that no code calls).

IAM authorizes each item of a TransactWriteItems as PutItem, UpdateItem, DeleteItem or
ConditionCheckItem, and a Query of an index on the index's ARN. Which requests each function's code
makes is measured, not assumed: tests/integration/test_table_access.py runs the paths of each
handler against moto, records every DynamoDB request and checks these lists against it, both ways.
No aws_cdk import here, so that test stays an ordinary moto test.
"""

from __future__ import annotations

from dataclasses import dataclass

from tracker import constants as c


@dataclass(frozen=True)
class TableAccess:
    actions: tuple[str, ...]  # on the table's items
    queried_indexes: tuple[str, ...] = ()  # dynamodb:Query on these indexes only


# Ingest: reads the batch's recipients (BatchGetItem; the SES-id lookup on gsi2), commits recipients
# and count deltas in transactions, folds the deltas into the message (UpdateItem, DeleteItem, and a
# ConditionCheckItem when they sum to zero; Query of leftover deltas), appends the event log and
# suppression evidence (BatchWriteItem), keeps quarantined records and suppressions (PutItem).
INGEST = TableAccess(
    actions=(
        "dynamodb:BatchGetItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:DeleteItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
    ),
    queried_indexes=(c.GSI_LOOKUP.name,),
)
# Sender: reads and claims the job's recipients (BatchGetItem, GetItem, UpdateItem), records outcomes
# and deltas in the ingest store's transactions, folds them, and reads the suppression records just
# before calling SES. No index, no batch writes.
SENDER = TableAccess(
    actions=(
        "dynamodb:BatchGetItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
    ),
)
# API: queries the lists (table and the three indexes), gets single items, writes a new message and
# its recipients (PutItem, BatchWriteItem), checks suppressions (BatchGetItem), keeps Powertools
# idempotency records (PutItem, GetItem, UpdateItem, DeleteItem) and lifts suppressions (PutItem).
API = TableAccess(
    actions=(
        "dynamodb:BatchGetItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
    ),
    queried_indexes=tuple(index.name for index in c.GLOBAL_INDEXES),
)
# Apple's ranges refresher: downloads Apple's list and writes one S3 object (infra/reference_data.py);
# it makes no DynamoDB request, so its role gets no DynamoDB action at all.
APPLE_RANGES = TableAccess(actions=())
