"""Key construction for the single table. Every item key starts with its tenant.

Ids placed in keys are restricted (see domain.ids) to characters that cannot
contain the '#' separator, so one tenant's key can never be crafted to fall
inside another tenant's key range.
"""

from __future__ import annotations

from datetime import UTC, datetime

MESSAGE_SK = "#META"
DELTA_SK_PREFIX = "#DELTA#"
# Query `begins_with(sk, "#")` returns a message's header and its pending count deltas only.
MESSAGE_HEADER_PREFIX = "#"
RECIPIENT_SK_PREFIX = "R#"
EVENT_SK_PREFIX = "E#"


def iso(at: datetime) -> str:
    """Fixed-width UTC timestamp, so lexicographic order is time order."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def message_pk(tenant_id: str, message_id: str) -> str:
    return f"T#{tenant_id}#M#{message_id}"


def recipient_sk(recipient_id: str) -> str:
    return f"{RECIPIENT_SK_PREFIX}{recipient_id}"


def event_sk(recipient_id: str, at: datetime, event_id: str) -> str:
    return f"{EVENT_SK_PREFIX}{recipient_id}#{iso(at)}#{event_id}"


def event_sk_prefix(recipient_id: str) -> str:
    return f"{EVENT_SK_PREFIX}{recipient_id}#"


def messages_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}#MSGS"


def messages_by_kind_pk(tenant_id: str, kind: str) -> str:
    return f"T#{tenant_id}#MSGS#{kind}"


def message_list_sk(created_at: datetime, message_id: str) -> str:
    return f"{iso(created_at)}#{message_id}"


def customer_pk(tenant_id: str, customer_id: str) -> str:
    return f"T#{tenant_id}#C#{customer_id}"


def customer_sk(created_at: datetime, message_id: str, recipient_id: str) -> str:
    return f"{iso(created_at)}#{message_id}#{recipient_id}"


def ses_lookup_pk(ses_message_id: str) -> str:
    # SES message ids are globally unique and the tenant is unknown when an untagged
    # event arrives, so this index key is the one key that does not start with a tenant.
    return f"SES#{ses_message_id}"


def invoice_pk(tenant_id: str, invoice_id: str) -> str:
    return f"T#{tenant_id}#INV#{invoice_id}"


def payment_pk(tenant_id: str, payment_id: str) -> str:
    return f"T#{tenant_id}#PAY#{payment_id}"


def document_sk(created_at: datetime, message_id: str, item_sk: str) -> str:
    """Sort key in the invoice/payment log index: message, then its recipients, then their events."""
    return f"{iso(created_at)}#{message_id}#{item_sk}"


def quarantine_pk(received_at: datetime) -> str:
    return f"QUARANTINE#{received_at.astimezone(UTC).strftime('%Y-%m-%d')}"
