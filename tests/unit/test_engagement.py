"""The engagement classifier: intrinsic classes on real agents and addresses, Apple's ranges, the
timing rules at and around each threshold, their settings, and order/duplicate independence."""

from __future__ import annotations

import importlib
import ipaddress
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import engagement_samples as samples
from tracker.domain.engagement import (
    AddressTable,
    AppleRanges,
    Engagement,
    EngagementCounts,
    EngagementRules,
    Fetch,
    Verdict,
    classify_fetch,
    count_verdicts,
    default_apple_ranges,
    fetch_class,
    final_verdicts,
)
from tracker.domain.engagement.classes import CLASSES
from tracker.domain.engagement.networks import parse_egress_csv, prefix_span
from tracker.domain.engagement.timing import canonical

DELIVERED = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
SENT = DELIVERED - timedelta(seconds=3)


def at(seconds: float) -> datetime:
    return DELIVERED + timedelta(seconds=seconds)


def click(seconds: float, link: str = "invoice", code: str = "browser") -> Fetch:
    return Fetch(at=at(seconds), kind="click", code=code, link=link)


def open_(seconds: float, code: str = "browser") -> Fetch:
    return Fetch(at=at(seconds), kind="open", code=code)


def verdicts_of(fetches: list[Fetch], **kwargs: object) -> list[tuple[Verdict, str]]:
    options: dict[str, object] = {"delivered_at": DELIVERED, "sent_at": SENT, **kwargs}
    return [(v.verdict, v.reason) for v in final_verdicts(fetches, **options)]  # type: ignore[arg-type]


# --- intrinsic classification on real agents and addresses ---------------------------------------


@pytest.mark.parametrize("sample", samples.ALL_SAMPLES, ids=lambda s: s.name)
def test_each_published_sample_gets_its_class_and_verdict(sample: samples.Sample) -> None:
    result = classify_fetch(sample.kind, sample.user_agent, sample.ip_address)
    assert (result.code, result.verdict) == (sample.code, sample.verdict), sample.source


def test_no_ordinary_browser_or_mail_client_is_taken_for_a_machine_as_open_or_click() -> None:
    false_positives = [
        (s.name, kind)
        for s in samples.PEOPLE
        for kind in ("open", "click")
        if not classify_fetch(kind, s.user_agent, s.ip_address).verdict.is_human
    ]
    assert false_positives == []


def test_gmail_and_yahoo_proxies_are_people_although_crawler_lists_name_them() -> None:
    detector = importlib.import_module("crawlerdetect").CrawlerDetect()
    for sample in (samples.GMAIL_PROXY, samples.YAHOO_PROXY, samples.OUTLOOK_2010):
        assert detector.is_crawler(sample.user_agent), "the premise: CrawlerDetect alone flags it"
        assert classify_fetch("open", sample.user_agent, sample.ip_address).verdict is Verdict.HUMAN


def test_reasons_name_the_machine() -> None:
    assert classify_fetch("open", "Mozilla/5.0", "17.1.2.3").reason == "Apple Mail Privacy Protection"
    defender = samples.DEFENDER_EOP
    assert classify_fetch("click", defender.user_agent, defender.ip_address).reason == (
        "link scanner: Microsoft Defender for Office 365 (Safe Links)"
    )
    gmail = samples.GMAIL_PROXY
    assert classify_fetch("open", gmail.user_agent, gmail.ip_address).reason == (
        "Gmail image proxy (opened by the person)"
    )


def test_bare_mozilla_agent_outside_apples_ranges_is_still_mpp_but_says_so() -> None:
    result = classify_fetch("open", "Mozilla/5.0", "203.0.113.9")
    assert (result.code, result.verdict) == ("mpp_ua", Verdict.PRIVACY_PROXY)
    assert "outside Apple's published ranges" in result.reason
    assert classify_fetch("open", "Mozilla/5.0", None).code == "mpp_ua"


def test_a_bare_agent_click_is_a_scanner_not_a_privacy_proxy() -> None:
    assert classify_fetch("click", "Mozilla/5.0", "17.1.2.3").verdict is Verdict.SCANNER


@pytest.mark.parametrize("agent", ["Mozilla/5.0 ", " Mozilla/5.0"])
def test_surrounding_whitespace_does_not_hide_the_bare_agent(agent: str) -> None:
    assert classify_fetch("open", agent, "17.1.2.3").code == "apple_mpp"


