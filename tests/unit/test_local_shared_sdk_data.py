"""Local mode's SDK sessions share one data loader (local/shared_sdk_data.py): a client made in a
new thread's session reads nothing the first one has read, and works the same."""

from __future__ import annotations

from collections.abc import Iterator

import botocore.session
import pytest
from botocore import session as botocore_session

from local import shared_sdk_data


@pytest.fixture
def installed() -> Iterator[None]:
    original = botocore_session.Session.__dict__["_register_data_loader"]
    shared_sdk_data.install()
    yield
    botocore_session.Session._register_data_loader = original  # type: ignore[attr-defined]


def test_new_sessions_share_the_loader_and_make_the_same_clients(installed: None) -> None:
    first, second = botocore.session.get_session(), botocore.session.get_session()
    assert first.get_component("data_loader") is second.get_component("data_loader")
    clients = [
        s.create_client("dynamodb", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
        for s in (first, second)
    ]
    assert clients[0].meta.service_model.operation_names == clients[1].meta.service_model.operation_names
    assert "TransactWriteItems" in clients[1].meta.service_model.operation_names


def test_without_it_each_session_has_its_own_loader() -> None:
    assert botocore.session.get_session().get_component("data_loader") is not (
        botocore.session.get_session().get_component("data_loader")
    )
