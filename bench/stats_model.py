"""How many statistics hour items the projector writes for a stream of SES events, modelled without
the emulator: the events folded into each recipient's facts per SQS batch of 100 (as the ingest
path writes one change per recipient per batch), the changes cut into projector invocations, and
per invocation one write per hour item whose counts move (tracker.logic.stats_projection).

The bench's measured run posts its events shuffled across their four days (the order the
exactness checks want), so each invocation touches many hours. SES publishes events as they
happen, so a projector batch holds events of the last seconds: the same events in time order show
what a deployment writes. The model is checked against the measured run (the same order and cuts
give the same number of writes)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime

from bench.generator import CREATED_AT, EventSpec, SyntheticSend
from tests import ses_builders as b
from tracker.domain.events import RecipientEvent
from tracker.domain.facts import RecipientFacts
from tracker.domain.stats import StatMark, marks_delta, stat_marks

INGEST_BATCH = 100


def stats_writes(
    send: SyntheticSend,
    specs: Sequence[EventSpec],
    parse: Callable[[str], list[RecipientEvent]],
    projector_records: int,
) -> int:
    """Statistics item writes for ``specs`` in this order, with projector invocations of up to
    ``projector_records`` recipient changes."""
    facts: dict[int, RecipientFacts] = {}
    marks: dict[int, frozenset[StatMark]] = {}
    changes: list[tuple[frozenset[StatMark], frozenset[StatMark]]] = []
    for start in range(0, len(specs), INGEST_BATCH):
        touched: dict[int, RecipientFacts] = {}
        for spec in specs[start : start + INGEST_BATCH]:
            body = json.dumps(b.sns_wrap(send.ses_event(spec), "00000000-0000-0000-0000-000000000000"))
            for event in parse(body):
                current = touched.get(spec.recipient) or facts.get(spec.recipient) or RecipientFacts()
                touched[spec.recipient] = current.apply(event)
        for index, new in touched.items():
            if new == facts.get(index):
                continue
            facts[index] = new
            after = stat_marks(new, "email", CREATED_AT)
            changes.append((marks.get(index, frozenset()), after))
            marks[index] = after
    writes = 0
    for start in range(0, len(changes), projector_records):
        hours: set[datetime] = set()
        for before, after in changes[start : start + projector_records]:
            hours.update(mark.hour for mark in marks_delta(before, after))
        writes += len(hours)
    return writes


def in_time_order(specs: Sequence[EventSpec]) -> list[EventSpec]:
    """The order SES publishes them in (duplicates right after their original)."""
    return sorted(specs, key=lambda spec: (spec.at, spec.recipient, spec.copy))