@pytest.mark.parametrize("address", ["not-an-ip", "", None, "17.1.2"])
def test_a_missing_or_malformed_address_only_loses_the_address_rules(address: str | None) -> None:
    assert classify_fetch("open", "Mozilla/5.0", address).code == "mpp_ua"
    assert classify_fetch("click", samples.CHROME_WINDOWS.user_agent, address).code == "browser"


def test_no_user_agent_is_a_machine_and_a_named_network_still_names_it() -> None:
    assert classify_fetch("open", None, "198.51.100.1").code == "no_ua"
    assert classify_fetch("click", "", "40.107.1.1").code == "scanner:defender"


def test_every_code_the_classifier_returns_is_a_stored_code_with_a_verdict_per_kind() -> None:
    for sample in samples.ALL_SAMPLES:
        code = classify_fetch(sample.kind, sample.user_agent, sample.ip_address).code
        assert code in CLASSES
        assert len(code.encode()) <= 20


def test_a_stored_code_this_version_does_not_know_counts_as_the_person() -> None:
    result = fetch_class("open", "scanner:future")
    assert result.verdict is Verdict.HUMAN
    assert "scanner:future" in result.reason


# --- Apple's ranges ---------------------------------------------------------------------------------


def test_the_shipped_snapshot_parses_and_holds_apples_block_and_relay_ranges() -> None:
    ranges = default_apple_ranges()
    assert ranges.prefixes >= 10
    assert "17.255.255.255" in ranges
    assert "172.225.46.127" in ranges  # the last address of its /26
    assert "172.225.46.128" not in ranges
    assert "2a02:26f7:b3c0:4000::1" in ranges
    assert "16.255.255.255" not in ranges
    assert "18.0.0.0" not in ranges


def test_a_refreshed_list_replaces_the_snapshot_when_passed_in() -> None:
    refreshed = AppleRanges.from_csv("203.0.113.0/24,US,US-CA,San Jose,\n")
    assert classify_fetch("open", "Mozilla/5.0", "203.0.113.9", refreshed).code == "apple_mpp"
    assert classify_fetch("open", "Mozilla/5.0", "172.225.46.70", refreshed).code == "mpp_ua"
    assert classify_fetch("open", "Mozilla/5.0", "17.1.2.3", refreshed).code == "apple_mpp"  # the /8 stays


def test_the_csv_parser_reads_apples_format_and_refuses_a_bad_line_with_its_number() -> None:
    text = "172.224.224.0/27,GB,GB-EN,London,\n\n2a02:26f7:b3c0:4000::/64,GB,GB-EN,London,\n"
    assert parse_egress_csv(text) == [
        (4, int(ipaddress.ip_address("172.224.224.0")), int(ipaddress.ip_address("172.224.224.31"))),
        (
            6,
            int(ipaddress.ip_address("2a02:26f7:b3c0:4000::")),
            int(ipaddress.ip_address("2a02:26f7:b3c0:4000:ffff:ffff:ffff:ffff")),
        ),
    ]
    with pytest.raises(ValueError, match="line 2"):
        parse_egress_csv("172.224.224.0/27,GB,GB-EN,London,\n<html>,,,,\n")
    for bad in ("172.224.224.0/33", "172.224.224/24", "2a02::/129", "10.0.0.0/x"):
        with pytest.raises(ValueError, match="line 1"):
            parse_egress_csv(f"{bad},US,,,\n")


def test_ipv4_mapped_ipv6_addresses_are_looked_up_as_ipv4() -> None:
    assert "::ffff:17.1.2.3" in default_apple_ranges()


@given(
    st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(8, 32)), min_size=1, max_size=30),
    st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=50),
)
@settings(max_examples=60, deadline=None)
def test_bisect_lookup_agrees_with_a_linear_scan(nets: list[tuple[int, int]], probes: list[int]) -> None:
    networks = [ipaddress.ip_network((address, prefix), strict=False) for address, prefix in nets]
    table = AddressTable((net, "x") for net in networks)
    for probe in probes:
        ip = ipaddress.ip_address(probe)
        assert (table.label_of(str(ip)) == "x") == any(ip in net for net in networks)


def test_overlapping_networks_with_different_labels_are_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        AddressTable([("10.0.0.0/8", "a"), ("10.1.0.0/16", "b")])


