"""Which deltas the Ingestor folds by key and which messages it has the store look for.

An in-memory IngestStore: commits keep per-message pending deltas, folds move them into totals.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from tracker import constants
from tracker.domain.errors import ConflictError, TransientStoreError
from tracker.domain.events import EventKind, RecipientEvent
from tracker.domain.facts import RecipientFacts
from tracker.domain.records import (
    LogEntry,
    MessageKey,
    RecipientChange,
    RecipientKey,
    StoredRecipient,
    WrittenDelta,
    count_deltas,
)
from tracker.domain.status import Status
from tracker.logic.ingest import IncomingRecord, Ingestor, IngestSettings, Outcome
from tracker.logic.ports import IngestStore
from tracker.logic.retry import Backoff

AT = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
M1 = MessageKey("tenant-a", "msg-1")
M2 = MessageKey("tenant-a", "msg-2")

NO_WAIT = Backoff(sleep=lambda _seconds: None)


@dataclass
class FakeStore:
    recipients: dict[RecipientKey, tuple[RecipientFacts, int]] = field(default_factory=dict)
    pending: dict[MessageKey, dict[str, Counter[Status]]] = field(default_factory=lambda: defaultdict(dict))
    totals: dict[MessageKey, Counter[Status]] = field(default_factory=lambda: defaultdict(Counter))
    fold_calls: list[tuple[dict[MessageKey, list[str]], set[MessageKey]]] = field(default_factory=list)
    # What the next commits do: "ok", "lost" (written, then raises), "fail" (raises, nothing written).
    commit_script: list[str] = field(default_factory=list)
    fold_error: bool = False
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def add(self, message: MessageKey, recipient_id: str) -> None:
        self.recipients[RecipientKey(message.tenant_id, message.message_id, recipient_id)] = (
            RecipientFacts(),
            0,
        )
        self.totals[message][Status.QUEUED] += 1

    def load_recipients(self, keys: Collection[RecipientKey]) -> dict[RecipientKey, StoredRecipient]:
        return {
            key: StoredRecipient(key, f"{key.recipient_id}@example.com", facts, version)
            for key, (facts, version) in self.recipients.items()
            if key in keys
        }

    def find_by_ses_message_ids(self, ses_message_ids: Collection[str]) -> dict[str, list[StoredRecipient]]:
        return {}

    def commit(self, changes: Sequence[RecipientChange]) -> Sequence[WrittenDelta]:
        behaviour = self.commit_script.pop(0) if self.commit_script else "ok"
        if behaviour == "fail":
            raise TransientStoreError("commit failed")
        stale = [c.before.key for c in changes if self.recipients[c.before.key][1] != c.before.version]
        if stale:
            raise ConflictError(stale)
        for change in changes:
            self.recipients[change.before.key] = (change.after, (change.before.version or 0) + 1)
        written = []
        for message, counts in count_deltas(changes).items():
            delta_id = f"#DELTA#{next(self._ids)}"
            self.pending[message][delta_id] = counts
            written.append(WrittenDelta(message, delta_id, counts))
        if behaviour == "lost":
            raise TransientStoreError("the response was lost after the write")
        return written

    def append_log(self, entries: Sequence[LogEntry]) -> None:
        pass

    def fold_deltas(
        self, written: Mapping[MessageKey, Sequence[WrittenDelta]], query: Collection[MessageKey]
    ) -> None:
        self.fold_calls.append(
            ({m: [d.delta_id for d in deltas] for m, deltas in written.items()}, set(query))
        )
        if self.fold_error:
            raise TransientStoreError("message item busy")
        for message in query:
            self._fold(message, list(self.pending[message]))
        for message, deltas in written.items():
            ids = [delta.delta_id for delta in deltas]
            if all(delta_id in self.pending[message] for delta_id in ids):
                self._fold(message, ids)
            else:
                self._fold(message, list(self.pending[message]))

    def _fold(self, message: MessageKey, delta_ids: list[str]) -> None:
        for delta_id in delta_ids:
            self.totals[message].update(self.pending[message].pop(delta_id))

    def quarantine(self, source_id: str, body: str, reason: str, detail: str) -> None:
        pass

    def counts(self, message: MessageKey) -> dict[Status, int]:
        return {status: n for status, n in self.totals[message].items() if n}

    def recount(self, message: MessageKey) -> dict[Status, int]:
        return dict(
            Counter(facts.status for key, (facts, _) in self.recipients.items() if key.message == message)
        )


def event(message: MessageKey, recipient_id: str, kind: EventKind, minutes: int = 0) -> RecipientEvent:
    return RecipientEvent(
        event_id=f"{message.message_id}-{recipient_id}-{kind}-{minutes}",
        kind=kind,
        at=AT + timedelta(minutes=minutes),
        ses_message_id=f"ses-{message.message_id}-{recipient_id}",
        email=f"{recipient_id}@example.com",
        # Sent well before: an open at the moment of sending would be a machine's prefetch.
        mail_sent_at=AT - timedelta(minutes=10),
        tags={
            constants.TAG_TENANT: message.tenant_id,
            constants.TAG_MESSAGE: message.message_id,
            constants.TAG_RECIPIENT: recipient_id,
        },
    )


@pytest.fixture
def store() -> FakeStore:
    fake = FakeStore()
    for rid in ("r0", "r1", "r2"):
        fake.add(M1, rid)
    for rid in ("r0", "r1"):
        fake.add(M2, rid)
    return fake


def ingest(store: FakeStore, *records: tuple[RecipientEvent, int]) -> tuple[Ingestor, list[str]]:
    events = {f"record-{i}": e for i, (e, _) in enumerate(records)}
    ingestor = Ingestor(store, parse=lambda body: [events[body]], backoff=NO_WAIT, settings=IngestSettings())
    report = ingestor.apply_batch(
        [
            IncomingRecord(f"record-{i}", f"record-{i}", receive_count)
            for i, (_, receive_count) in enumerate(records)
        ]
    )
    return ingestor, report.failed_record_ids


def test_the_fake_is_an_ingest_store(store: FakeStore) -> None:
    typed: IngestStore = store
    assert typed is store


def test_a_first_delivery_folds_exactly_the_deltas_it_wrote_and_queries_nothing(store: FakeStore) -> None:
    _, failed = ingest(
        store,
        (event(M1, "r0", EventKind.DELIVERY), 1),
        (event(M1, "r1", EventKind.OPEN), 1),
        (event(M2, "r0", EventKind.DELIVERY), 1),
    )
    assert failed == []
    [(written, query)] = store.fold_calls
    assert query == set()
    assert written == {M1: ["#DELTA#0"], M2: ["#DELTA#1"]}
    assert store.counts(M1) == {Status.QUEUED: 1, Status.DELIVERED: 1, Status.OPENED: 1} == store.recount(M1)
    assert store.counts(M2) == {Status.QUEUED: 1, Status.DELIVERED: 1} == store.recount(M2)


def test_a_redelivered_record_makes_its_message_and_only_that_one_looked_for(store: FakeStore) -> None:
    store.pending[M1]["#DELTA#left-behind"] = Counter({Status.QUEUED: -1, Status.SENT: 1})
    store.recipients[RecipientKey("tenant-a", "msg-1", "r2")] = (
        RecipientFacts().apply(event(M1, "r2", EventKind.SEND)),
        1,
    )
    _, failed = ingest(
        store,
        (event(M1, "r2", EventKind.SEND), 2),  # applied by the crashed attempt: a duplicate now
        (event(M1, "r0", EventKind.DELIVERY), 1),
        (event(M2, "r0", EventKind.DELIVERY), 1),
    )
    assert failed == []
    [(written, query)] = store.fold_calls
    assert query == {M1}
    assert written == {M2: ["#DELTA#1"]}  # M1's own delta is found by the query
    assert store.pending[M1] == {}
    assert store.counts(M1) == {Status.QUEUED: 1, Status.DELIVERED: 1, Status.SENT: 1} == store.recount(M1)


def test_a_commit_that_wrote_but_raised_makes_its_messages_looked_for_in_the_same_batch(
    store: FakeStore,
) -> None:
    store.commit_script = ["lost"]  # then the retry conflicts with the write it cannot see
    _, failed = ingest(store, (event(M1, "r0", EventKind.DELIVERY), 1), (event(M2, "r0", EventKind.OPEN), 1))
    # The retried commit finds every event applied, so no record is redelivered: this batch
    # must fold the delta whose key it never learned.
    assert failed == []
    [(written, query)] = store.fold_calls
    assert query == {M1, M2}
    assert written == {}
    assert store.pending[M1] == {}
    assert store.pending[M2] == {}
    assert store.counts(M1) == {Status.QUEUED: 2, Status.DELIVERED: 1} == store.recount(M1)
    assert store.counts(M2) == {Status.QUEUED: 1, Status.OPENED: 1} == store.recount(M2)


def test_a_commit_that_failed_and_then_succeeded_is_looked_for_too(store: FakeStore) -> None:
    store.commit_script = ["fail"]  # the outcome of a raising commit is unknown to the caller
    _, failed = ingest(store, (event(M1, "r0", EventKind.DELIVERY), 1))
    assert failed == []
    [(written, query)] = store.fold_calls
    assert query == {M1}
    assert written == {}
    assert store.counts(M1) == {Status.QUEUED: 2, Status.DELIVERED: 1} == store.recount(M1)


def test_duplicates_only_on_a_first_delivery_fold_nothing(store: FakeStore) -> None:
    ingest(store, (event(M1, "r0", EventKind.DELIVERY), 1))
    store.fold_calls.clear()
    _, failed = ingest(store, (event(M1, "r0", EventKind.DELIVERY), 1))
    assert failed == []
    assert store.fold_calls == []


def test_a_failed_fold_sends_the_records_of_its_messages_back(store: FakeStore) -> None:
    store.fold_error = True
    _, failed = ingest(
        store, (event(M1, "r0", EventKind.DELIVERY), 1), (event(M2, "r0", EventKind.DELIVERY), 1)
    )
    assert sorted(failed) == ["record-0", "record-1"]
    assert len(store.pending[M1]) == 1
    # The redelivery (receive count 2) looks for the pending deltas and folds them.
    store.fold_error = False
    store.fold_calls.clear()
    ingestor = Ingestor(store, parse=lambda body: [event(M1, "r0", EventKind.DELIVERY)], backoff=NO_WAIT)
    report = ingestor.apply_batch([IncomingRecord("record-0", "record-0", 2)])
    assert report.outcomes == {"record-0": Outcome.APPLIED}
    assert store.fold_calls == [({}, {M1})]
    assert store.counts(M1) == {Status.QUEUED: 2, Status.DELIVERED: 1} == store.recount(M1)
