"""PynamoDB single-table models. Only the dal package imports this module."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    DiscriminatorAttribute,
    JSONAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    VersionAttribute,
)
from pynamodb.connection import Connection
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection, Projection
from pynamodb.models import Model

from tracker import constants
from tracker.dal import keys
from tracker.domain.status import COUNTED, Status


def projection(spec: constants.IndexSpec) -> Projection:
    return IncludeProjection(list(spec.included)) if spec.included else KeysOnlyProjection()


def _index_meta(spec: constants.IndexSpec) -> type:
    return type("Meta", (), {"index_name": spec.name, "projection": projection(spec)})


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


class AttentionIndex(GlobalSecondaryIndex["TrackerItem"]):
    Meta = _index_meta(constants.GSI_ATTENTION)
    gsi4pk = UnicodeAttribute(hash_key=True)
    gsi4sk = UnicodeAttribute(range_key=True)


class TrackerItem(Model):
    """Root of every item in the table; the discriminator tells the item type apart."""

    class Meta:
        table_name = constants.TABLE_NAME
        region: str | None = None
        host: str | None = None
        max_pool_connections = constants.CLIENT_POOL_CONNECTIONS

    pk = UnicodeAttribute(hash_key=True, attr_name=constants.TABLE_PARTITION_KEY)
    sk = UnicodeAttribute(range_key=True, attr_name=constants.TABLE_SORT_KEY)
    item_type = DiscriminatorAttribute(attr_name=constants.ITEM_TYPE_ATTRIBUTE)
    tenant_id = UnicodeAttribute(null=True)

    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi3pk = UnicodeAttribute(null=True)
    gsi3sk = UnicodeAttribute(null=True)
    gsi4pk = UnicodeAttribute(null=True)
    gsi4sk = UnicodeAttribute(null=True)

    lists_index = ListsIndex()
    lookup_index = LookupIndex()
    documents_index = DocumentsIndex()
    attention_index = AttentionIndex()


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
    # Per stream shard, the last recipient change the projector counted (tracker.logic.projector):
    # "<padded sequence number>|<epoch ms written>".
    projected = MapAttribute[str, str](default=dict)
    # The table's TTL removes it (MESSAGE_RETENTION_DAYS after its creation; docs/data-model.md).
    expires_at = TTLAttribute(null=True, attr_name=constants.TTL_ATTRIBUTE)
    # The attention facts the projector keeps (tracker.dal.attention; docs/data-model.md): the
    # listed concerned recipients (id -> compact JSON), the counts of concerned ones, when the
    # current failure episode began, the first send, and the queue place (gsi4) derived from them.
    attention = MapAttribute[str, str](default=dict)
    attention_failed = NumberAttribute(default=0)
    attention_pending = NumberAttribute(default=0)
    attention_failed_since = UnicodeAttribute(null=True)
    first_sent_at = UnicodeAttribute(null=True)
    attention_at = UnicodeAttribute(null=True)
    attention_problem = UnicodeAttribute(null=True)
    # A resend's message: the recipient it was sent in place of ({"message_id", "recipient_id"}).
    resent_from = JSONAttribute(null=True)
    # Open and click tracking as decided at creation (tracker.domain.tracking; absent: on).
    tracking = UnicodeAttribute(null=True)


class CompactJSONAttribute(JSONAttribute):
    """JSON without the spaces ``json.dumps`` puts after separators: bytes are write units."""

    def serialize(self, value: Any) -> str | None:
        if value is None:
            return None
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class RecipientItem(TrackerItem, discriminator="recipient"):
    """A message's recipient and the record of its events (tracker.dal.recipients: the layout).

    Nothing derivable is stored twice: the tenant, message and recipient ids are in the keys, the
    SES message id is in the lookup key, the message's subject and dates are on its header (a page
    reads both with one BatchGetItem)."""

    customer_id = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    kind = UnicodeAttribute()  # projected into the lists index (a customer's messages by kind)
    # The sender's claim (send path): set by a conditional write just before SendEmail, cleared
    # when the outcome is recorded. A claim without an outcome means a sender stopped mid-send.
    send_claim = UnicodeAttribute(null=True)
    send_claimed_at = UnicodeAttribute(null=True)

    version = VersionAttribute()
    status = UnicodeAttribute(default=Status.QUEUED.value)  # the Recipients tab filters on it
    # What the message counts it under (its status and engagement tallies): the projector's input.
    tallies = UnicodeSetAttribute(null=True)
    # What its tenant's hourly statistics count it under (tracker.dal.recipients.stat_texts): the
    # projector's input for them, derived from the facts where they are written, like ``tallies``.
    stats = UnicodeSetAttribute(null=True, attr_name="st")
    facts = CompactJSONAttribute(null=True)
    seen = UnicodeSetAttribute(null=True)
    # RECIPIENT_RETENTION_DAYS after the message's creation (the projector ignores TTL removals).
    expires_at = TTLAttribute(null=True, attr_name=constants.TTL_ATTRIBUTE)
    # Set by DELETE /customers/{id} (tracker.dal.erasure): ``email`` then holds the address's
    # pseudonym, and every later write of the item keeps it free of personal data (``write_facts``).
    erased_at = UnicodeAttribute(null=True)
    # Set at creation on the recipients of a message small enough to list each concerned one on
    # its header (tracker.constants.LISTED_RECIPIENTS_MAX): the projector reads it.
    attention_listed = BooleanAttribute(null=True, attr_name="al")
    # The owner's actions (audited: who, when): resent ({"message_id", "recipient_id", "at", "by"})
    # or dismissed ({"at", "by"}); either takes it off the attention queue. Written by a
    # version-bumping update, so a concurrent SES event's put (conditioned on the version) re-reads.
    resent_as = JSONAttribute(null=True)
    dismissed = JSONAttribute(null=True)

    @property
    def key(self) -> tuple[str, str, str]:
        """(tenant id, message id, recipient id), from the item's keys."""
        tenant_id, message_id = keys.parse_message_pk(self.pk)
        return tenant_id, message_id, keys.parse_recipient_sk(self.sk)

    @property
    def message_id(self) -> str:
        return self.key[1]

    @property
    def recipient_id(self) -> str:
        return self.key[2]

    @property
    def ses_message_id(self) -> str | None:
        return keys.parse_ses_lookup_pk(self.gsi2pk) if self.gsi2pk else None


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
    expires_at = TTLAttribute(null=True, attr_name=constants.TTL_ATTRIBUTE)  # CONTENT_RETENTION_DAYS


