"""Per-message insights the projector keeps beside the counts (docs/insights.md): the recipients'
mailbox providers, and the links they clicked.

**Providers** are told by the address's domain, with the table below (the consumer domains of
each provider; an address at a company domain hosted by Google Workspace or Microsoft 365 is
``other``: telling those apart needs an MX lookup, which the projector does not make).

**Links**: per clicked link (its id, tracker.domain.timeline.link_id), how many customers clicked
it (recipients with at least one click judged human), their clicks, and the automatic clicks
(link scanners, prefetchers). A recipient's clicks are those its timeline keeps (its first
FETCHES_KEPT opens and clicks, what the engagement rules judge), so a recipient clicking a link
hundreds of times counts its first ones. A message keeps at most MAX_LINKS links by name: the
MAX_LINKS smallest ids seen; the others are summed under OTHER_LINK.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit

from tracker.domain.status import DELIVERED_STATUSES, OPENED_STATUSES, Status


class Provider(StrEnum):
    GMAIL = "gmail"
    MICROSOFT = "microsoft"
    YAHOO = "yahoo"
    APPLE = "apple"
    OTHER = "other"


PROVIDER_DOMAINS: Mapping[Provider, frozenset[str]] = {
    Provider.GMAIL: frozenset({"gmail.com", "googlemail.com"}),
    Provider.MICROSOFT: frozenset(
        {
            "outlook.com",
            "hotmail.com",
            "live.com",
            "msn.com",
            "passport.com",
            "windowslive.com",
            "hotmail.co.uk",
            "hotmail.fr",
            "hotmail.de",
            "hotmail.it",
            "hotmail.es",
            "live.co.uk",
            "live.fr",
            "live.de",
            "outlook.fr",
            "outlook.de",
            "outlook.es",
        }
    ),
    # AOL's mail is Yahoo's (the same company and mail servers).
    Provider.YAHOO: frozenset(
        {
            "yahoo.com",
            "ymail.com",
            "rocketmail.com",
            "yahoo.co.uk",
            "yahoo.fr",
            "yahoo.de",
            "yahoo.es",
            "yahoo.it",
            "yahoo.co.jp",
            "yahoo.com.br",
            "aol.com",
            "aim.com",
        }
    ),
    Provider.APPLE: frozenset({"icloud.com", "me.com", "mac.com"}),
}
_BY_DOMAIN = {domain: provider for provider, domains in PROVIDER_DOMAINS.items() for domain in domains}


def provider_of(email: str) -> Provider:
    domain = email.rpartition("@")[2].strip().lower().rstrip(".")
    return _BY_DOMAIN.get(domain, Provider.OTHER)


class ProviderMetric(StrEnum):
    RECIPIENTS = "recipients"
    DELIVERED = "delivered"
    OPENED = "opened"
    BOUNCED = "bounced"
    DROPPED = "dropped"


def provider_metrics(tallies: Set[str]) -> frozenset[ProviderMetric]:
    """What a recipient counts under in its provider's numbers, from its tallies (its status)."""
    metrics = {ProviderMetric.RECIPIENTS}
    statuses = {Status(t) for t in tallies if t in Status._value2member_map_}
    if statuses & DELIVERED_STATUSES:
        metrics.add(ProviderMetric.DELIVERED)
    if statuses & OPENED_STATUSES:
        metrics.add(ProviderMetric.OPENED)
    if Status.BOUNCED in statuses:
        metrics.add(ProviderMetric.BOUNCED)
    if Status.DROPPED in statuses:
        metrics.add(ProviderMetric.DROPPED)
    return frozenset(metrics)


@dataclass(frozen=True)
class ProviderStats:
    provider: Provider
    recipients: int = 0
    delivered: int = 0
    opened: int = 0
    bounced: int = 0
    dropped: int = 0

    @property
    def delivery_rate(self) -> float | None:
        return self.delivered / self.recipients if self.recipients else None

    @property
    def open_rate(self) -> float | None:
        return self.opened / self.delivered if self.delivered else None

    @property
    def bounce_rate(self) -> float | None:
        sent = self.recipients - self.dropped
        return self.bounced / sent if sent > 0 else None


# --- links ------------------------------------------------------------------------------------------

MAX_LINKS = 50
OTHER_LINK = "other"


class LinkMetric(StrEnum):
    CUSTOMERS = "customers"  # recipients with a human click on it
    CLICKS = "clicks"  # human clicks
    AUTOMATIC = "automatic"  # machine clicks


@dataclass(frozen=True)
class LinkClicks:
    """One recipient's clicks of one link, as its timeline keeps them."""

    human: int = 0
    machine: int = 0

    def metrics(self) -> Counter[LinkMetric]:
        return Counter(
            {
                LinkMetric.CUSTOMERS: int(self.human > 0),
                LinkMetric.CLICKS: self.human,
                LinkMetric.AUTOMATIC: self.machine,
            }
        )


def link_delta(
    before: Mapping[str, LinkClicks], after: Mapping[str, LinkClicks]
) -> Counter[tuple[str, LinkMetric]]:
    """How one recipient's change moves its message's link numbers."""
    moved: Counter[tuple[str, LinkMetric]] = Counter()
    for link in {*before, *after}:
        old = before.get(link, LinkClicks()).metrics()
        new = after.get(link, LinkClicks()).metrics()
        for metric in LinkMetric:
            if n := new[metric] - old[metric]:
                moved[(link, metric)] += n
    return moved


@dataclass(frozen=True)
class LinkStats:
    link_id: str  # OTHER_LINK: the links beyond MAX_LINKS, summed
    url: str | None
    customers: int = 0
    clicks: int = 0
    automatic: int = 0
    tags: Mapping[str, list[str]] = field(default_factory=dict)  # SES linkTags


@dataclass(frozen=True)
class MessageInsights:
    providers: tuple[ProviderStats, ...] = ()
    links: tuple[LinkStats, ...] = ()
    link_urls: Mapping[str, str] = field(default_factory=dict)


def link_address(url: str) -> str:
    """The address a message's Links tab names a clicked link by: its scheme, host and path only.

    Links are often personalised (``?email=ada@example.com``, a customer's token): the message item
    keeps no personal data (erasing a customer must not have to rewrite it), and one link of a
    newsletter stays one row however many recipients got their own query string.
    """
    return urlsplit(url)._replace(query="", fragment="", netloc=urlsplit(url).hostname or "").geturl()
