"""Apply a batch of SES events to their recipients, exactly once, at one write per changed recipient.

The batch is processed as a whole: one batched read of every recipient it names, its events folded
into each recipient's facts in memory (duplicates fall out here), then one conditional write per
changed recipient (tracker.logic.commits). Nothing else is written: the message counts,
statistics and outgoing events are projections of the recipients' changes, made from the table's
stream (tracker.logic.projector). A record that can never be applied is quarantined with its
reason and succeeds; a record whose recipient could not be written now is retried by SQS. This
module knows no AWS SDK: the store is injected.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from tracker import constants
from tracker.domain.erasure import same_address
from tracker.domain.errors import InvalidEventError, TransientStoreError
from tracker.domain.events import EventKind, RecipientEvent
from tracker.domain.records import RecipientKey, StoredRecipient
from tracker.logic.commits import CommitLog, Committer
from tracker.logic.ports import IngestStore
from tracker.logic.retry import Backoff


@dataclass(frozen=True)
class IncomingRecord:
    """One SQS record: its id, raw body and how often SQS has delivered it."""

    record_id: str
    body: str
    receive_count: int = 1


class Outcome(StrEnum):
    APPLIED = "applied"
    QUARANTINED = "quarantined"
    RETRY = "retry"


@dataclass
class BatchReport:
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    retry_reasons: dict[str, str] = field(default_factory=dict)
    applied_events: int = 0
    duplicate_events: int = 0
    quarantined_records: int = 0
    events_by_kind: Counter[EventKind] = field(default_factory=Counter)

    def fail(self, record_id: str, reason: str) -> None:
        if self.outcomes.get(record_id) != Outcome.QUARANTINED:
            self.outcomes[record_id] = Outcome.RETRY
            self.retry_reasons.setdefault(record_id, reason)

    @property
    def failed_record_ids(self) -> list[str]:
        return [record_id for record_id, outcome in self.outcomes.items() if outcome == Outcome.RETRY]


Parser = Callable[[str], list[RecipientEvent]]


@dataclass(frozen=True)
class IngestSettings:
    # An event whose recipient is not found yet is retried this many deliveries (the send
    # path may not have stored the SES message id yet), then quarantined as unknown.
    unmatched_retry_deliveries: int = constants.MAX_RECEIVE_COUNT - 1
    conflict_retries: int = 4
    # Recipients written concurrently: ~100 changed recipients of a batch in ~7 round trips.
    workers: int = 16


@dataclass(frozen=True)
class _Located:
    record_id: str
    event: RecipientEvent
    key: RecipientKey | None


class Ingestor:
    def __init__(
        self,
        store: IngestStore,
        parse: Parser,
        settings: IngestSettings | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self._store = store
        self._parse = parse
        self._settings = settings or IngestSettings()
        self._committer = Committer(
            store, backoff or Backoff(), self._settings.conflict_retries, self._settings.workers
        )

    def apply_batch(self, records: Sequence[IncomingRecord]) -> BatchReport:
        report = BatchReport()
        log = CommitLog()
        by_id = {record.record_id: record for record in records}
        parsed: list[tuple[IncomingRecord, list[RecipientEvent]]] = []
        for record in records:
            report.outcomes[record.record_id] = Outcome.APPLIED
            try:
                parsed.append((record, self._parse(record.body)))
            except InvalidEventError as error:
                self._quarantine(report, record, error.reason, error.detail)

        located = self._locate(parsed, report)
        recipients = self._load(located, report)
        unmatched = [item for item in located if item.key is None or item.key not in recipients]
        for item in unmatched:
            self._unmatched(report, by_id[item.record_id], item.event)
        matched = [item for item in located if item.key is not None and item.key in recipients]
        mismatched = [
            item
            for item in matched
            if item.key and not same_address(item.key.tenant_id, recipients[item.key].email, item.event.email)
        ]
        for item in mismatched:
            self._quarantine(
                report,
                by_id[item.record_id],
                "recipient_mismatch",
                f"event for {item.event.email} names a recipient with another address",
            )
        usable = [item for item in matched if item not in mismatched]
        self._commit_all(usable, recipients, report, by_id, log)
        return report

    # --- steps -------------------------------------------------------------

    def _locate(
        self, parsed: Iterable[tuple[IncomingRecord, list[RecipientEvent]]], report: BatchReport
    ) -> list[_Located]:
        located: list[_Located] = []
        untagged: set[str] = set()
        for record, events in parsed:
            for event in events:
                key = _key_from_tags(event.tags)
                located.append(_Located(record.record_id, event, key))
                if key is None:
                    untagged.add(event.ses_message_id)
        if not untagged:
            return located
        try:
            found = self._store.find_by_ses_message_ids(untagged)
        except TransientStoreError as error:
            for item in located:
                if item.key is None:
                    report.fail(item.record_id, f"lookup failed: {error}")
            return [item for item in located if item.key is not None]
        resolved: list[_Located] = []
        for item in located:
            if item.key is None:
                candidates = found.get(item.event.ses_message_id, [])
                match = next(
                    (c for c in candidates if same_address(c.key.tenant_id, c.email, item.event.email)), None
                )
                item = _Located(item.record_id, item.event, match.key if match else None)
            resolved.append(item)
        return resolved

    def _load(self, located: Sequence[_Located], report: BatchReport) -> dict[RecipientKey, StoredRecipient]:
        keys = {item.key for item in located if item.key is not None}
        if not keys:
            return {}
        try:
            return self._store.load_recipients(keys)
        except TransientStoreError as error:
            for item in located:
                report.fail(item.record_id, f"load failed: {error}")
            return {}

    def _commit_all(
        self,
        usable: Sequence[_Located],
        recipients: dict[RecipientKey, StoredRecipient],
        report: BatchReport,
        by_id: Mapping[str, IncomingRecord],
        log: CommitLog,
    ) -> set[RecipientKey]:
        """Commit every recipient's new facts; returns the keys that are now up to date. A
        recipient the store refuses for good has its records quarantined; the others' records
        go on."""
        events_by_key: dict[RecipientKey, list[RecipientEvent]] = defaultdict(list)
        in_batch_duplicates = 0
        for item in usable:
            if item.key is None or report.outcomes[item.record_id] == Outcome.RETRY:
                continue
            events = events_by_key[item.key]
            if any(event.event_id == item.event.event_id for event in events):
                in_batch_duplicates += 1  # the same SES event twice in this batch
            else:
                events.append(item.event)
        committed = self._committer.commit_all(events_by_key, recipients, log)
        for item in usable:
            if item.key in log.unwritable:
                self._quarantine(report, by_id[item.record_id], "unwritable", log.unwritable[item.key])
            elif item.key in events_by_key and item.key not in committed:
                report.fail(item.record_id, "commit failed")
        report.applied_events += sum(len(events) for events in log.applied.values())
        report.duplicate_events += in_batch_duplicates + log.duplicates
        report.events_by_kind.update(log.events_by_kind)
        return committed

    # --- helpers -----------------------------------------------------------

    def _quarantine(self, report: BatchReport, record: IncomingRecord, reason: str, detail: str) -> None:
        try:
            self._store.quarantine(record.record_id, record.body, reason, detail)
        except TransientStoreError as error:
            report.fail(record.record_id, f"quarantine write failed: {error}")
            return
        if report.outcomes.get(record.record_id) != Outcome.QUARANTINED:
            report.quarantined_records += 1
        report.outcomes[record.record_id] = Outcome.QUARANTINED
        report.retry_reasons.pop(record.record_id, None)

    def _unmatched(self, report: BatchReport, record: IncomingRecord, event: RecipientEvent) -> None:
        if record.receive_count < self._settings.unmatched_retry_deliveries:
            report.fail(record.record_id, f"no recipient yet for SES message {event.ses_message_id}")
        else:
            self._quarantine(
                report,
                record,
                "unknown_recipient",
                f"no recipient for SES message {event.ses_message_id} and {event.email}",
            )


def _key_from_tags(tags: Mapping[str, str]) -> RecipientKey | None:
    tenant = tags.get(constants.TAG_TENANT)
    message = tags.get(constants.TAG_MESSAGE)
    recipient = tags.get(constants.TAG_RECIPIENT)
    if tenant and message and recipient:
        return RecipientKey(tenant, message, recipient)
    return None