# --- timing rules, at and around each threshold ---------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "verdict"),
    [(-2.0, Verdict.SCANNER), (0.0, Verdict.SCANNER), (5.0, Verdict.SCANNER), (5.001, Verdict.HUMAN)],
)
def test_a_click_within_five_seconds_of_delivery_is_a_scanner(seconds: float, verdict: Verdict) -> None:
    assert verdicts_of([click(seconds)])[0][0] is verdict


def test_the_click_rule_says_when() -> None:
    assert verdicts_of([click(3.2)]) == [(Verdict.SCANNER, "link scanner: clicked 3.2 s after delivery")]
    assert verdicts_of([click(-1.0)])[0][1] == "link scanner: clicked 1 s before delivery"


@pytest.mark.parametrize(
    ("seconds", "verdict"), [(0.0, Verdict.PREFETCH), (2.0, Verdict.PREFETCH), (2.001, Verdict.HUMAN)]
)
def test_an_open_within_two_seconds_of_delivery_is_a_prefetch(seconds: float, verdict: Verdict) -> None:
    assert verdicts_of([open_(seconds)])[0][0] is verdict


@pytest.mark.parametrize("code", ["gmail_proxy", "yahoo_proxy"])
def test_proxies_that_fetch_on_open_are_people_even_at_delivery(code: str) -> None:
    assert verdicts_of([open_(0.5, code)])[0][0] is Verdict.HUMAN


def test_two_distinct_links_within_one_second_are_a_burst_whenever_it_happens() -> None:
    burst = [click(600.0, "a"), click(601.0, "b")]
    assert [v for v, _ in verdicts_of(burst)] == [Verdict.SCANNER, Verdict.SCANNER]
    assert verdicts_of(burst)[0][1] == "link scanner: 2 links in 1 s, 600 s after delivery"
    apart = [click(600.0, "a"), click(601.001, "b")]
    assert [v for v, _ in verdicts_of(apart)] == [Verdict.HUMAN, Verdict.HUMAN]


def test_the_same_link_twice_is_not_a_burst() -> None:
    assert [v for v, _ in verdicts_of([click(600.0, "a"), click(600.2, "a")])] == [Verdict.HUMAN] * 2


def test_the_issues_example_reason() -> None:
    fetches = [click(4.0, "a"), click(4.5, "b"), click(4.9, "c")]
    assert {r for _, r in verdicts_of(fetches)} == {"link scanner: 3 links in 0.9 s, 4 s after delivery"}


def test_burst_min_links_and_window_are_settable() -> None:
    rules = EngagementRules(burst_min_links=3, burst_window_seconds=2.0)
    two = [click(600.0, "a"), click(601.5, "b")]
    three = [*two, click(602.0, "c")]
    assert {v for v, _ in verdicts_of(two, rules=rules)} == {Verdict.HUMAN}
    assert {v for v, _ in verdicts_of(three, rules=rules)} == {Verdict.SCANNER}


def test_a_burst_counts_clicks_already_known_as_scanners() -> None:
    fetches = [click(600.0, "a", code="scanner:mimecast"), click(600.4, "b")]
    assert [v for v, _ in verdicts_of(fetches)] == [Verdict.SCANNER, Verdict.SCANNER]


def test_without_delivery_the_send_time_is_the_reference_and_flags_less() -> None:
    late = [click(2.5)]  # 5.5 s after sending, 2.5 s after delivery
    assert verdicts_of(late)[0][0] is Verdict.SCANNER
    assert verdicts_of(late, delivered_at=None)[0][0] is Verdict.HUMAN
    assert verdicts_of([click(1.0)], delivered_at=None) == [
        (Verdict.SCANNER, "link scanner: clicked 4 s after sending")
    ]
    assert verdicts_of([click(1.0)], delivered_at=None, sent_at=None)[0][0] is Verdict.HUMAN


def test_intrinsic_machine_verdicts_are_never_upgraded_by_timing() -> None:
    assert verdicts_of([open_(3600.0, "apple_mpp")])[0] == (
        Verdict.PRIVACY_PROXY,
        "Apple Mail Privacy Protection",
    )


