"""The events function's adapters: a stream record's status change (tracker.domain.status_events)
from the recipient's old and new images, and EventBridge's PutEvents.

The images are in DynamoDB's wire format; the recipient's facts are decoded (its engagement and
the plain reason of a failed status need them), with the engagement rules the ingest path applies.
The invoice or payment id is the recipient's documents-index key, the SES message id its lookup
key: no read of the message header.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tracker import constants
from tracker.dal import keys
from tracker.dal.recipients import facts_from_json
from tracker.dal.streams import is_ttl_removal
from tracker.domain.engagement import DEFAULT_RULES, EngagementRules
from tracker.domain.errors import UnreadableChangeError
from tracker.domain.facts import RecipientFacts
from tracker.domain.reasons.records import recipient_reason
from tracker.domain.status import Status
from tracker.domain.status_events import StatusChange, is_published
from tracker.logic.publishing import PendingChange

logger = logging.getLogger(__name__)
_RECIPIENT = "recipient"


def _text(image: Mapping[str, Any], name: str) -> str | None:
    value = image.get(name)
    return str(value["S"]) if isinstance(value, Mapping) and "S" in value else None


def _number(image: Mapping[str, Any], name: str) -> str | None:
    value = image.get(name)
    return str(value["N"]) if isinstance(value, Mapping) and "N" in value else None


def _facts(image: Mapping[str, Any], rules: EngagementRules) -> RecipientFacts:
    raw = json.loads(_text(image, "facts") or "{}")
    if not isinstance(raw, dict):
        raise UnreadableChangeError("recipient facts are not a JSON object")
    seen = image.get("seen", {}).get("SS")
    return facts_from_json(raw, frozenset(seen) if seen is not None else None, rules)


def _document(image: Mapping[str, Any], tenant_id: str) -> tuple[str | None, str | None]:
    pk = _text(image, "gsi3pk") or ""
    invoice, payment = keys.invoice_pk(tenant_id, ""), keys.payment_pk(tenant_id, "")
    if pk.startswith(invoice):
        return pk[len(invoice) :], None
    if pk.startswith(payment):
        return None, pk[len(payment) :]
    return None, None


def _changed_at(value: Any) -> datetime:
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return datetime.now(UTC)


def status_change(record: Mapping[str, Any], rules: EngagementRules = DEFAULT_RULES) -> PendingChange | None:
    """The change one stream record carries, if it is a published one (tracker.domain.status_events);
    raises UnreadableChangeError for a recipient's record that cannot be decoded."""
    if is_ttl_removal(record):
        return None
    data = record.get("dynamodb") or {}
    item_keys = data.get("Keys") or {}
    pk = _text(item_keys, constants.TABLE_PARTITION_KEY)
    sk = _text(item_keys, constants.TABLE_SORT_KEY)
    new = data.get("NewImage")
    if pk is None or sk is None or not sk.startswith(keys.RECIPIENT_SK_PREFIX) or not new:
        return None
    if _text(new, constants.ITEM_TYPE_ATTRIBUTE) != _RECIPIENT:
        return None
    old = data.get("OldImage") or None
    try:
        tenant_id, message_id = keys.parse_message_pk(pk)
        sequence = str(data["SequenceNumber"])
        after = _facts(new, rules)
        before = _facts(old, rules) if old else None
        status = _text(new, "status") or Status.QUEUED.value
        previous = (_text(old, "status") or Status.QUEUED.value) if old else None
        recorded = _changed_at(data.get("ApproximateCreationDateTime"))
        known = {entry.event_id for entry in before.timeline} if before is not None else set()
        added = [entry.at for entry in after.timeline if entry.event_id not in known]
        invoice_id, payment_id = _document(new, tenant_id)
        lookup = _text(new, "gsi2pk")
        change = StatusChange(
            tenant_id=tenant_id,
            message_id=message_id,
            recipient_id=keys.parse_recipient_sk(sk),
            customer_id=_text(new, "customer_id"),
            kind=_text(new, "kind"),
            invoice_id=invoice_id,
            payment_id=payment_id,
            previous_status=previous,
            status=status,
            previous_engagement=before.engagement.value if before is not None else None,
            engagement=after.engagement.value,
            reason=recipient_reason(Status(status), after),
            ses_message_id=keys.parse_ses_lookup_pk(lookup) if lookup else None,
            occurred_at=max(added) if added else recorded,
            recorded_at=recorded,
            version=_number(new, "version") or f"s{sequence}",
        )
    except (KeyError, TypeError, ValueError, OverflowError, AttributeError) as error:
        raise UnreadableChangeError(f"stream record of {pk} {sk}: {error}") from error
    return PendingChange(sequence, change) if is_published(change) else None


class EventBridgeBus:
    """logic.publishing.EventBus on one event bus."""

    def __init__(self, client: Any, bus_name: str) -> None:
        self._client = client
        self._bus_name = bus_name

    def entry(self, change: StatusChange) -> dict[str, Any]:
        return {
            "Source": constants.EVENT_SOURCE,
            "DetailType": constants.EVENT_DETAIL_TYPE,
            "Detail": json.dumps(change.detail(), separators=(",", ":")),
            "EventBusName": self._bus_name,
            "Time": change.occurred_at,
        }

    def put(self, changes: Sequence[StatusChange]) -> Sequence[int]:
        if not changes:
            return []
        try:
            answer = self._client.put_events(Entries=[self.entry(change) for change in changes])
        except (ClientError, BotoCoreError) as error:
            logger.warning("PutEvents failed: %s", error)
            return list(range(len(changes)))
        entries = answer.get("Entries") or []
        refused = [index for index, entry in enumerate(entries) if entry.get("ErrorCode")]
        # Fewer answers than entries would be a broken response: retry the missing ones.
        refused += list(range(len(entries), len(changes)))
        if refused:
            logger.warning("PutEvents refused %d of %d entries", len(refused), len(changes))
        return refused
