"""The in-process AWS emulator the bench runs against: moto's ``mock_aws`` with our table.

Calls are serialized by the meter's lock (moto is not thread-safe), and moto runs with the
shortcuts in its bookkeeping that local mode uses too (``local/moto_shortcuts.py``: the same
answers and stored items, at a cost proportional to the request instead of the table).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from local import moto_shortcuts

TABLE = "delivery-tracker-bench"
ACCOUNT_ID = "123456789012"  # moto's default account
REGION = "us-east-1"

# Fake credentials before any client exists: the bench never reaches an AWS account.
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "POWERTOOLS_SERVICE_NAME": "delivery-tracker",
    "POWERTOOLS_METRICS_NAMESPACE": "DeliveryTrackerBench",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
    "TABLE_NAME": TABLE,
    "CURSOR_SECRET": "bench-cursor-secret-0123456789abcdef",
}


def configure_environment() -> None:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "DYNAMODB_ENDPOINT_URL"):
        os.environ.pop(name, None)
    os.environ.update(ENVIRONMENT)
    # Powertools warns once per invocation that a batch published no metric (e.g. only duplicates).
    warnings.filterwarnings("ignore", message="No application metrics to publish")


@contextmanager
def emulated_table() -> Iterator[None]:
    """moto with the tracker's table created and bound to every model (and the handlers' caches
    cleared, so they bind to it too)."""
    import boto3
    from moto import mock_aws

    from tracker.dal.models import bind_table, table_schema

    with mock_aws(), moto_shortcuts.installed():
        bind_table(TABLE, region=REGION)
        boto3.client("dynamodb", region_name=REGION).create_table(**table_schema())
        _clear_handler_caches()
        try:
            yield
        finally:
            _clear_handler_caches()


def _clear_handler_caches() -> None:
    from tracker.handlers import ingest

    ingest.default_ingestor.cache_clear()
    try:
        from tracker.handlers import api
    except ImportError:
        return
    api.default_app.cache_clear()
