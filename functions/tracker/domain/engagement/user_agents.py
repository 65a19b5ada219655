"""The intrinsic class of one Open or Click, from the user agent and address SES reports.

Order matters and is the point of the tables: Apple's bare user agent first, then the image
proxies that fetch when the person opens (Gmail, Yahoo) and the mail clients, *before* any crawler
detection: CrawlerDetect lists ``GoogleImageProxy``, ``YahooMailProxy`` and Outlook's
``Microsoft Office`` as crawlers, and a tracker that trusted it there would drop every Gmail and
Outlook open. A scanning gateway's published network outranks every agent but the proxies'. Then
named scanners, headless browsers and HTTP tools by agent, browsers whose agent has exactly
today's browser grammar, CrawlerDetect's 1,400-odd patterns for the rest of the machines, and
anything else that looks like a browser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Protocol

from tracker.domain.engagement.classes import FETCH_ON_OPEN_PROXIES, FetchClass, FetchKind, fetch_class
from tracker.domain.engagement.networks import (
    AddressSet,
    default_apple_ranges,
    parse_address,
    scanner_networks,
)

# What SES reports for an Apple Mail Privacy Protection fetch: this, and nothing else.
APPLE_MPP_USER_AGENT = "Mozilla/5.0"


@dataclass(frozen=True)
class UserAgentRule:
    code: str
    pattern: str
    source: str


# Recognised before crawler detection: proxies that fetch on the person's open, then mail clients.
PEOPLE_RULES: tuple[UserAgentRule, ...] = (
    UserAgentRule(
        "gmail_proxy",
        r"GoogleImageProxy",
        "Google: Gmail shows images through its proxy when the message is opened (Gmail Help, "
        "'Choose whether to show images'); user agent as in Matomo device-detector bots.yml",
    ),
    UserAgentRule(
        "yahoo_proxy",
        r"YahooMailProxy",
        "Yahoo: 'Yahoo Mail Proxy' (help.yahoo.com SLN28749), named in its user agent; Matomo device-detector bots.yml",
    ),
    UserAgentRule(
        "mail_client",
        r"Microsoft Outlook|ms-office|MSOffice \d|Microsoft Office/|Microsoft Office Outlook|MacOutlook/"
        r"|Outlook-iOS|Outlook-Android|Thunderbird/|YahooMobileMail|Airmail |^Mail/\d| Gmail/\d",
        "uap-core regexes.yaml (ua-parser): Outlook, Thunderbird, Outlook-iOS-Android, YahooMobileMail, "
        "Airmail; the Gmail iOS app appends 'Gmail/<version>' to WebKit's agent",
    ),
    UserAgentRule(
        "mail_client",
        # Apple Mail renders with WebKit but, unlike Safari, sends no Version/ or Safari/ token.
        r"^Mozilla/5\.0 \((?:Macintosh|iPhone|iPad)[^)]*\) AppleWebKit/[\d.]+ \(KHTML, like Gecko\)(?: Mobile/\w+)?$",
        "uap-core regexes.yaml (ua-parser): 'Apple Mail' is WebKit without a Safari token",
    ),
)

# Machines recognised by their user agent, before the generic crawler patterns.
MACHINE_RULES: tuple[UserAgentRule, ...] = (
    UserAgentRule(
        "scanner:barracuda",
        r"Barracuda Sentinel",
        "Matomo device-detector bots.yml and JayBizzle Crawler-Detect: 'Barracuda Sentinel (EE)'",
    ),
    UserAgentRule(
        "scanner:bing",
        r"BingPreview",
        "Microsoft Bing, 'Which crawlers does Bing use': BingPreview renders link previews (Outlook.com, Teams)",
    ),
    UserAgentRule(
        "headless",
        r"HeadlessChrome|PhantomJS|SlimerJS|Puppeteer|Playwright|Headless",
        "Google: 'Getting started with Headless Chrome' (HeadlessChrome token); crawler-user-agents patterns",
    ),
    UserAgentRule(
        "tool",
        r"^(?:curl|Wget|python-requests|Python-urllib|python-httpx|aiohttp|Go-http-client|okhttp|Java/"
        r"|Apache-HttpClient|libwww-perl|axios|node-fetch|undici|PostmanRuntime|HTTPie)\b",
        "crawler-user-agents patterns (^curl, [wW]get, python-requests, Go-http-client, ...)",
    ),
)

# The exact grammar of today's browsers' user agents, nothing appended. A match is a browser without
# consulting CrawlerDetect, whose one large regex then compiles only when an unusual agent appears.
# A bot word inside the parentheses still sends it to CrawlerDetect.
CLEAN_BROWSER_RULES: tuple[UserAgentRule, ...] = (
    UserAgentRule(
        "browser",
        r"^Mozilla/5\.0 \([^()]+\) AppleWebKit/537\.36 \(KHTML, like Gecko\) Chrome/[\d.]+ (?:Mobile )?"
        r"Safari/537\.36(?: (?:Edg|EdgA|OPR)/[\d.]+)?$",
        "Chromium, 'User-Agent Reduction' (the reduced Chrome/Edge/Opera user agent, desktop and Android)",
    ),
    UserAgentRule(
        "browser",
        r"^Mozilla/5\.0 \([^()]+; rv:[\d.]+\) Gecko/[\d.]+ Firefox/[\d.]+$",
        "MDN, 'Firefox user agent string reference'",
    ),
    UserAgentRule(
        "browser",
        r"^Mozilla/5\.0 \((?:Macintosh|iPhone|iPad)[^()]+\) AppleWebKit/605\.1\.15 \(KHTML, like Gecko\) "
        r"(?:Version/[\d.]+ |(?:CriOS|FxiOS|EdgiOS)/[\d.]+ )?(?:Mobile/\w+ )?Safari/[\d.]+$",
        "MDN, 'User-Agent' header: Safari, and the WebKit-based Chrome/Firefox/Edge on iOS",
    ),
)
BOT_WORDS = r"bot|crawl|spider|scan|preview|headless|http|@"
BROWSER_PATTERN = r"^Mozilla/5\.0 \(.+\).*(?:Chrome|Firefox|Safari|Edg|EdgA|EdgiOS|CriOS|FxiOS|OPR)/\d"


@cache
def _compiled() -> tuple[tuple[tuple[re.Pattern[str], str], ...], tuple[tuple[re.Pattern[str], str], ...]]:
    def compile_all(rules: tuple[UserAgentRule, ...]) -> tuple[tuple[re.Pattern[str], str], ...]:
        return tuple((re.compile(rule.pattern, re.IGNORECASE), rule.code) for rule in rules)

    return compile_all(PEOPLE_RULES), compile_all(MACHINE_RULES)


@cache
def _browser() -> tuple[tuple[re.Pattern[str], ...], re.Pattern[str], re.Pattern[str]]:
    clean = tuple(re.compile(rule.pattern) for rule in CLEAN_BROWSER_RULES)
    return clean, re.compile(BOT_WORDS, re.IGNORECASE), re.compile(BROWSER_PATTERN)


def _clean_browser(user_agent: str) -> bool:
    clean, bot_words, _ = _browser()
    return any(p.match(user_agent) for p in clean) and not bot_words.search(user_agent)


class _CrawlerCheck(Protocol):
    def is_crawler(self, user_agent: str | None = None) -> bool: ...


@cache
def _crawler_detect() -> _CrawlerCheck:
    # Imported and compiled on first use, not at import: its one large regex costs ~25 ms, paid
    # once per container by the first event that gets this far.
    from crawlerdetect import CrawlerDetect  # type: ignore[import-untyped]

    detector: _CrawlerCheck = CrawlerDetect()
    return detector


def _first_match(rules: tuple[tuple[re.Pattern[str], str], ...], user_agent: str) -> str | None:
    for pattern, code in rules:
        if pattern.search(user_agent):
            return code
    return None


def classify_code(
    user_agent: str | None, ip_address: str | None, apple_ranges: AddressSet | None = None
) -> str:
    """The class code of a fetch: the part of ``classify_fetch`` that does not depend on its kind."""
    agent = (user_agent or "").strip()
    address = parse_address(ip_address)
    if agent == APPLE_MPP_USER_AGENT:
        ranges = apple_ranges if apple_ranges is not None else default_apple_ranges()
        return "apple_mpp" if address is not None and address in ranges else "mpp_ua"
    network = scanner_networks().label_of(address)
    if not agent:
        return network or "no_ua"
    code = _agent_code(agent)
    if code in FETCH_ON_OPEN_PROXIES or network is None:
        return code
    return network


@lru_cache(maxsize=4096)
def _agent_code(agent: str) -> str:
    """The class an agent alone gives; cached, since a few agents make up most of the traffic."""
    people, machines = _compiled()
    code = _first_match(people, agent) or _first_match(machines, agent)
    if code is not None:
        return code
    if _clean_browser(agent):
        return "browser"
    if _crawler_detect().is_crawler(agent):
        return "bot"
    return "browser" if _browser()[2].search(agent) else "unknown"


def classify_fetch(
    kind: FetchKind,
    user_agent: str | None,
    ip_address: str | None,
    apple_ranges: AddressSet | None = None,
) -> FetchClass:
    """The intrinsic class of one Open or Click as SES reported it.

    ``apple_ranges`` is the refreshed list when the caller has one (an AppleRanges, or a provider
    that loads it when first asked: only a bare ``Mozilla/5.0`` agent asks); the shipped snapshot
    otherwise.
    """
    return fetch_class(kind, classify_code(user_agent, ip_address, apple_ranges))
