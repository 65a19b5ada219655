"""The insights on a message item (tracker.domain.insights; docs/insights.md): what the projector
reads of a recipient image (its clicks per link), the actions it adds to its count update, the
bound on named links, and the read of a message's insights.

Stored as top-level numbers the count update ``ADD``s to, under the same per-shard mark as the
counts (so each stream record moves them exactly once, in the same UpdateItem: no extra write):
``pv_{provider}_{metric}`` per mailbox provider, ``lk_{link id}_{metric}`` per clicked link with
its address in ``lku_{link id}`` and its SES tags in ``lkt_{link id}`` (a JSON list of
``name:value`` pairs; both set once), and ``lk_other_{metric}`` for the links beyond
MAX_LINKS. When an update leaves more than MAX_LINKS named links (only a message whose recipients
clicked that many distinct addresses, e.g. personalised links), a second update folds the largest
ids into ``other``, conditioned on the values it moves; a container remembers the folded ids of
recent messages and sends their later clicks to ``other`` at once.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, cast

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from tracker import constants
from tracker.dal import keys
from tracker.dal.models import MessageItem, shared_connection
from tracker.dal.recipients import facts_from_json
from tracker.dal.support import is_condition_failure, store_errors
from tracker.domain.engagement import EngagementRules
from tracker.domain.insights import (
    MAX_LINKS,
    OTHER_LINK,
    LinkClicks,
    LinkMetric,
    LinkStats,
    MessageInsights,
    Provider,
    ProviderMetric,
    ProviderStats,
    link_address,
)
from tracker.domain.records import MessageKey
from tracker.domain.timeline import LINK_TAGS, link_id, tags_of
from tracker.logic.message_changes import InsightChange

logger = logging.getLogger(__name__)

PROVIDER_PREFIX = "pv_"
LINK_PREFIX = "lk_"
URL_PREFIX = "lku_"
TAGS_PREFIX = "lkt_"
_CLICK_PREFIX = "c|"
# Messages whose folded link ids a container remembers.
FOLDED_REMEMBERED = 1000
_folded: OrderedDict[MessageKey, frozenset[str]] = OrderedDict()


def _number(name: str) -> NumberAttribute:
    return NumberAttribute(attr_name=name)


def provider_attribute(provider: str, metric: str) -> str:
    return f"{PROVIDER_PREFIX}{provider}_{metric}"


def link_attribute(link_id: str, metric: str) -> str:
    return f"{LINK_PREFIX}{link_id}_{metric}"


# --- a recipient image's clicks ------------------------------------------------------------------


def image_links(facts: Mapping[str, Any], rules: EngagementRules) -> dict[str, Any]:
    """The RecipientImage fields of insights (links, link_urls); the facts are decoded only for a
    recipient whose timeline has a click (the verdicts need them)."""
    if not any(text.startswith(_CLICK_PREFIX) for text in facts.get("tl") or ()):
        return {}
    decoded = facts_from_json(facts, frozenset(), rules)
    # Counted per address (tracker.domain.insights.link_address), under that address's id.
    clicks: dict[str, list[int]] = {}
    addresses: dict[str, str] = {}
    tags: dict[str, set[str]] = {}
    for judged in decoded.verdicts:
        fetch = judged.fetch
        url = decoded.links.get(fetch.link) if fetch.link else None
        if fetch.kind != "click" or url is None:
            continue
        address = link_address(url)
        key = link_id(address) or ""
        addresses[key] = address
        tags.setdefault(key, set()).update(decoded.link_tags.get(fetch.link or "", ()))
        counts = clicks.setdefault(key, [0, 0])
        counts[0 if judged.verdict.is_human else 1] += 1
    return {
        "links": {link: LinkClicks(human, machine) for link, (human, machine) in clicks.items()},
        "link_urls": addresses,
        "link_tags": {link: tuple(sorted(pairs)[:LINK_TAGS]) for link, pairs in tags.items() if pairs},
    }


# --- the count update's actions ------------------------------------------------------------------


def insight_actions(message: MessageKey, change: InsightChange | None) -> list[Action]:
    if change is None:
        return []
    moved: dict[str, int] = {}
    for (provider, provider_metric), n in change.providers.items():
        name = provider_attribute(provider, provider_metric)
        moved[name] = moved.get(name, 0) + n
    folded = _folded.get(message, frozenset())
    for (link, link_metric), n in change.links.items():
        name = link_attribute(OTHER_LINK if link in folded else link, link_metric)
        moved[name] = moved.get(name, 0) + n
    actions: list[Action] = [_number(name).add(n) for name, n in sorted(moved.items()) if n]
    for link, url in sorted(change.urls.items()):
        if link not in folded:
            attribute = UnicodeAttribute(attr_name=f"{URL_PREFIX}{link}")
            actions.append(attribute.set(attribute | url))
    for link, pairs in sorted(change.tags.items()):
        if link not in folded:
            attribute = UnicodeAttribute(attr_name=f"{TAGS_PREFIX}{link}")
            actions.append(attribute.set(attribute | json.dumps(list(pairs))))
    return actions


def _named_links(raw: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    named: dict[str, dict[str, int]] = {}
    for name, value in raw.items():
        if not name.startswith(LINK_PREFIX) or "N" not in value:
            continue
        link, _, metric = name[len(LINK_PREFIX) :].rpartition("_")
        if link and link != OTHER_LINK:
            named.setdefault(link, {})[metric] = int(value["N"])
    return named


def fold_links(item: MessageItem, message: MessageKey, raw: Mapping[str, Any]) -> None:
    """Bound the named links of the item as an update left it: the MAX_LINKS smallest ids stay,
    the others' numbers move to ``other`` (conditioned on them being as read)."""
    named = _named_links(raw)
    if len(named) <= MAX_LINKS:
        return
    excess = sorted(named)[MAX_LINKS:]
    _remember(message, excess)
    totals: dict[str, int] = {}
    actions: list[Action] = []
    condition: Condition | None = None
    for link in excess:
        for metric, value in sorted(named[link].items()):
            totals[metric] = totals.get(metric, 0) + value
            attribute = _number(link_attribute(link, metric))
            actions.append(attribute.remove())
            check = attribute == value
            condition = check if condition is None else condition & check
        actions.append(UnicodeAttribute(attr_name=f"{URL_PREFIX}{link}").remove())
        if f"{TAGS_PREFIX}{link}" in raw:
            actions.append(UnicodeAttribute(attr_name=f"{TAGS_PREFIX}{link}").remove())
    actions += [_number(link_attribute(OTHER_LINK, m)).add(n) for m, n in sorted(totals.items()) if n]
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as error:
        if not is_condition_failure(error):
            raise
        logger.info("links not folded: the message changed meanwhile (the next update folds)")