def test_the_defender_sample_from_an_unlisted_address_is_caught_by_timing() -> None:
    sample = samples.DEFENDER_AZURE
    code = classify_fetch("click", sample.user_agent, sample.ip_address).code
    assert verdicts_of([click(4.0, code=code)])[0][0] is Verdict.SCANNER


# --- the bound on timed fetches -------------------------------------------------------------------


def test_fetches_beyond_the_bound_keep_their_intrinsic_verdict() -> None:
    rules = EngagementRules(max_timed_fetches=2)
    fetches = [open_(10.0), open_(11.0), click(1.0, "a"), click(1.5, "b")]
    result = final_verdicts(fetches, delivered_at=DELIVERED, sent_at=SENT, rules=rules)
    assert [(v.fetch.at, v.verdict) for v in result] == [
        (at(1.0), Verdict.SCANNER),
        (at(1.5), Verdict.SCANNER),
        (at(10.0), Verdict.HUMAN),
        (at(11.0), Verdict.HUMAN),
    ]
    beyond = final_verdicts([*fetches, open_(0.5)], delivered_at=DELIVERED, sent_at=SENT, rules=rules)
    assert [v.verdict for v in beyond] == [
        Verdict.PREFETCH,
        Verdict.SCANNER,
        Verdict.HUMAN,
        Verdict.HUMAN,
        Verdict.HUMAN,
    ]
    assert beyond[2].reason == "web browser"  # pushed out of the timed head: intrinsic again


# --- settings ---------------------------------------------------------------------------------------


