"""Hostile SES input: real SES payloads aimed at seeded recipients (`tests/ses_payloads.py`), mutated
(`tests/hostile_mutations.py`) in the event record, the mail object, the type-specific object, the
SNS envelope or the SQS body as a whole; and batches that mix such records with good ones.

For any test that feeds the ingest path: :func:`hostile_records` (one mutated SQS body with the
changes made to it) and :func:`hostile_batches` (good records, some delivered twice, shuffled with
hostile ones). Every value is described compactly (huge strings abbreviated), so that a
falsifying example reads as a list of changes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.internal.conjecture import providers

from tests import ses_builders as b
from tests.hostile_mutations import (
    Change,
    attack,
    body_change,
    change_in,
    envelope_change,
    object_change,
    record_scope,
)
from tests.hostile_values import Obj, dumps, replace, short, sqs_escaped, tree
from tests.ses_payloads import good_events
from tests.strategies import SENT_AT, Target

# SNS publishes messages of up to 256 KiB: SES cannot send us more in one record. SQS takes bodies
# of up to 1 MiB (an SNS envelope escapes the message, which can double it).
SNS_MESSAGE_LIMIT = 256 * 1024
SQS_MESSAGE_LIMIT = 1024 * 1024

# --- hostile records and batches --------------------------------------------------------------

# Attacks at the fields the tracker reads are drawn most often (and examples shrink to them).
STAGES = ("attack", "attack", "attack", "record", "mail", "event", "envelope", "body")
_ORDER = ("attack", "record", "mail", "event", "envelope", "body")


@dataclass(frozen=True)
class HostileRecord:
    """An SQS body made from a good SES record by ``changes``."""

    origin: str
    changes: tuple[Change, ...]
    body: str

    @property
    def keeps_meaning(self) -> bool:
        """Only changes that leave the event as it was (keys reordered, whitespace, no envelope):
        the record must apply as its origin would."""
        return all(change.keeps_meaning for change in self.changes)

    def __repr__(self) -> str:
        changes = "; ".join(str(change) for change in self.changes)
        return f"<{self.origin} | {changes} | body {len(self.body):,} chars: {short(self.body, 100)}>"


@st.composite
def hostile_records(draw: st.DrawFn, targets: Sequence[Target]) -> HostileRecord:
    """A good record for one of ``targets`` with one to three mutations applied to it."""
    good = draw(good_events(targets))
    stages = sorted(draw(st.lists(st.sampled_from(STAGES), min_size=1, max_size=3)), key=_ORDER.index)
    changes: list[Change] = []
    record: Any = tree(good.record)
    for _ in (s for s in stages if s == "attack"):
        record, change = draw(attack(record, targets))
        changes.append(change)
    for stage in (s for s in stages if s in ("record", "mail", "event")):
        scope, name = record_scope(stage, record) if isinstance(record, Obj) else ((), "record")
        if scope or not isinstance(record, Obj) or draw(st.booleans()):
            record, change = draw(change_in(record, scope, name, deep=bool(scope)))
        else:  # the record object itself: keys reordered, duplicated or added
            operation = draw(st.sampled_from(["reorder", "duplicate", "add"]))
            record, change = object_change(draw, record, operation, name)
        changes.append(change)
    # SES writes UTF-8 JSON; some publishers escape everything outside ASCII (when that still fits).
    message = dumps(record, ascii_only=False)
    assume(len(message.encode("utf-8", "surrogatepass")) <= SNS_MESSAGE_LIMIT)
    if draw(st.booleans()) and len(ascii_message := dumps(record)) <= SNS_MESSAGE_LIMIT:
        message = ascii_message
    envelope: Any = tree(b.sns_wrap({}, str(draw(st.uuids())), published_at=SENT_AT))
    envelope = replace(envelope, ("Message",), message)
    for _ in (s for s in stages if s == "envelope"):
        envelope, change = draw(envelope_change(envelope, record, message))
        changes.append(change)
    body = sqs_escaped(dumps(envelope, ascii_only=False))
    for _ in (s for s in stages if s == "body"):
        body, change = draw(body_change(envelope, body, message))
        changes.append(change)
    body = sqs_escaped(body)
    assume(len(body.encode("utf-8")) <= SQS_MESSAGE_LIMIT)
    return HostileRecord(good.label, tuple(changes), body)


@dataclass(frozen=True)
class Entry:
    """One SQS record of a batch: its body, and whether it must apply (good records and records
    changed only in ways that keep their meaning)."""

    body: str
    must_apply: bool
    label: str

    def __repr__(self) -> str:
        return f"{'must apply' if self.must_apply else 'hostile'}: {self.label}"


@dataclass(frozen=True)
class Batch:
    entries: tuple[Entry, ...]

    def sqs_records(self) -> list[dict[str, Any]]:
        return [b.sqs_record(entry.body, f"record-{n}") for n, entry in enumerate(self.entries)]

    def __repr__(self) -> str:
        lines = "".join(f"\n  record-{n} {entry!r}" for n, entry in enumerate(self.entries))
        return f"Batch({len(self.entries)} records:{lines})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """How Hypothesis shows a falsifying batch: as above, not field by field (bodies are huge)."""
        printer.text(repr(self))


@st.composite
def hostile_batches(
    draw: st.DrawFn, targets: Sequence[Target], max_good: int = 5, max_hostile: int = 5
) -> Batch:
    """Good records (some delivered twice, as fresh SNS notifications) and hostile ones, shuffled."""
    goods = draw(st.lists(good_events(targets), min_size=1, max_size=max_good))
    goods += draw(st.lists(st.sampled_from(goods), max_size=2))
    entries = [
        Entry(
            json.dumps(b.sns_wrap(good.record, str(draw(st.uuids())), published_at=SENT_AT)), True, good.label
        )
        for good in goods
    ]
    for hostile in draw(st.lists(hostile_records(targets), min_size=1, max_size=max_hostile)):
        entries.append(Entry(hostile.body, hostile.keeps_meaning, repr(hostile)))
    return Batch(tuple(draw(st.permutations(entries))))


@contextmanager
def same_examples_whatever_was_imported() -> Iterator[None]:
    """Hypothesis now and then draws a constant found in the source of any local module imported so
    far (``providers._get_local_constants``), so a derandomized test would draw other batches after
    other tests ran in the same process (``make test`` shares workers). Inside this, that pool is
    empty. The hook is private: hypothesis is pinned in requirements-dev.txt."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(providers, "_get_local_constants", lambda: type(providers.GLOBAL_CONSTANTS)())
        providers.CONSTANTS_CACHE.cache.clear()
        try:
            yield
        finally:
            providers.CONSTANTS_CACHE.cache.clear()
