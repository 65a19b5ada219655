"""The fold of count deltas: by key on a first delivery, by looking on a redelivery.

A batch folds the count deltas it has just written by their keys (no Query). It looks for
leftover deltas (a consistent Query) only for a message touched by a redelivered record, and
falls back to looking when its by-key fold is refused because another fold took a delta.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from tests import ses_builders as b
from tests.aws_calls import ApiCall, intercepted
from tests.factories import CREATED_AT, message_counts, pending_deltas, recount, seed_message, ses_id
from tests.lambda_context import FakeLambdaContext
from tracker.dal import keys
from tracker.dal.ingest_store import DynamoIngestStore
from tracker.dal.models import CountDeltaItem
from tracker.domain.status import Status
from tracker.handlers import ingest

pytestmark = pytest.mark.usefixtures("table")

SENT = CREATED_AT + timedelta(minutes=1)


class SimulatedCrash(BaseException):
    """The Lambda process dying: not an Exception, so no handler code can swallow it."""


@dataclass
class Call:
    operation: str
    params: dict[str, Any]

    @property
    def is_delta_query(self) -> bool:
        return self.operation == "Query" and keys.DELTA_SK_PREFIX in str(
            self.params.get("ExpressionAttributeValues", {})
        )

    @property
    def queried_pk(self) -> str:
        values = self.params.get("ExpressionAttributeValues", {}).values()
        return next(value["S"] for value in values if value["S"].startswith("T#"))

    @property
    def deleted_deltas(self) -> list[tuple[str, str]]:
        """(pk, sk) of the count deltas a TransactWriteItems deletes: non-empty for a fold."""
        if self.operation != "TransactWriteItems":
            return []
        found = []
        for action in self.params["TransactItems"]:
            key = action.get("Delete", {}).get("Key")
            if key and key["sk"]["S"].startswith(keys.DELTA_SK_PREFIX):
                found.append((key["pk"]["S"], key["sk"]["S"]))
        return found

    @property
    def writes_message_item(self) -> list[str]:
        if self.operation != "TransactWriteItems":
            return []
        return [
            action["Update"]["Key"]["pk"]["S"]
            for action in self.params["TransactItems"]
            if "Update" in action and action["Update"]["Key"]["sk"]["S"] == keys.MESSAGE_SK
        ]


@dataclass
class Recorder:
    calls: list[Call] = field(default_factory=list)
    # Runs before a call goes through (it may raise, or act as another invocation would).
    before: Callable[[Call], None] | None = None

    def of(self, operation: str) -> list[Call]:
        return [call for call in self.calls if call.operation == operation]

    @property
    def delta_queries(self) -> list[Call]:
        return [call for call in self.calls if call.is_delta_query]

    @property
    def folds(self) -> list[Call]:
        return [call for call in self.calls if call.deleted_deltas]


@contextmanager
def recording(before: Callable[[Call], None] | None = None) -> Iterator[Recorder]:
    """Every DynamoDB request the code makes, in order."""
    recorder = Recorder(before=before)

    def watch(call: ApiCall, perform: Callable[[], Any]) -> Any:
        entry = Call(call.operation, call.params)
        recorder.calls.append(entry)
        if recorder.before is not None:
            recorder.before(entry)
        return perform()

    with intercepted(watch):
        yield recorder


def crash_at_the_fold(call: Call) -> None:
    if call.deleted_deltas:
        raise SimulatedCrash("the process died before the fold")


def run(records: list[dict[str, Any]]) -> list[str]:
    ingest.default_ingestor.cache_clear()
    response = ingest.handler(b.sqs_event(records), FakeLambdaContext())
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def tags(message_id: str, index: int) -> dict[str, str]:
    return b.tags_for("tenant-a", message_id, f"r{index}")


def delivered(message_id: str, index: int) -> dict[str, Any]:
    return b.delivery_event(
        ses_id(message_id, index), f"person{index}@example.com", sent_at=SENT, tags=tags(message_id, index)
    )


def opened(message_id: str, index: int) -> dict[str, Any]:
    return b.open_event(
        ses_id(message_id, index), f"person{index}@example.com", sent_at=SENT, tags=tags(message_id, index)
    )


def record(event: dict[str, Any]) -> dict[str, Any]:
    return b.sqs_record(b.sns_body(event))


def redelivered(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same SQS messages delivered again: SQS counts the receives."""
    again = []
    for original in records:
        copy = {**original, "attributes": dict(original["attributes"])}
        copy["attributes"]["ApproximateReceiveCount"] = str(
            int(original["attributes"]["ApproximateReceiveCount"]) + 1
        )
        again.append(copy)
    return again


def assert_exact(message_id: str, want: dict[Status, int]) -> None:
    assert pending_deltas("tenant-a", message_id) == []
    assert message_counts("tenant-a", message_id) == want
    assert recount("tenant-a", message_id) == want


@pytest.fixture
def two_messages(table: str) -> None:
    seed_message("tenant-a", "msg-1", recipients=4)
    seed_message("tenant-a", "msg-2", recipients=2)


