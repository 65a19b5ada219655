"""The operators' tools' collaborators (not a Lambda function: run by `make quarantine`)."""

from __future__ import annotations

import boto3

from tracker.bootstrap.common import bind_table
from tracker.dal.outbound import SqsEventRedelivery
from tracker.dal.quarantine import DynamoQuarantineStore
from tracker.logic.quarantine import QuarantineService
from tracker.settings import Settings


def quarantine_service(events_queue_url: str) -> QuarantineService:
    config = Settings.from_env()
    bind_table(config)
    sqs = boto3.client("sqs", region_name=config.region)
    return QuarantineService(DynamoQuarantineStore(), SqsEventRedelivery(sqs, events_queue_url))
