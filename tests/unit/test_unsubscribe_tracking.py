"""The pure rules of one-click unsubscribe (signed links, SES opt-outs, when an address counts as
unsubscribed) and of tracking per kind (decided at creation; untracked rates are unknown)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.reasons import UNSUBSCRIBED_RULE
from tracker.domain.records import RecipientKey
from tracker.domain.status import compute_rates
from tracker.domain.tracking import Tracking, parse_kinds, tracked_rates, tracking_for
from tracker.domain.unsubscribe import (
    UNSUBSCRIBED_REASON,
    Unsubscription,
    carries_unsubscribe,
    is_opt_out,
    sign,
    unsubscribe_headers,
    unsubscribe_url,
    verify,
)
from tracker.logic.outcomes import dropped_reason

KEY = b"k" * 32
RECIPIENT = RecipientKey("tenant-a", "m17300000000001234567890abcdef", "r0000")


def test_a_signed_link_names_its_recipient_and_nothing_else_verifies() -> None:
    token = sign(KEY, RECIPIENT)
    assert verify(KEY, token) == RECIPIENT
    assert verify(b"another key", token) is None
    tenant, message, recipient, signature = token.split(".")
    assert verify(KEY, ".".join(("tenant-b", message, recipient, signature))) is None
    assert verify(KEY, ".".join((tenant, message, "r0001", signature))) is None
    assert verify(KEY, token + "x") is None
    assert verify(KEY, "") is None
    assert verify(KEY, "a.b.c") is None


def test_the_headers_are_rfc_8058s_pair() -> None:
    url = unsubscribe_url("https://api.example/prod/", sign(KEY, RECIPIENT))
    assert url.startswith("https://api.example/prod/unsubscribe/tenant-a.")
    assert unsubscribe_headers(url) == (
        ("List-Unsubscribe", f"<{url}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    )
    assert carries_unsubscribe("email")
    assert not carries_unsubscribe("invoice")
    assert not carries_unsubscribe("receipt")


def test_an_unsubscribed_drop_says_unsubscribed_which_the_reasons_catalogue_reads() -> None:
    assert UNSUBSCRIBED_REASON == UNSUBSCRIBED_RULE
    assert dropped_reason(UNSUBSCRIBED_REASON) == "unsubscribed"
    assert dropped_reason("1 complaint") == "suppressed: 1 complaint"


def test_ses_opt_outs_are_told_from_opt_ins() -> None:
    assert is_opt_out({"new_topic_preferences": {"unsubscribe_all": True}})
    topic = {"topic_name": "News", "subscription_status": "OptOut"}
    assert is_opt_out(
        {"new_topic_preferences": {"unsubscribe_all": False, "topic_subscription_status": [topic]}}
    )
    opt_in = {"topic_name": "News", "subscription_status": "OptIn"}
    assert not is_opt_out(
        {"new_topic_preferences": {"unsubscribe_all": False, "topic_subscription_status": [opt_in]}}
    )
    assert not is_opt_out({})


T0 = datetime(2026, 11, 1, tzinfo=UTC)
times = st.lists(st.integers(0, 1000).map(lambda m: T0 + timedelta(minutes=m)), max_size=6)


@given(times, times)
def test_unsubscribed_is_the_latest_unsubscription_after_the_latest_resubscription(
    unsubscribed: list[datetime], resubscribed: list[datetime]
) -> None:
    """The store keeps the latest of each (a max): any order of arrival gives the same answer."""
    state = Unsubscription(
        "tenant-a",
        "ann@example.com",
        unsubscribed_at=max(unsubscribed, default=None),
        resubscribed_at=max(resubscribed, default=None),
    )
    expected = bool(unsubscribed) and (not resubscribed or max(unsubscribed) > max(resubscribed))
    assert state.active is expected


def test_tracking_is_decided_from_the_kind_and_the_html() -> None:
    untracked = parse_kinds("invoice")
    assert tracking_for("invoice", "<p>hi</p>", untracked) is Tracking.OFF
    assert tracking_for("email", "<p>hi</p>", untracked) is Tracking.ON
    assert tracking_for("email", None, untracked) is Tracking.CLICKS_ONLY
    assert tracking_for("receipt", "<p>x</p>", parse_kinds("invoice, receipt")) is Tracking.OFF
    assert parse_kinds(None) == {"invoice"}
    assert parse_kinds("none") == set()
    assert parse_kinds("") == set()


def test_untracked_rates_are_unknown_never_zero() -> None:
    rates = compute_rates({"delivered": 3})
    assert (rates.open_rate, rates.click_rate) == (0.0, 0.0)
    off = tracked_rates(rates, Tracking.OFF)
    assert (off.open_rate, off.open_rate_all, off.click_rate, off.click_rate_all) == (None, None, None, None)
    assert off.delivery_rate == 1.0
    clicks = tracked_rates(rates, Tracking.CLICKS_ONLY)
    assert (clicks.open_rate, clicks.open_rate_all, clicks.click_rate) == (None, None, 0.0)
    assert tracked_rates(rates, Tracking.ON) == rates
