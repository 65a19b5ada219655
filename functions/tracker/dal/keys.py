"""Key construction for the single table. Every item key starts with its tenant.

Ids placed in keys are restricted (tracker.domain.ids) to characters that cannot
contain the '#' separator, so one tenant's key can never be crafted to fall
inside another tenant's key range.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

MESSAGE_SK = "#META"
RECIPIENT_SK_PREFIX = "R#"
SEEN_EVENT_SK_PREFIX = "S#"
# A recipient's sort key in the lookup and documents indexes: its table key tells recipients
# apart, and the index only needs them after their message's header (whose sort key is "#META").
RECIPIENT_INDEX_SK = "R"
_MESSAGE_PK_PARTS = ("T", "M")


def iso(at: datetime) -> str:
    """Fixed-width UTC timestamp, so lexicographic order is time order (the year padded by hand:
    strftime's %Y writes year 999 as "999" on Linux, which would sort after "2026")."""
    utc = at.astimezone(UTC)
    return f"{utc.year:04d}" + utc.strftime("-%m-%dT%H:%M:%S.%fZ")


def parse_iso(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def message_pk(tenant_id: str, message_id: str) -> str:
    return f"T#{tenant_id}#M#{message_id}"


def parse_message_pk(pk: str) -> tuple[str, str]:
    """(tenant id, message id) of a message partition key (ids never contain '#')."""
    tag, tenant_id, marker, message_id = pk.split("#")
    if (tag, marker) != _MESSAGE_PK_PARTS:
        raise ValueError(f"not a message key: {pk!r}")
    return tenant_id, message_id


def recipient_sk(recipient_id: str) -> str:
    return f"{RECIPIENT_SK_PREFIX}{recipient_id}"


def parse_recipient_sk(sk: str) -> str:
    if not sk.startswith(RECIPIENT_SK_PREFIX):
        raise ValueError(f"not a recipient key: {sk!r}")
    return sk[len(RECIPIENT_SK_PREFIX) :]


def seen_event_sk(recipient_id: str, event_id: str) -> str:
    return f"{SEEN_EVENT_SK_PREFIX}{recipient_id}#{event_id}"


def messages_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}#MSGS"


def messages_by_kind_pk(tenant_id: str, kind: str) -> str:
    return f"T#{tenant_id}#MSGS#{kind}"


def message_list_sk(created_at: datetime, message_id: str) -> str:
    return f"{iso(created_at)}#{message_id}"


def customer_pk(tenant_id: str, customer_id: str) -> str:
    return f"T#{tenant_id}#C#{customer_id}"


def customer_sk(created_at: datetime) -> str:
    """A customer's messages newest first; the table keys tell those of one instant apart."""
    return iso(created_at)


def attention_pk(tenant_id: str, category: str) -> str:
    """A tenant's attention queue of one category (tracker.domain.attention.category)."""
    return f"T#{tenant_id}#ATTN#{category}"


def attention_sk(at: datetime, message_id: str) -> str:
    return f"{iso(at)}#{message_id}"


def attention_until(now: datetime) -> str:
    """The largest sort key of a message that needs attention at ``now`` ('~' sorts after every id
    character)."""
    return f"{iso(now)}#~"


SES_LOOKUP_PREFIX = "SES#"


def ses_lookup_pk(ses_message_id: str) -> str:
    # SES message ids are globally unique and the tenant is unknown when an untagged
    # event arrives, so this index key is the one key that does not start with a tenant.
    return f"{SES_LOOKUP_PREFIX}{ses_message_id}"


def parse_ses_lookup_pk(value: str) -> str:
    return value[len(SES_LOOKUP_PREFIX) :]


def invoice_pk(tenant_id: str, invoice_id: str) -> str:
    return f"T#{tenant_id}#INV#{invoice_id}"


def payment_pk(tenant_id: str, payment_id: str) -> str:
    return f"T#{tenant_id}#PAY#{payment_id}"


def document_sk(created_at: datetime, message_id: str, item_sk: str) -> str:
    """Sort key in the invoice/payment log index: each message's header, then its recipients."""
    return f"{iso(created_at)}#{message_id}#{item_sk}"


def document_recipient_sk(created_at: datetime, message_id: str) -> str:
    return document_sk(created_at, message_id, RECIPIENT_INDEX_SK)


def document_created_at(sort_key: str) -> datetime:
    return parse_iso(sort_key.split("#", 1)[0])


def quarantine_day_pk(day: date, shard: int) -> str:
    return f"QUARANTINE#{day.isoformat()}#{shard:02d}"


def quarantine_pk(received_at: datetime, shard: int) -> str:
    return quarantine_day_pk(received_at.astimezone(UTC).date(), shard)


def quarantine_sk(received_at: datetime, source_id: str) -> str:
    return f"{iso(received_at)}#{source_id}"


def quarantine_part_sk(received_at: datetime, source_id: str, part: int) -> str:
    """A continuation item of a quarantined record's body, beside the record's own item."""
    return f"{quarantine_sk(received_at, source_id)}#{part:02d}"


# --- The send path -----------------------------------------------------------------

# Not under '#' (the header) nor 'R#' / 'S#' (recipients, their markers).
CONTENT_SK = "CONTENT"
SUPPRESSION_SK = "#SUPPRESSION"
HISTORY_SK_PREFIX = "H#"


def idempotency_pk(tenant_id: str) -> str:
    """Partition of a tenant's Idempotency-Key records (Powertools idempotency, static pk)."""
    return f"T#{tenant_id}#IDEMPOTENCY"


def suppression_pk(tenant_id: str, email: str) -> str:
    # The address is the last component of an exact-match partition key (never a prefix query),
    # so even an address containing '#' cannot reach another tenant's or another item type's keys.
    return f"T#{tenant_id}#SUP#{email}"


def history_sk(at: datetime, entry_id: str) -> str:
    return f"{HISTORY_SK_PREFIX}{iso(at)}#{entry_id}"


def suppressions_pk(tenant_id: str, state: str) -> str:
    """gsi1 list of a tenant's suppressed addresses in one state (active / lifted)."""
    return f"T#{tenant_id}#SUPS#{state}"


def suppressions_sk(at: datetime, email: str) -> str:
    return f"{iso(at)}#{email}"


# --- Erasure (DELETE /customers/{id}) ----------------------------------------------

ERASURE_SK_PREFIX = "ERASURE#"


def erasure_pk(tenant_id: str, customer_id: str) -> str:
    """The customer's audit partition. The same string is the customer index's key (gsi1) of its
    recipients, but on the table no other item uses it."""
    return f"T#{tenant_id}#C#{customer_id}"


def erasure_sk(at: datetime, entry_id: str) -> str:
    return f"{ERASURE_SK_PREFIX}{iso(at)}#{entry_id}"


# --- Webhooks (docs/events.md) ----------------------------------------------------------------

WEBHOOK_SK = "#WEBHOOK"
WEBHOOK_FAILURE_SK_PREFIX = "WF#"


def webhook_pk(tenant_id: str) -> str:
    """The tenant's webhook partition: its one configuration item and its recent delivery failures."""
    return f"T#{tenant_id}#WEBHOOK"


def webhook_failure_sk(at: datetime, event_id: str) -> str:
    return f"{WEBHOOK_FAILURE_SK_PREFIX}{iso(at)}#{event_id}"


# --- Statistics (the projector's hourly buckets, tracker.dal.stats) ------------------

STATS_HOUR_SK_PREFIX = "HOUR#"


def stats_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}#STATS"


def stats_hour_sk(hour: datetime) -> str:
    """One item per hour; the fixed-width hour sorts in time order (year padded as in ``iso``)."""
    return f"{STATS_HOUR_SK_PREFIX}{iso(hour)[:13]}"


def parse_stats_hour_sk(sk: str) -> datetime:
    return datetime.strptime(sk.removeprefix(STATS_HOUR_SK_PREFIX), "%Y-%m-%dT%H").replace(tzinfo=UTC)