def _remember(message: MessageKey, links: list[str]) -> None:
    _folded[message] = _folded.get(message, frozenset()) | frozenset(links)
    _folded.move_to_end(message)
    while len(_folded) > FOLDED_REMEMBERED:
        _folded.popitem(last=False)


# --- reading -------------------------------------------------------------------------------------


def insights_of(raw: Mapping[str, Any]) -> MessageInsights:
    numbers = {name: int(value["N"]) for name, value in raw.items() if "N" in value}
    providers = tuple(
        ProviderStats(
            provider,
            **{
                metric.value: numbers.get(provider_attribute(provider, metric), 0)
                for metric in ProviderMetric
            },
        )
        for provider in Provider
    )
    named = _named_links(raw)
    links = [
        LinkStats(
            link,
            str(raw.get(f"{URL_PREFIX}{link}", {}).get("S") or "") or None,
            customers=named[link].get(LinkMetric.CUSTOMERS, 0),
            clicks=named[link].get(LinkMetric.CLICKS, 0),
            automatic=named[link].get(LinkMetric.AUTOMATIC, 0),
            tags=_tags(raw, link),
        )
        for link in named
    ]
    other = {metric: numbers.get(link_attribute(OTHER_LINK, metric), 0) for metric in LinkMetric}
    if any(other.values()):
        links.append(
            LinkStats(
                OTHER_LINK,
                None,
                customers=other[LinkMetric.CUSTOMERS],
                clicks=other[LinkMetric.CLICKS],
                automatic=other[LinkMetric.AUTOMATIC],
            )
        )
    links.sort(
        key=lambda stats: (stats.link_id == OTHER_LINK, -stats.customers, -stats.clicks, stats.link_id)
    )
    return MessageInsights(providers=providers, links=tuple(links))


def _tags(raw: Mapping[str, Any], link: str) -> dict[str, list[str]]:
    text = raw.get(f"{TAGS_PREFIX}{link}", {}).get("S")
    try:
        pairs = json.loads(text) if text else []
    except ValueError:
        return {}
    return tags_of(str(pair) for pair in pairs) if isinstance(pairs, list) else {}


class DynamoInsightStore:
    """A message's insights: one GetItem of its item (its attributes as stored)."""

    def insights(self, tenant_id: str, message_id: str) -> MessageInsights | None:
        client = cast(Any, shared_connection().client)
        with store_errors("read message insights"):
            answer = client.get_item(
                TableName=MessageItem.Meta.table_name,
                Key={
                    constants.TABLE_PARTITION_KEY: {"S": keys.message_pk(tenant_id, message_id)},
                    constants.TABLE_SORT_KEY: {"S": keys.MESSAGE_SK},
                },
            )
        item = answer.get("Item")
        if not item or item.get(constants.ITEM_TYPE_ATTRIBUTE, {}).get("S") != "message":
            return None
        return insights_of(item)
