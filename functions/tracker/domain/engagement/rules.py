"""The thresholds of the timing rules, with their defaults and the ENGAGEMENT_* settings that tune them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

ENV_PREFIX = "ENGAGEMENT_"


@dataclass(frozen=True)
class EngagementRules:
    """Thresholds of the rules that use time (docs/engagement.md, "Timing rules").

    Each field is set by the environment variable ``ENGAGEMENT_`` + its name in capitals, e.g.
    ``ENGAGEMENT_CLICK_AFTER_DELIVERY_SECONDS=10``.
    """

    # A click this soon after delivery (or before it) is a link scanner's: nobody reads a message
    # and clicks in it within seconds of their server accepting it.
    click_after_delivery_seconds: float = 5.0
    # An open this soon after delivery is a prefetch (a gateway or client fetching at arrival),
    # except through the image proxies that fetch only when the person opens (Gmail, Yahoo).
    open_after_delivery_seconds: float = 2.0
    # Clicks on at least this many distinct links within burst_window_seconds are a scanner's:
    # a person goes back to the message between two links.
    burst_min_links: int = 2
    burst_window_seconds: float = 1.0
    # The timing rules look at the earliest this many distinct fetches of a recipient; later ones
    # keep their intrinsic verdict. Bounds what a recipient item has to keep.
    max_timed_fetches: int = 20

    def __post_init__(self) -> None:
        for name in ("click_after_delivery_seconds", "open_after_delivery_seconds", "burst_window_seconds"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{ENV_PREFIX}{name.upper()} must be a finite number of seconds, 0 or more")
        if self.burst_min_links < 2:
            raise ValueError(f"{ENV_PREFIX}BURST_MIN_LINKS must be 2 or more")
        if self.max_timed_fetches < 1:
            raise ValueError(f"{ENV_PREFIX}MAX_TIMED_FETCHES must be 1 or more")

    @classmethod
    def from_mapping(cls, env: Mapping[str, str]) -> EngagementRules:
        """The defaults, overridden by the ENGAGEMENT_* entries of ``env`` (e.g. ``os.environ``).

        A value that is not a number, or out of range, raises ValueError naming its variable.
        """
        changes: dict[str, Any] = {}
        for field in fields(cls):
            variable = f"{ENV_PREFIX}{field.name.upper()}"
            raw = env.get(variable)
            if raw is None or not raw.strip():
                continue
            try:
                changes[field.name] = int(raw) if field.type == "int" else float(raw)
            except ValueError as error:
                raise ValueError(f"{variable}={raw!r} is not a number") from error
        return replace(cls(), **changes)

    @classmethod
    def variables(cls) -> tuple[str, ...]:
        """The names of the settings, for documentation and configuration checks."""
        return tuple(f"{ENV_PREFIX}{field.name.upper()}" for field in fields(cls))


DEFAULT_RULES = EngagementRules()