@pytest.mark.usefixtures("two_messages")
def test_a_first_delivery_folds_its_own_deltas_without_a_query() -> None:
    batch = [
        record(delivered("msg-1", 0)),
        record(opened("msg-1", 0)),
        record(delivered("msg-1", 1)),
        record(delivered("msg-2", 0)),
        record(opened("msg-2", 1)),
        record(opened("msg-2", 1)),  # the same SES event twice
    ]
    with recording() as calls:
        assert run(batch) == []

    assert calls.of("Query") == []
    assert calls.delta_queries == []
    # One chunk transaction (both deltas), then exactly one fold transaction per message,
    # each deleting exactly the delta that chunk wrote and writing its message item once.
    commits = [call for call in calls.of("TransactWriteItems") if not call.deleted_deltas]
    assert len(commits) == 1
    written = sorted(
        (action["Put"]["Item"]["pk"]["S"], action["Put"]["Item"]["sk"]["S"])
        for action in commits[0].params["TransactItems"]
        if "Put" in action and action["Put"]["Item"]["sk"]["S"].startswith(keys.DELTA_SK_PREFIX)
    )
    assert sorted(delta for fold in calls.folds for delta in fold.deleted_deltas) == written
    assert len(calls.folds) == 2
    assert Counter(pk for fold in calls.folds for pk in fold.writes_message_item) == {
        keys.message_pk("tenant-a", "msg-1"): 1,
        keys.message_pk("tenant-a", "msg-2"): 1,
    }
    assert_exact("msg-1", {Status.OPENED: 1, Status.DELIVERED: 1, Status.QUEUED: 2})
    assert_exact("msg-2", {Status.DELIVERED: 1, Status.OPENED: 1})


@pytest.mark.usefixtures("two_messages")
def test_a_first_delivery_of_duplicates_only_writes_no_fold() -> None:
    assert run([record(delivered("msg-1", 0))]) == []
    with recording() as calls:
        assert run([record(delivered("msg-1", 0))]) == []  # another SNS copy of the same event
    assert calls.of("Query") == []
    assert calls.of("TransactWriteItems") == []
    assert_exact("msg-1", {Status.DELIVERED: 1, Status.QUEUED: 3})


@pytest.mark.usefixtures("two_messages")
def test_a_redelivery_after_a_crash_before_the_fold_queries_and_folds_the_leftover() -> None:
    batch = [record(delivered("msg-1", 0)), record(opened("msg-1", 1)), record(delivered("msg-2", 0))]

    with recording(before=crash_at_the_fold), pytest.raises(SimulatedCrash):
        run(batch)
    assert len(pending_deltas("tenant-a", "msg-1")) == 1
    assert len(pending_deltas("tenant-a", "msg-2")) == 1
    assert message_counts("tenant-a", "msg-1") == {Status.QUEUED: 4}  # not folded yet

    # SQS delivers the batch again; every event is a duplicate now, nothing new is committed.
    with recording() as calls:
        assert run(redelivered(batch)) == []
    assert not [call for call in calls.of("TransactWriteItems") if not call.deleted_deltas]
    queried = sorted(call.queried_pk for call in calls.delta_queries)
    assert queried == [keys.message_pk("tenant-a", "msg-1"), keys.message_pk("tenant-a", "msg-2")]
    assert all(call.params.get("ConsistentRead") for call in calls.delta_queries)
    assert len(calls.folds) == 2
    assert_exact("msg-1", {Status.DELIVERED: 1, Status.OPENED: 1, Status.QUEUED: 2})
    assert_exact("msg-2", {Status.DELIVERED: 1, Status.QUEUED: 1})


@pytest.mark.usefixtures("two_messages")
def test_only_the_messages_of_redelivered_records_are_queried() -> None:
    again = redelivered([record(delivered("msg-1", 0))])
    with recording() as calls:
        assert run([*again, record(delivered("msg-2", 0))]) == []
    queried = [call.queried_pk for call in calls.delta_queries]
    assert queried == [keys.message_pk("tenant-a", "msg-1")]
    assert len(calls.folds) == 2
    assert_exact("msg-1", {Status.DELIVERED: 1, Status.QUEUED: 3})
    assert_exact("msg-2", {Status.DELIVERED: 1, Status.QUEUED: 1})


@pytest.mark.usefixtures("two_messages")
def test_a_known_keys_fold_refused_because_another_fold_took_the_delta_falls_back_and_stays_exact() -> None:
    # An earlier batch crashed before its fold and has not been redelivered yet: its delta is
    # pending (readers count it), waiting for a fold that looks.
    earlier = [record(delivered("msg-1", 0))]
    with recording(before=crash_at_the_fold), pytest.raises(SimulatedCrash):
        run(earlier)
    assert len(pending_deltas("tenant-a", "msg-1")) == 1

    taken: list[tuple[str, str]] = []

    def another_fold_takes_the_delta(call: Call) -> None:
        # Right before this batch's by-key fold, another invocation folds this batch's delta
        # (and only that one): the by-key fold's conditional delete is refused.
        if call.deleted_deltas and not taken:
            pk, sk = call.deleted_deltas[0]
            taken.append((pk, sk))
            delta = CountDeltaItem.get(pk, sk, consistent_read=True)
            DynamoIngestStore._fold_transaction(pk, [(sk, delta.counts())])

    with recording(before=another_fold_takes_the_delta) as calls:
        assert run([record(opened("msg-1", 1)), record(delivered("msg-1", 2))]) == []

    assert taken, "the batch never tried to fold by key"
    folds = calls.folds
    # Ours (refused), the other invocation's, then ours again after a Query: it also finds the
    # earlier batch's leftover and folds it.
    assert [fold.deleted_deltas for fold in folds[:2]] == [taken, taken]
    assert len(calls.delta_queries) == 1
    assert calls.calls.index(calls.delta_queries[0]) > calls.calls.index(folds[1])
    assert len(folds) == 3
    assert taken[0] not in folds[2].deleted_deltas
    assert len(folds[2].deleted_deltas) == 1
    assert_exact("msg-1", {Status.DELIVERED: 2, Status.OPENED: 1, Status.QUEUED: 1})

    # The earlier batch's redelivery then finds nothing left to fold, and counts stay exact.
    with recording() as calls:
        assert run(redelivered(earlier)) == []
    assert len(calls.delta_queries) == 1
    assert calls.folds == []
    assert_exact("msg-1", {Status.DELIVERED: 2, Status.OPENED: 1, Status.QUEUED: 1})
