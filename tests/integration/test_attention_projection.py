"""The queue place the projector derives after counting (tracker.dal.attention): a crash between
the count update and the queue write is repaired by the redelivery, whose refused count update
answers with the item; a replay changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tracker.dal import keys
from tracker.dal.messages import NewMessage, NewRecipient, put_message
from tracker.dal.models import MessageItem
from tracker.dal.projection import DynamoCountStore
from tracker.domain.attention import Concern
from tracker.domain.records import MessageKey
from tracker.domain.status import Status
from tracker.logic.projector import AttentionChange, sequence_key

pytestmark = pytest.mark.usefixtures("table")

AT = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
MESSAGE = MessageKey("tenant-a", "m1")


class Crash(BaseException):
    """Stops the process (nothing in the code under test catches a BaseException)."""


def header() -> MessageItem:
    return MessageItem.get(keys.message_pk("tenant-a", "m1"), keys.MESSAGE_SK, consistent_read=True)


def queued() -> list[str]:
    return [item.sk for item in MessageItem.attention_index.query(keys.attention_pk("tenant-a", "documents"))]


def test_a_crash_after_counting_is_repaired_by_the_redelivery(monkeypatch: pytest.MonkeyPatch) -> None:
    put_message(
        NewMessage("tenant-a", "m1", "invoice", "Invoice", AT, invoice_id="INV-1"),
        [NewRecipient("r0", "cust-1", "ana@example.com")],
    )
    bounced = Concern("r0", "cust-1", "ana@example.com", None, Status.BOUNCED, AT, "mailbox_does_not_exist")
    change = AttentionChange(concerned={"failed": 1}, entries={"r0": bounced}, failed_since=AT)
    store = DynamoCountStore()
    first = last = sequence_key("100")

    def crash(*_args: object) -> None:
        raise Crash

    with monkeypatch.context() as patched:
        patched.setattr(DynamoCountStore, "_settle", crash)
        with pytest.raises(Crash):
            store.add_counts(MESSAGE, "shard", first, last, {"bounced": 1}, change)
    item = header()
    assert (item.attention_failed, item.count_bounced, item.attention_at) == (1, 1, None)
    assert queued() == []

    # Lambda delivers the batch again: counted already, so only the queue place is written.
    assert store.add_counts(MESSAGE, "shard", first, last, {"bounced": 1}, change) == last
    item = header()
    assert (item.attention_failed, item.count_bounced) == (1, 1)
    assert (item.attention_at, item.attention_problem) == (keys.iso(AT), "failed")
    assert queued() == [keys.MESSAGE_SK]
    # Once more: nothing changes.
    assert store.add_counts(MESSAGE, "shard", first, last, {"bounced": 1}, change) == last
    assert (header().attention_failed, queued()) == (1, [keys.MESSAGE_SK])

    # The recipient is dismissed: the queue place goes with the last concerned recipient.
    resolved = AttentionChange(concerned={"failed": -1}, entries={"r0": None})
    later = sequence_key("200")
    assert store.add_counts(MESSAGE, "shard", later, later, {}, resolved) is None
    item = header()
    assert (item.attention_failed, item.attention_at, item.attention_failed_since) == (0, None, None)
    assert item.attention.as_dict() == {}
    assert queued() == []