def test_rules_read_their_engagement_variables() -> None:
    rules = EngagementRules.from_mapping(
        {
            "ENGAGEMENT_CLICK_AFTER_DELIVERY_SECONDS": "10",
            "ENGAGEMENT_OPEN_AFTER_DELIVERY_SECONDS": "0.5",
            "ENGAGEMENT_BURST_MIN_LINKS": "3",
            "ENGAGEMENT_BURST_WINDOW_SECONDS": "2",
            "ENGAGEMENT_MAX_TIMED_FETCHES": "50",
            "UNRELATED": "x",
        }
    )
    assert rules == EngagementRules(10.0, 0.5, 3, 2.0, 50)
    assert EngagementRules.from_mapping({}) == EngagementRules()
    assert EngagementRules.from_mapping({"ENGAGEMENT_BURST_MIN_LINKS": " "}) == EngagementRules()


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("ENGAGEMENT_BURST_MIN_LINKS", "two", "is not a number"),
        ("ENGAGEMENT_BURST_MIN_LINKS", "1", "2 or more"),
        ("ENGAGEMENT_MAX_TIMED_FETCHES", "0", "1 or more"),
        ("ENGAGEMENT_CLICK_AFTER_DELIVERY_SECONDS", "-1", "0 or more"),
        ("ENGAGEMENT_OPEN_AFTER_DELIVERY_SECONDS", "nan", "finite"),
    ],
)
def test_a_bad_setting_is_refused_naming_its_variable(variable: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as raised:
        EngagementRules.from_mapping({variable: value})
    assert variable in str(raised.value)


def test_the_settings_are_the_documented_variables() -> None:
    assert EngagementRules.variables() == (
        "ENGAGEMENT_CLICK_AFTER_DELIVERY_SECONDS",
        "ENGAGEMENT_OPEN_AFTER_DELIVERY_SECONDS",
        "ENGAGEMENT_BURST_MIN_LINKS",
        "ENGAGEMENT_BURST_WINDOW_SECONDS",
        "ENGAGEMENT_MAX_TIMED_FETCHES",
    )


# --- counts and engagement --------------------------------------------------------------------------


def test_counts_split_people_from_machines_and_give_the_engagement() -> None:
    result = final_verdicts(
        [open_(0.5), open_(0.6, "apple_mpp"), click(3.0), open_(3600.0), click(3700.0, "x")],
        delivered_at=DELIVERED,
        sent_at=SENT,
    )
    counts = count_verdicts(result)
    assert counts == EngagementCounts(human_opens=1, machine_opens=2, human_clicks=1, machine_clicks=1)
    assert counts.engagement is Engagement.HUMAN
    assert EngagementCounts(machine_opens=3).engagement is Engagement.MACHINE_ONLY
    assert EngagementCounts().engagement is Engagement.NONE
    assert counts + EngagementCounts(machine_opens=1) == EngagementCounts(1, 3, 1, 1)


def test_tuples_in_the_stored_order_are_accepted() -> None:
    stored = [("click", at(1.0), "browser", "a"), ("open", at(30.0), "apple_mpp", None)]
    assert [v.verdict for v in final_verdicts(stored, delivered_at=DELIVERED, sent_at=SENT)] == [
        Verdict.SCANNER,
        Verdict.PRIVACY_PROXY,
    ]
    with pytest.raises(ValueError, match="kind"):
        final_verdicts([("bounce", at(1.0), "browser", None)], delivered_at=DELIVERED, sent_at=SENT)


# --- order, duplicates and the bound: properties ---------------------------------------------------

CODES = st.sampled_from(sorted(CLASSES))
MILLISECONDS = st.integers(-3_000, 30_000)
FETCH = st.one_of(
    st.builds(lambda ms, code: open_(ms / 1000, code), MILLISECONDS, CODES),
    st.builds(
        lambda ms, code, link: click(ms / 1000, link, code),
        MILLISECONDS,
        CODES,
        st.sampled_from(["a", "b", "c"]),
    ),
)
FETCHES = st.lists(FETCH, max_size=30)
REFERENCES = st.sampled_from([DELIVERED, DELIVERED + timedelta(seconds=2), None])
RULES = st.builds(
    EngagementRules,
    click_after_delivery_seconds=st.sampled_from([0.0, 5.0, 12.0]),
    open_after_delivery_seconds=st.sampled_from([0.0, 2.0]),
    burst_min_links=st.integers(2, 3),
    burst_window_seconds=st.sampled_from([0.5, 1.0, 2.0]),
    max_timed_fetches=st.integers(1, 25),
)


@given(FETCHES, REFERENCES, RULES, st.randoms(use_true_random=False))
@settings(max_examples=200, deadline=None)
def test_verdicts_are_the_same_for_any_permutation_and_duplication(
    fetches: list[Fetch], delivered_at: datetime | None, rules: EngagementRules, rnd: random.Random
) -> None:
    in_time_order: list[Fetch] = sorted(set(fetches), key=lambda f: (f.at, f.kind, f.code, f.link or ""))
    expected = final_verdicts(
        in_time_order,
        delivered_at=delivered_at,
        sent_at=SENT,
        rules=rules,
    )
    arrived = fetches + [rnd.choice(fetches) for _ in range(len(fetches))] if fetches else []
    rnd.shuffle(arrived)
    assert final_verdicts(arrived, delivered_at=delivered_at, sent_at=SENT, rules=rules) == expected
    assert len(expected) == len(set(fetches))
    assert count_verdicts(expected) == count_verdicts(
        final_verdicts(list(reversed(arrived)), delivered_at=delivered_at, sent_at=SENT, rules=rules)
    )


@given(FETCHES, FETCHES, REFERENCES, RULES)
@settings(max_examples=150, deadline=None)
def test_keeping_only_the_head_of_the_canonical_order_gives_the_same_timed_verdicts(
    first: list[Fetch], second: list[Fetch], delivered_at: datetime | None, rules: EngagementRules
) -> None:
    # A store that keeps the earliest K of what it has seen, merging batches in any order, keeps
    # exactly the earliest K of the whole set, so the verdicts of those K do not depend on batching.
    k = rules.max_timed_fetches
    kept = canonical(canonical(first)[:k] + second)[:k]
    assert kept == canonical(first + second)[:k]
    whole = final_verdicts(first + second, delivered_at=delivered_at, sent_at=SENT, rules=rules)
    assert final_verdicts(kept, delivered_at=delivered_at, sent_at=SENT, rules=rules) == whole[:k]
    for item in whole[k:]:
        intrinsic = fetch_class(item.fetch.kind, item.fetch.code)
        assert (item.verdict, item.reason) == (intrinsic.verdict, intrinsic.reason)


@given(st.booleans(), st.integers(0, 2**128 - 1), st.integers(0, 128))
@settings(max_examples=200, deadline=None)
def test_the_fast_prefix_parser_agrees_with_ipaddress(v6: bool, value: int, length: int) -> None:
    bits = 128 if v6 else 32
    network = ipaddress.ip_network((value % 2**bits, length % (bits + 1)), strict=False)
    first, last = int(network.network_address), int(network.broadcast_address)
    assert prefix_span(str(network)) == (network.version, first, last)