class DraftItem(TrackerItem, discriminator="draft"):
    """A large message before and during its send (tracker.domain.drafts). Its sort key is
    outside '#', 'R#' and 'S#': the header query, the recipients and the projector never see it.
    Only an open draft has gsi1 keys (the tenant's open drafts, counted against the limit)."""

    message_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    subject = UnicodeAttribute()
    text = UnicodeAttribute(null=True)
    html = UnicodeAttribute(null=True)
    tracking = UnicodeAttribute()
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute(null=True)
    invoice_id = UnicodeAttribute(null=True)
    payment_id = UnicodeAttribute(null=True)
    state = UnicodeAttribute()
    batch_rows = MapAttribute[str, Any](default=dict)  # batch number -> rows
    written = NumberAttribute(default=0)
    queued = NumberAttribute(default=0)
    recipients = NumberAttribute(default=0)
    duplicates = NumberAttribute(default=0)
    expires_at = TTLAttribute(null=True, attr_name=constants.TTL_ATTRIBUTE)


class DraftBatchItem(TrackerItem, discriminator="draft_batch"):
    """One batch of a draft's rows, ``[customer_id, email, name]`` each (a batch of 1,000 is
    about 100 KB: one item, one write per batch)."""

    rows = JSONAttribute()
    expires_at = TTLAttribute(null=True, attr_name=constants.TTL_ATTRIBUTE)


class SuppressionItem(TrackerItem, discriminator="suppression"):
    """One address of one tenant, from its first bounce or complaint on: its evidence and, once the
    rules suppressed it, the record (active or lifted). Only a suppressed one has a gsi1 key."""

    email = UnicodeAttribute()
    # Every bounce/complaint kept (the latest 50), one compact string each (tracker.dal.suppressions).
    observed = UnicodeSetAttribute(null=True)
    state = UnicodeAttribute(null=True)  # "active" | "lifted"; None: evidence only, never suppressed
    reason = UnicodeAttribute(null=True)
    suppressed_at = UnicodeAttribute(null=True)
    evidence = JSONAttribute(null=True)  # the events that made the rule fire
    counts_from = UnicodeAttribute(null=True)  # evidence before this instant no longer counts
    lifted_at = UnicodeAttribute(null=True)
    lifted_by = UnicodeAttribute(null=True)
    # Bumped by every write but an evidence ADD (which grows the set instead), by hand: the writes
    # are updates conditioned on it and on the set's size, never puts that would drop evidence.
    version = NumberAttribute(null=True)
    # Unsubscribed from the tenant's emails (tracker.dal.unsubscriptions): the latest unsubscription
    # and resubscription, each only ever moved later; separate from the suppression record above.
    unsubscribed_at = UnicodeAttribute(null=True)
    unsubscribed_source = UnicodeAttribute(null=True)
    unsubscribed_message = UnicodeAttribute(null=True)
    unsubscribed_recipient = UnicodeAttribute(null=True)
    resubscribed_at = UnicodeAttribute(null=True)
    resubscribed_by = UnicodeAttribute(null=True)


class SuppressionHistoryItem(TrackerItem, discriminator="suppression_history"):
    """Audit trail of an address: who suppressed or lifted it, when and why (never deleted)."""

    email = UnicodeAttribute()
    action = UnicodeAttribute()  # "suppressed" | "lifted"
    at = UnicodeAttribute()
    actor = UnicodeAttribute()  # the caller's subject, or "system" for the suppression rules
    reason = UnicodeAttribute(null=True)
    evidence = JSONAttribute(null=True)


class ErasureItem(TrackerItem, discriminator="erasure"):
    """The audit entry of one DELETE /customers/{id} that erased something (never deleted)."""

    customer_id = UnicodeAttribute()
    erased_at = UnicodeAttribute()
    erased_by = UnicodeAttribute()  # the caller's subject (verified claims)
    recipients = NumberAttribute()
    messages = NumberAttribute()
    suppressions = NumberAttribute()


ALL_MODELS: tuple[type[TrackerItem], ...] = (
    TrackerItem,
    CountsItem,
    MessageItem,
    RecipientItem,
    SeenEventItem,
    QuarantineItem,
    MessageContentItem,
    SuppressionItem,
    SuppressionHistoryItem,
    ErasureItem,
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


def _projection_schema(spec: constants.IndexSpec) -> dict[str, Any]:
    if spec.included:
        return {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(spec.included)}
    return {"ProjectionType": "KEYS_ONLY"}


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
        # The projector's input: every recipient change with the item before and after it.
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        "GlobalSecondaryIndexes": [
            {
                "IndexName": spec.name,
                "KeySchema": [
                    {"AttributeName": spec.partition_key, "KeyType": "HASH"},
                    {"AttributeName": spec.sort_key, "KeyType": "RANGE"},
                ],
                "Projection": _projection_schema(spec),
            }
            for spec in constants.GLOBAL_INDEXES
        ],
    }
