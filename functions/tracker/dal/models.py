"""PynamoDB single-table models. Only the dal package imports this module."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pynamodb.attributes import (
    BinaryAttribute,
    DiscriminatorAttribute,
    JSONAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    VersionAttribute,
)
from pynamodb.connection import Connection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from tracker import constants
from tracker.domain.status import COUNTED, Status


def _index_meta(spec: constants.IndexSpec) -> type:
    return type("Meta", (), {"index_name": spec.name, "projection": AllProjection()})


class ListsIndex(GlobalSecondaryIndex["TrackerItem"]):
    Meta = _index_meta(constants.GSI_LISTS)
    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class LookupIndex(GlobalSecondaryIndex["TrackerItem"]):
    Meta = _index_meta(constants.GSI_LOOKUP)
    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class DocumentsIndex(GlobalSecondaryIndex["TrackerItem"]):
    Meta = _index_meta(constants.GSI_DOCUMENTS)
    gsi3pk = UnicodeAttribute(hash_key=True)
    gsi3sk = UnicodeAttribute(range_key=True)


class TrackerItem(Model):
    """Root of every item in the table; the discriminator tells the item type apart."""

    class Meta:
        table_name = constants.TABLE_NAME
        region: str | None = None
        host: str | None = None

    pk = UnicodeAttribute(hash_key=True, attr_name=constants.TABLE_PARTITION_KEY)
    sk = UnicodeAttribute(range_key=True, attr_name=constants.TABLE_SORT_KEY)
    item_type = DiscriminatorAttribute()
    tenant_id = UnicodeAttribute(null=True)

    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi3pk = UnicodeAttribute(null=True)
    gsi3sk = UnicodeAttribute(null=True)

    lists_index = ListsIndex()
    lookup_index = LookupIndex()
    documents_index = DocumentsIndex()


class CountsItem(TrackerItem):
    """Recipients per status, as top-level numbers so that updates can `ADD` to them."""

    count_queued = NumberAttribute(default=0)
    count_sent = NumberAttribute(default=0)
    count_delayed = NumberAttribute(default=0)
    count_delivered = NumberAttribute(default=0)
    count_opened = NumberAttribute(default=0)
    count_clicked = NumberAttribute(default=0)
    count_bounced = NumberAttribute(default=0)
    count_dropped = NumberAttribute(default=0)
    count_complaint = NumberAttribute(default=0)
    count_rejected = NumberAttribute(default=0)
    count_failed = NumberAttribute(default=0)
    count_machine_opened = NumberAttribute(default=0)
    count_machine_clicked = NumberAttribute(default=0)

    def counts(self) -> dict[str, int]:
        """Recipients per status, and per engagement tally (``tracker.domain.status.COUNTED``)."""
        return {tally: int(getattr(self, count_attribute(tally)) or 0) for tally in COUNTED}

    def set_counts(self, counts: Mapping[str, int]) -> None:
        for tally in COUNTED:
            setattr(self, count_attribute(tally), counts.get(tally, 0))


def count_attribute(tally: str) -> str:
    return f"count_{tally}"


class MessageItem(CountsItem, discriminator="message"):
    message_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    subject = UnicodeAttribute()
    created_at = UnicodeAttribute()
    recipient_count = NumberAttribute(default=0)
    invoice_id = UnicodeAttribute(null=True)
    payment_id = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute(null=True)


class CountDeltaItem(CountsItem, discriminator="count_delta"):
    """Count changes committed atomically with the recipient changes that caused them,
    waiting to be folded into the message item (see docs/counters.md)."""

    created_at = UnicodeAttribute()


class RecipientItem(TrackerItem, discriminator="recipient"):
    message_id = UnicodeAttribute()
    recipient_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    # Denormalized from the message so the customer history is one query.
    kind = UnicodeAttribute()
    subject = UnicodeAttribute()
    message_created_at = UnicodeAttribute()
    invoice_id = UnicodeAttribute(null=True)
    payment_id = UnicodeAttribute(null=True)
    ses_message_id = UnicodeAttribute(null=True)
    # The sender's claim (send path): set by a conditional write just before SendEmail, cleared
    # when the outcome is recorded. A claim without an outcome means a sender stopped mid-send.
    send_claim = UnicodeAttribute(null=True)
    send_claimed_at = UnicodeAttribute(null=True)

    version = VersionAttribute()
    status = UnicodeAttribute(default=Status.QUEUED.value)
    send_outcome = UnicodeAttribute(default=Status.QUEUED.value)
    send_outcome_reason = UnicodeAttribute(null=True)
    seen = UnicodeSetAttribute(null=True)
    applied = NumberAttribute(default=0)
    mail_sent_at = UnicodeAttribute(null=True)
    # The kept opens and clicks (tracker.dal.recipients: compact text) and the counts beyond them.
    fetches = JSONAttribute(null=True)
    late = JSONAttribute(null=True)
    sent_at = UnicodeAttribute(null=True)
    delivered_at = UnicodeAttribute(null=True)
    first_delayed_at = UnicodeAttribute(null=True)
    open_count = NumberAttribute(default=0)
    first_opened_at = UnicodeAttribute(null=True)
    last_opened_at = UnicodeAttribute(null=True)
    click_count = NumberAttribute(default=0)
    first_clicked_at = UnicodeAttribute(null=True)
    last_clicked_at = UnicodeAttribute(null=True)
    permanent_bounces = NumberAttribute(default=0)
    transient_bounces = NumberAttribute(default=0)
    first_bounced_at = UnicodeAttribute(null=True)
    ses_suppressed_at = UnicodeAttribute(null=True)
    delay = JSONAttribute(null=True)
    bounce = JSONAttribute(null=True)
    complaint = JSONAttribute(null=True)
    reject = JSONAttribute(null=True)
    rendering_failure = JSONAttribute(null=True)
    subscription = JSONAttribute(null=True)


class EventLogItem(TrackerItem, discriminator="event"):
    message_id = UnicodeAttribute()
    recipient_id = UnicodeAttribute()
    email = UnicodeAttribute()
    event_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    at = UnicodeAttribute()
    ses_message_id = UnicodeAttribute()
    details = JSONAttribute(null=True)
    expires_at = TTLAttribute(null=True, attr_name=constants.TTL_ATTRIBUTE)


class SeenEventItem(TrackerItem, discriminator="seen_event"):
    """The marker of an applied SES event whose id its recipient's ``seen`` no longer keeps
    (tracker.domain.facts): written with the recipient, so a redelivery finds it."""

    expires_at = TTLAttribute(null=True, attr_name=constants.TTL_ATTRIBUTE)


class QuarantineItem(TrackerItem, discriminator="quarantine"):
    """An SQS record we could never apply, kept verbatim with the reason."""

    received_at = UnicodeAttribute()
    source_id = UnicodeAttribute()
    reason = UnicodeAttribute()
    detail = UnicodeAttribute()
    body = UnicodeAttribute()
    redriven_at = UnicodeAttribute(null=True)  # sent back to the ingest path (it stays for the record)
    expires_at = TTLAttribute(null=True, attr_name=constants.TTL_ATTRIBUTE)
    # A large body (then ``body`` is ""): gzip-compressed, in ``body_parts`` items; a continuation
    # item holds its ``part`` of it (tracker.dal.quarantine).
    body_gzip = BinaryAttribute(null=True, legacy_encoding=False)
    body_parts = NumberAttribute(null=True)
    part = NumberAttribute(null=True)


class MessageContentItem(TrackerItem, discriminator="message_content"):
    """A message's subject and body, stored once; send jobs reference it (SQS bodies stay small).

    Its sort key does not start with '#', so the message header query (`begins_with(sk, "#")`)
    never reads this large item."""

    message_id = UnicodeAttribute()
    subject = UnicodeAttribute()
    text = UnicodeAttribute(null=True)
    html = UnicodeAttribute(null=True)


class SuppressionItem(TrackerItem, discriminator="suppression"):
    """One address of one tenant that was suppressed at least once (active or lifted)."""

    email = UnicodeAttribute()
    state = UnicodeAttribute()  # "active" | "lifted"
    reason = UnicodeAttribute()
    suppressed_at = UnicodeAttribute()
    evidence = JSONAttribute(null=True)  # the events that made the rule fire
    counts_from = UnicodeAttribute(null=True)  # evidence before this instant no longer counts
    lifted_at = UnicodeAttribute(null=True)
    lifted_by = UnicodeAttribute(null=True)
    version = VersionAttribute()


class SuppressionEvidenceItem(TrackerItem, discriminator="suppression_evidence"):
    """One bounce or complaint of an address, keyed by the SES event id (redelivery rewrites it)."""

    email = UnicodeAttribute()
    event_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # "permanent_bounce" | "transient_bounce" | "complaint"
    at = UnicodeAttribute()
    message_id = UnicodeAttribute(null=True)
    recipient_id = UnicodeAttribute(null=True)
    detail = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True, attr_name=constants.TTL_ATTRIBUTE)


class SuppressionHistoryItem(TrackerItem, discriminator="suppression_history"):
    """Audit trail of an address: who suppressed or lifted it, when and why (never deleted)."""

    email = UnicodeAttribute()
    action = UnicodeAttribute()  # "suppressed" | "lifted"
    at = UnicodeAttribute()
    actor = UnicodeAttribute()  # the caller's subject, or "system" for the suppression rules
    reason = UnicodeAttribute(null=True)
    evidence = JSONAttribute(null=True)


ALL_MODELS: tuple[type[TrackerItem], ...] = (
    TrackerItem,
    CountsItem,
    MessageItem,
    CountDeltaItem,
    RecipientItem,
    EventLogItem,
    SeenEventItem,
    QuarantineItem,
    MessageContentItem,
    SuppressionItem,
    SuppressionEvidenceItem,
    SuppressionHistoryItem,
)


def bind_table(table_name: str, region: str | None = None, host: str | None = None) -> None:
    """Point every model at a table; called once per cold start (and by tests / local mode)."""
    for model in ALL_MODELS:
        model.Meta.table_name = table_name
        model.Meta.region = region
        model.Meta.host = host
        model._connection = None
    # One connection (so one botocore client) for every item type: clients are thread-safe and
    # costly to create, and each model class would otherwise build its own.
    shared = TrackerItem._get_connection()
    for model in ALL_MODELS:
        model._connection = shared


def shared_connection() -> Connection:
    """The connection behind every model, for transactions that span item types."""
    return TrackerItem._get_connection().connection


def table_schema() -> dict[str, Any]:
    """CreateTable arguments derived from the models, for local mode and tests."""
    return {
        "TableName": TrackerItem.Meta.table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [
            {"AttributeName": constants.TABLE_PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": constants.TABLE_SORT_KEY, "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"}
            for name in (
                constants.TABLE_PARTITION_KEY,
                constants.TABLE_SORT_KEY,
                *(name for spec in constants.GLOBAL_INDEXES for name in (spec.partition_key, spec.sort_key)),
            )
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": spec.name,
                "KeySchema": [
                    {"AttributeName": spec.partition_key, "KeyType": "HASH"},
                    {"AttributeName": spec.sort_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for spec in constants.GLOBAL_INDEXES
        ],
    }
