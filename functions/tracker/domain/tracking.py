"""Open and click tracking of a message, decided once at its creation.

SES adds the open pixel to the HTML part and rewrites the HTML part's links only when the
configuration set the message is sent with publishes ``OPEN`` and ``CLICK`` events. Kinds listed as
untracked (invoices by default, to keep them plain for mailbox filters) are sent with the second
configuration set, which publishes neither, so SES adds no pixel and rewrites no link. A message
without HTML has no place for a pixel, so its opens are never seen.

A message records its tracking when it is created: a later change of the untracked kinds does not
relabel messages already sent, and the sender sends with the set the message was created for.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from enum import StrEnum

from tracker.domain.status import Rates


class Tracking(StrEnum):
    ON = "on"  # opens and clicks
    OFF = "off"  # neither: sent without the pixel and without rewritten links
    CLICKS_ONLY = "clicks_only"  # no HTML part, so no pixel: opens are not tracked


# Invoices are untracked unless the deployment says otherwise (`untrackedKinds`).
DEFAULT_UNTRACKED_KINDS: frozenset[str] = frozenset({"invoice"})


def tracking_for(kind: str, html: str | None, untracked_kinds: Collection[str]) -> Tracking:
    if kind in untracked_kinds:
        return Tracking.OFF
    if not html:
        return Tracking.CLICKS_ONLY
    return Tracking.ON


def stored_tracking(value: str | None) -> Tracking:
    """A header's tracking; a header without one was written before tracking per kind: on."""
    try:
        return Tracking(value) if value else Tracking.ON
    except ValueError:
        return Tracking.ON


def opens_tracked(tracking: Tracking) -> bool:
    return tracking is Tracking.ON


def clicks_tracked(tracking: Tracking) -> bool:
    return tracking is not Tracking.OFF


def tracked_rates(rates: Rates, tracking: Tracking) -> Rates:
    """The rates a message can show: an untracked rate is unknown (None), never 0%."""
    if not opens_tracked(tracking):
        rates = replace(rates, open_rate=None, open_rate_all=None)
    if not clicks_tracked(tracking):
        rates = replace(rates, click_rate=None, click_rate_all=None)
    return rates


def parse_kinds(raw: str | None) -> frozenset[str]:
    """``UNTRACKED_KINDS``: kinds separated by commas; unset means the default, empty or ``none``
    means none."""
    if raw is None:
        return DEFAULT_UNTRACKED_KINDS
    if raw.strip().lower() == "none":
        return frozenset()
    return frozenset(part.strip() for part in raw.split(",") if part.strip())
