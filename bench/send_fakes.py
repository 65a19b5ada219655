"""In-process stand-ins for the send path's services, for the send bench and the sender's unit tests.

* ``LatentSes``: SES v2 as a boto3-shaped client (``send_email``, ``send_bulk_email``,
  ``get_account``): each call sleeps a fixed latency, spends tokens of a rate limiter
  (``local.ses_simulator.SendRateLimiter``, one per destination) *when it arrives* and answers SES's
  ``TooManyRequestsException`` when the bucket is empty; it counts calls and sends per address.
* ``MemorySendStore``: ``logic.ports.SendStore`` in memory with the table's rules (every write
  conditioned on the item's version, the claim on "never sent, not claimed"), counting the
  DynamoDB requests and write units the real adapter (``dal.sending``) would make; optionally
  sleeping a fixed latency per request, outside its lock, as a real round trip would.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from local.ses_simulator import SendRateLimiter, account, throttled
from tracker.domain.errors import ConflictError
from tracker.domain.facts import RecipientFacts
from tracker.domain.messages import MessageContent, SendTarget
from tracker.domain.records import RecipientKey, StoredRecipient

BATCH_GET_LIMIT = 100
# A recipient item of a send is well under 1 KB (docs/data-model.md): one write unit per write.
RECIPIENT_WRITE_UNITS = 1.0


class LatentSes:
    def __init__(
        self,
        rate: float | None,
        latency_seconds: float = 0.05,
        burst_seconds: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limiter = SendRateLimiter(rate, burst_seconds) if rate else None
        self._rate = rate or 1_000_000.0
        self._latency = latency_seconds
        self._sleep = sleep
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.calls = 0
        self.throttled = 0
        self.sent: Counter[str] = Counter()
        self.first_accept: float | None = None
        self.last_accept: float | None = None

    def get_account(self, **_kwargs: Any) -> dict[str, Any]:
        return account(self._rate, sum(self.sent.values()))

    def _admit(self, addresses: list[str]) -> list[str]:
        with self._lock:
            self.calls += 1
            if self.limiter is not None and not self.limiter.take(len(addresses)):
                self.throttled += 1
                raise throttled()
            now = time.perf_counter()
            self.first_accept = self.first_accept if self.first_accept is not None else now
            self.last_accept = now
            self.sent.update(addresses)
            return [f"local-{next(self._ids):010d}" for _ in addresses]

    def send_email(self, **kwargs: Any) -> dict[str, Any]:
        self._sleep(self._latency / 2)  # the request's way to SES
        (message_id,) = self._admit([_address(kwargs["Destination"]["ToAddresses"][0])])
        self._sleep(self._latency / 2)  # the answer's way back
        return {"MessageId": message_id}

    def send_bulk_email(self, **kwargs: Any) -> dict[str, Any]:
        entries = kwargs["BulkEmailEntries"]
        self._sleep(self._latency / 2)
        ids = self._admit([_address(e["Destination"]["ToAddresses"][0]) for e in entries])
        self._sleep(self._latency / 2)
        return {"BulkEmailEntryResults": [{"Status": "SUCCESS", "MessageId": i} for i in ids]}


def _address(destination: str) -> str:
    return destination.rsplit("<", 1)[-1].rstrip(">")


@dataclass(frozen=True)
class _Row:
    email: str
    name: str | None
    facts: RecipientFacts
    version: int
    ses_message_id: str | None = None
    claim: str | None = None
    claimed_at: datetime | None = None


class MemorySendStore:
    """logic.ports.SendStore in memory. ``requests`` counts DynamoDB requests by operation,
    ``write_units`` their write units; ``before_write`` (if set) runs before each write (tests
    inject failures and crashes with it)."""

    def __init__(self, latency_seconds: float = 0.0, sleep: Callable[[float], None] = time.sleep) -> None:
        self._lock = threading.Lock()
        self._rows: dict[RecipientKey, _Row] = {}
        self._content: dict[tuple[str, str], MessageContent] = {}
        self._latency = latency_seconds
        self._sleep = sleep
        self.requests: Counter[str] = Counter()
        self.write_units = 0.0
        self.before_write: Callable[[str, RecipientKey], None] | None = None

    # --- set-up and reading back (not counted) ---------------------------------------

    def add_message(
        self, tenant_id: str, message_id: str, recipients: Iterable[tuple[str, str]], content: MessageContent
    ) -> list[str]:
        """Queued recipients ``(recipient_id, email)``; returns their ids."""
        ids = []
        for rid, email in recipients:
            self._rows[RecipientKey(tenant_id, message_id, rid)] = _Row(email, None, RecipientFacts(), 1)
            ids.append(rid)
        self._content[(tenant_id, message_id)] = content
        return ids

    def row(self, key: RecipientKey) -> _Row:
        return self._rows[key]

    def rows(self) -> dict[RecipientKey, _Row]:
        return dict(self._rows)

    @property
    def request_count(self) -> int:
        return sum(self.requests.values())

    # --- logic.ports.SendStore ---------------------------------------------------------

    def _request(self, operation: str, key: RecipientKey | None = None) -> None:
        if self._latency:
            self._sleep(self._latency)
        with self._lock:
            self.requests[operation] += 1
            if operation in ("UpdateItem", "PutItem"):
                self.write_units += RECIPIENT_WRITE_UNITS
        if key is not None and self.before_write is not None:
            self.before_write(operation, key)

    def _target(self, key: RecipientKey, row: _Row) -> SendTarget:
        stored = StoredRecipient(key, row.email, row.facts, row.version, row.ses_message_id)
        return SendTarget(recipient=stored, name=row.name, claim=row.claim, claimed_at=row.claimed_at)

    def load_targets(
        self, tenant_id: str, message_id: str, recipient_ids: Collection[str]
    ) -> dict[str, SendTarget]:
        wanted = sorted(set(recipient_ids))
        for _ in range(0, len(wanted), BATCH_GET_LIMIT):
            self._request("BatchGetItem")
        found = {}
        with self._lock:
            for rid in wanted:
                key = RecipientKey(tenant_id, message_id, rid)
                if key in self._rows:
                    found[rid] = self._target(key, self._rows[key])
        return found

    def reload(self, target: SendTarget) -> SendTarget:
        self._request("GetItem")
        with self._lock:
            return self._target(target.key, self._rows[target.key])

    def load_content(self, tenant_id: str, message_id: str) -> MessageContent | None:
        self._request("GetItem")
        return self._content.get((tenant_id, message_id))

    def _write(self, target: SendTarget, operation: str, change: Callable[[_Row], _Row | None]) -> _Row:
        self._request(operation, target.key)
        with self._lock:
            row = self._rows[target.key]
            if row.version != target.recipient.version:
                raise ConflictError([target.key])
            new = change(row)
            if new is None:
                raise ConflictError([target.key])
            self._rows[target.key] = replace(new, version=row.version + 1)
            return self._rows[target.key]

    def claim(self, target: SendTarget, claim: str, at: datetime) -> SendTarget:
        def claimed(row: _Row) -> _Row | None:
            if row.ses_message_id is not None or row.claim is not None:
                return None
            return replace(row, claim=claim, claimed_at=at)

        return self._target(target.key, self._write(target, "UpdateItem", claimed))

    def release(self, target: SendTarget) -> None:
        self._write(target, "UpdateItem", lambda row: replace(row, claim=None, claimed_at=None))

    def record(self, target: SendTarget, facts: RecipientFacts, ses_message_id: str | None) -> None:
        def recorded(row: _Row) -> _Row:
            return replace(
                row,
                facts=facts,
                claim=None,
                claimed_at=None,
                ses_message_id=ses_message_id if ses_message_id is not None else row.ses_message_id,
            )

        self._write(target, "PutItem", recorded)


class NoSuppressions:
    """logic.ports.SuppressionCheck with nobody suppressed (one BatchGetItem a job, counted by
    the store that is given)."""

    def __init__(
        self, store: MemorySendStore | None = None, suppressed: dict[str, str] | None = None
    ) -> None:
        self._store = store
        self._suppressed = suppressed or {}

    def active_reasons(
        self,
        tenant_id: str,  # noqa: ARG002
        emails: Collection[str],
        *,
        kind: str | None = None,  # noqa: ARG002
    ) -> dict[str, str]:
        if self._store is not None:
            for _ in range(0, len(set(emails)), BATCH_GET_LIMIT):
                self._store._request("BatchGetItem")
        return {e: why for e, why in self._suppressed.items() if e in set(emails)}
