"""What the emulator spends its time on, request by request: a count and the CPU seconds of the
serving thread per AWS operation (``DynamoDB.UpdateItem``, ``SQS.ReceiveMessage``, ...).

Two clock readings per request (``time.thread_time``), so it is always on, unlike cProfile's
call-by-call profile (``local/profiling.py``), which roughly doubles the CPU and weighs small
calls far above their cost. ``GET /_local/tally`` on the emulator's port answers the totals so
far as JSON (``bench.localload`` reads them before and after the load and prints the difference).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping

TALLY_PATH = "/_local/tally"
_QUERY_ACTION = re.compile(rb"(?:^|&)Action=([A-Za-z]+)")
# X-Amz-Target prefixes (JSON protocols) -> a short service name.
_TARGET_SERVICES = {
    "DynamoDB_20120810": "DynamoDB",
    "DynamoDBStreams_20120810": "Streams",
    "AmazonSQS": "SQS",
    "AWSEvents": "Events",
}


def operation_of(method: str, target: str, headers: Iterable[tuple[str, str]], body: bytes) -> str:
    """The AWS operation a request asks for, as far as its protocol tells cheaply."""
    for name, value in headers:
        if name.lower() == "x-amz-target":
            prefix, _, action = value.partition(".")
            return f"{_TARGET_SERVICES.get(prefix, prefix)}.{action}"
    found = _QUERY_ACTION.search(body[:200]) if body else None
    if found:  # the query protocol (SNS): the action is a form field
        return f"Query.{found.group(1).decode()}"
    path = target.partition("?")[0]
    return f"{method} {'/'.join(path.split('/')[:4])}"  # REST (SES v2, S3): its route


class Tally:
    def __init__(self) -> None:
        self.totals: dict[str, list[float]] = {}  # operation -> [requests, CPU seconds]

    def add(self, operation: str, cpu_seconds: float) -> None:
        entry = self.totals.setdefault(operation, [0, 0.0])
        entry[0] += 1
        entry[1] += cpu_seconds

    def json(self) -> bytes:
        return json.dumps(
            {op: {"requests": n, "cpu_seconds": s} for op, (n, s) in self.totals.items()}
        ).encode()


def difference(
    after: Mapping[str, Mapping[str, float]], before: Mapping[str, Mapping[str, float]]
) -> dict[str, tuple[int, float]]:
    """Per operation, the requests and CPU seconds between two readings."""
    changed = {}
    for operation, now in after.items():
        then = before.get(operation, {})
        requests = int(now["requests"] - then.get("requests", 0))
        if requests:
            changed[operation] = (requests, float(now["cpu_seconds"] - then.get("cpu_seconds", 0.0)))
    return changed
