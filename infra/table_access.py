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


# Ingest: reads the batch's recipients and their seen-event markers (BatchGetItem; the SES-id
# lookup on gsi2), writes each recipient once (a version-conditioned PutItem, or a transaction of
# PutItems with its markers) and keeps quarantined records (PutItem). Counts, the suppression
# evidence and everything else derived are the projector's.
INGEST = TableAccess(
    actions=(
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
    ),
    queried_indexes=(c.GSI_LOOKUP.name,),
)
# Sender: reads and claims the job's recipients (BatchGetItem, GetItem, UpdateItem), records
# outcomes with the ingest store's recipient write (PutItem), and reads the suppression records
# just before calling SES. No index, no batch writes.
SENDER = TableAccess(
    actions=(
        "dynamodb:BatchGetItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    ),
)
# The read API: queries the lists (the table and the three indexes), gets single items and fetches
# a page's items (BatchGetItem). Nothing else: its role cannot change the table.
READ_API = TableAccess(
    actions=(
        "dynamodb:BatchGetItem",
        "dynamodb:GetItem",
        "dynamodb:Query",
    ),
    queried_indexes=tuple(index.name for index in c.GLOBAL_INDEXES),
)
# The send API: writes a new message and its recipients (PutItem, BatchWriteItem, UpdateItem),
# checks suppressions (BatchGetItem), keeps Powertools idempotency records (PutItem, GetItem,
# UpdateItem, DeleteItem), lists suppressions (Query of gsi1, the history on the table), reads one
# (GetItem) and lifts it with its audit entry (a transaction: UpdateItem + PutItem). The erasure
# of a customer (DELETE /customers/{id}) reads the customer index (Query of gsi1, BatchGetItem),
# moves suppressions (transactions of UpdateItem, PutItem, DeleteItem), redacts texts
# (GetItem, UpdateItem, Query of the Idempotency-Key partition) and rewrites recipients (PutItem).
SEND_API = TableAccess(
    actions=(
        "dynamodb:BatchGetItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
    ),
    queried_indexes=(c.GSI_LISTS.name,),
)
# Projector: adds each message's count changes (UpdateItem, conditioned on its shard's mark),
# records suppression evidence on the address's item and re-evaluates it (UpdateItem; a new
# suppression and its audit entry in a transaction: UpdateItem + PutItem; a conflicting write is
# read again with BatchGetItem), and quarantines unreadable records (PutItem). The stream reads are
# the event source mapping's (infra/projection.py), not in this list.
PROJECTOR = TableAccess(
    actions=(
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    ),
)
# Apple's ranges refresher: downloads Apple's list and writes one S3 object (infra/reference_data.py);
# it makes no DynamoDB request, so its role gets no DynamoDB action at all.
APPLE_RANGES = TableAccess(actions=())
# The webhook DLQ's consumer: records each delivery EventBridge gave up on (BatchWriteItem of the
# tenant's failure items). The events function reads only the stream (its mapping's grant).
WEBHOOK_FAILURES = TableAccess(actions=("dynamodb:BatchWriteItem",))
