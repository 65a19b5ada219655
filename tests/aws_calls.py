"""One way for tests to watch (and interfere with) the AWS requests the code makes.

Every botocore client call, boto3's and PynamoDB's alike, goes through
``BaseClient._make_api_call``; :func:`intercepted` wraps it for as long as it is active. A ``hook``
receives each call and a function that performs it, so it can count, serialize, fail before the
request (a crash) or after it (a lost response).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.client import BaseClient


@dataclass(frozen=True)
class ApiCall:
    service: str
    operation: str
    params: dict[str, Any]


Hook = Callable[[ApiCall, Callable[[], Any]], Any]

WRITE_OPERATIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})


def is_write(call: ApiCall) -> bool:
    return call.service == "dynamodb" and call.operation in WRITE_OPERATIONS


@contextmanager
def intercepted(hook: Hook | None = None, *, service: str | None = "dynamodb") -> Iterator[list[ApiCall]]:
    """The calls to ``service`` (every service with None) while active, in the order they were made.

    ``hook(call, perform)`` must return what ``perform()`` returns (or raise); without a hook the
    call is simply made. Wrappers nest: the innermost runs first."""
    calls: list[ApiCall] = []
    original = BaseClient._make_api_call

    def call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        name = client.meta.service_model.service_name
        if service is not None and name != service:
            return original(client, operation, params)
        entry = ApiCall(name, operation, params)
        calls.append(entry)

        def perform() -> Any:
            return original(client, operation, params)

        return hook(entry, perform) if hook is not None else perform()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BaseClient, "_make_api_call", call)
        yield calls
