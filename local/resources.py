"""Create the stack's resources in the emulator, with the names and keys the CDK stack uses.

Names come from tracker.constants and the table schema from the PynamoDB models (the CDK storage
construct reads the same constants), so there is no second hand-written copy of either.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3

from local.emulator import REGION
from local.webhooks import LocalEventResources, create_event_resources
from tracker import constants
from tracker.dal.models import bind_table, table_schema

LOCAL_VISIBILITY_TIMEOUT_SECONDS = 2  # quick local retries; AWS uses 6x the function timeout


@dataclass(frozen=True)
class LocalResources:
    table_name: str
    topic_arn: str
    events_queue_url: str
    events_dlq_url: str
    send_queue_url: str
    send_dlq_url: str
    sender_address: str
    configuration_set: str
    untracked_configuration_set: str = constants.UNTRACKED_CONFIGURATION_SET_NAME
    # The event bus, the webhook DLQ and local mode's webhook feed (local/webhooks.py).
    events: LocalEventResources | None = None


def _queue_with_dlq(client: Any, name: str, dlq_name: str) -> tuple[str, str]:
    dlq_url = client.create_queue(QueueName=dlq_name)["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = client.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": str(LOCAL_VISIBILITY_TIMEOUT_SECONDS),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(constants.MAX_RECEIVE_COUNT)}
            ),
        },
    )["QueueUrl"]
    return queue_url, dlq_url


def create_resources(sender_address: str) -> LocalResources:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    bind_table(constants.TABLE_NAME, region=REGION)
    schema = table_schema()
    dynamodb.create_table(**schema)
    dynamodb.update_time_to_live(
        TableName=schema["TableName"],
        TimeToLiveSpecification={"Enabled": True, "AttributeName": constants.TTL_ATTRIBUTE},
    )

    sqs = boto3.client("sqs", region_name=REGION)
    events_queue_url, events_dlq_url = _queue_with_dlq(
        sqs, constants.EVENTS_QUEUE_NAME, constants.EVENTS_DLQ_NAME
    )
    send_queue_url, send_dlq_url = _queue_with_dlq(sqs, constants.SEND_QUEUE_NAME, constants.SEND_DLQ_NAME)

    sns = boto3.client("sns", region_name=REGION)
    topic_arn = sns.create_topic(Name=constants.EVENTS_TOPIC_NAME)["TopicArn"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=events_queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    # Raw message delivery stays off, as in the stack: the SQS body is the SNS notification JSON.
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)

    ses = boto3.client("sesv2", region_name=REGION)
    ses.create_email_identity(EmailIdentity=sender_address)
    ses.create_configuration_set(ConfigurationSetName=constants.CONFIGURATION_SET_NAME)
    # The untracked kinds' set (no OPEN/CLICK events in AWS); locally the SES stand-in publishes no
    # open or click for what is sent with it either.
    ses.create_configuration_set(ConfigurationSetName=constants.UNTRACKED_CONFIGURATION_SET_NAME)

    return LocalResources(
        table_name=schema["TableName"],
        topic_arn=topic_arn,
        events_queue_url=events_queue_url,
        events_dlq_url=events_dlq_url,
        send_queue_url=send_queue_url,
        send_dlq_url=send_dlq_url,
        sender_address=sender_address,
        configuration_set=constants.CONFIGURATION_SET_NAME,
        events=create_event_resources(),
    )
