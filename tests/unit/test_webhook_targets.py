"""Which webhook targets are refused (tracker.domain.webhooks) and the stable id of a status
change (tracker.domain.status_events)."""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.errors import WebhookTargetRefusedError
from tracker.domain.status_events import StatusChange, is_published
from tracker.domain.webhooks import check_addresses, is_public, parse_target

PRIVATE_V4 = st.one_of(
    st.ip_addresses(network="10.0.0.0/8"),
    st.ip_addresses(network="172.16.0.0/12"),
    st.ip_addresses(network="192.168.0.0/16"),
    st.ip_addresses(network="127.0.0.0/8"),
    st.ip_addresses(network="169.254.0.0/16"),
    st.ip_addresses(network="100.64.0.0/10"),
    st.ip_addresses(network="0.0.0.0/8"),
)


@given(PRIVATE_V4)
def test_a_non_public_ipv4_address_is_refused_in_every_ipv6_disguise(address: ipaddress.IPv4Address) -> None:
    mapped = ipaddress.IPv6Address(f"::ffff:{address}")
    nat64 = ipaddress.IPv6Address(int(ipaddress.IPv6Address("64:ff9b::")) | int(address))
    sixtofour = ipaddress.IPv6Address((0x2002 << 112) | (int(address) << 80))
    for candidate in (address, mapped, nat64, sixtofour):
        assert not is_public(candidate), candidate
        with pytest.raises(WebhookTargetRefusedError):
            check_addresses("h.example", ["93.184.216.34", str(candidate)])


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1::1", "8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    check_addresses("h.example", [address])


def test_local_targets_are_allowed_only_in_local_mode_and_only_with_a_port() -> None:
    for url in ("http://127.0.0.1:9000/x", "http://localhost:9000/x"):
        assert parse_target(url, allow_local=True).local
        with pytest.raises(WebhookTargetRefusedError):
            parse_target(url)
    for url in ("http://127.0.0.1/x", "http://10.0.0.1:9000/x", "http://localhost.evil.example:9000/x"):
        with pytest.raises(WebhookTargetRefusedError):
            parse_target(url, allow_local=True)


CHANGE = StatusChange(
    tenant_id="t",
    message_id="m",
    recipient_id="r",
    customer_id="c",
    kind="invoice",
    invoice_id="I",
    payment_id=None,
    previous_status="sent",
    status="bounced",
    previous_engagement="none",
    engagement="none",
    reason=None,
    ses_message_id="s",
    occurred_at=datetime(2026, 11, 1, tzinfo=UTC),
    recorded_at=datetime(2026, 11, 1, tzinfo=UTC),
    version="3",
)


def test_the_id_is_the_changes_and_only_the_changes() -> None:
    # What is not the change (times, reason, SES id) does not move it ...
    same = replace(CHANGE, recorded_at=datetime(2027, 1, 1, tzinfo=UTC), ses_message_id=None)
    assert same.event_id == CHANGE.event_id
    # ... every part of the change does.
    for field, value in (
        ("tenant_id", "u"),
        ("message_id", "n"),
        ("recipient_id", "q"),
        ("previous_status", None),
        ("status", "complaint"),
        ("engagement", "human"),
        ("version", "4"),
    ):
        assert replace(CHANGE, **{field: value}).event_id != CHANGE.event_id, field


def test_a_creation_as_queued_is_no_event_and_a_status_or_engagement_change_is() -> None:
    assert not is_published(replace(CHANGE, previous_status=None, status="queued"))
    assert is_published(replace(CHANGE, previous_status=None, status="dropped"))
    assert not is_published(replace(CHANGE, previous_status="opened", status="opened", engagement="none"))
    assert is_published(replace(CHANGE, previous_status="opened", status="opened", engagement="human"))
