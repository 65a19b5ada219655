"""Engagement you can trust: which opens and clicks were the customer and which were machines.

Two steps. At ingest, ``classify_fetch`` gives each Open and Click its intrinsic class from what
SES reports (user agent, address), stored per event as a short ``code``. With the status,
``final_verdicts`` derives each fetch's verdict from the recipient's whole set of fetches and its
delivery time (timing rules), independently of the order events arrived in. docs/engagement.md
defines every rule, its source and the setting that tunes it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from tracker.domain.engagement.classes import Engagement, FetchClass, FetchKind, Verdict, fetch_class
from tracker.domain.engagement.rules import DEFAULT_RULES, EngagementRules
from tracker.domain.engagement.timing import (
    EngagementCounts,
    Fetch,
    FetchVerdict,
    canonical,
    count_verdicts,
    final_verdicts,
)

if TYPE_CHECKING:
    from tracker.domain.engagement.networks import AddressSet, AddressTable, AppleRanges, default_apple_ranges
    from tracker.domain.engagement.user_agents import classify_fetch

# The classifier's own modules (address tables, user agents), loaded on first use: only ingest and
# the Apple ranges refresher classify; every other function reads stored verdicts.
_LAZY = {
    "AddressSet": "networks",
    "AddressTable": "networks",
    "AppleRanges": "networks",
    "default_apple_ranges": "networks",
    "classify_fetch": "user_agents",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_RULES",
    "AddressSet",
    "AddressTable",
    "AppleRanges",
    "Engagement",
    "EngagementCounts",
    "EngagementRules",
    "Fetch",
    "FetchClass",
    "FetchKind",
    "FetchVerdict",
    "Verdict",
    "canonical",
    "classify_fetch",
    "count_verdicts",
    "default_apple_ranges",
    "fetch_class",
    "final_verdicts",
]
