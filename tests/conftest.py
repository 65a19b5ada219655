"""Shared fixtures: fake AWS credentials, moto's mock_aws, the table bound to every model."""

from __future__ import annotations

import os

# Set before any AWS client exists; nothing in these tests may reach a real account.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "delivery-tracker",
        "POWERTOOLS_METRICS_NAMESPACE": "DeliveryTrackerTest",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "TABLE_NAME": "tracker-test",
    }
)

import threading
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.aws_calls import ApiCall, Hook, intercepted
from tracker.dal.models import bind_table, table_schema

TEST_TABLE = "tracker-test"


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def table(aws: None) -> str:
    bind_table(TEST_TABLE, region="us-east-1")
    boto3.client("dynamodb", region_name="us-east-1").create_table(**table_schema())
    return TEST_TABLE


_EMULATOR_LOCK = threading.Lock()


def one_at_a_time(lock: threading.Lock) -> Hook:
    def serialized(_call: ApiCall, perform: Callable[[], Any]) -> Any:
        with lock:
            return perform()

    return serialized


@pytest.fixture(autouse=True)
def one_request_at_a_time_in_the_emulator() -> Iterator[None]:
    """moto is not thread-safe (a transaction deep-copies tables that a concurrent request mutates).

    Real DynamoDB serves concurrent requests; our code still issues them from several threads,
    and this lock only makes the in-process emulator handle them one at a time.
    """
    with intercepted(one_at_a_time(_EMULATOR_LOCK), service=None):
        yield


@pytest.fixture
def dynamodb_calls() -> Iterator[list[ApiCall]]:
    """Every DynamoDB request made during the test, in order."""
    with intercepted() as calls:
        yield calls
