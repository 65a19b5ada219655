"""The AWS clients keep a connection for every thread that calls through them at once: a pool
smaller than the sender's parallel SES calls (or ingest's commit threads) makes urllib3 close the
extra connections after each call ("Connection pool is full, discarding connection", seen in local
mode's 500-recipient send), so in Lambda every call beyond the pool pays a new TCP and TLS
handshake. (moto's in-process mock sends nothing over urllib3, so the sizes are what is checked.)"""

from __future__ import annotations

import boto3
import pytest

from infra.sender_tuning import SEND_PARALLEL_CALLS
from tracker.dal.models import shared_connection
from tracker.dal.outbound import SES_CLIENT_CONFIG
from tracker.logic.ingest import IngestSettings

MOST_THREADS = max(SEND_PARALLEL_CALLS[1], IngestSettings().workers)


@pytest.mark.usefixtures("aws", "table")
def test_the_tables_client_holds_a_connection_for_each_thread() -> None:
    assert shared_connection().client.meta.config.max_pool_connections >= MOST_THREADS


@pytest.mark.usefixtures("aws")
def test_the_ses_client_holds_a_connection_for_each_parallel_call() -> None:
    ses = boto3.client("sesv2", region_name="us-east-1", config=SES_CLIENT_CONFIG)
    assert ses.meta.config.max_pool_connections >= MOST_THREADS
