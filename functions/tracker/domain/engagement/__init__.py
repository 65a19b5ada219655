"""Engagement you can trust: which opens and clicks were the customer and which were machines.

Two steps. At ingest, ``classify_fetch`` gives each Open and Click its intrinsic class from what
SES reports (user agent, address), stored per event as a short ``code``. With the status,
``final_verdicts`` derives each fetch's verdict from the recipient's whole set of fetches and its
delivery time (timing rules), independently of the order events arrived in. docs/engagement.md
defines every rule, its source and the setting that tunes it.
"""

from tracker.domain.engagement.classes import Engagement, FetchClass, FetchKind, Verdict, fetch_class
from tracker.domain.engagement.networks import AddressSet, AddressTable, AppleRanges, default_apple_ranges
from tracker.domain.engagement.rules import DEFAULT_RULES, EngagementRules
from tracker.domain.engagement.timing import (
    EngagementCounts,
    Fetch,
    FetchVerdict,
    canonical,
    count_verdicts,
    final_verdicts,
)
from tracker.domain.engagement.user_agents import classify_fetch

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
