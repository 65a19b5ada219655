"""Builders of Apple's egress list (RFC 8805 geofeed lines, as mask-api.icloud.com publishes it)."""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Iterable

# Operators' blocks the real list draws from (Akamai, Cloudflare, Fastly), as in the shipped snapshot.
V4_BLOCKS = ("172.224.0.0/12", "104.28.0.0/16", "146.75.0.0/16")
V6_BLOCKS = ("2a02:26f7::/32", "2a09:bac0::/29", "2a04:4e41::/32")
CITIES = (("US", "US-CA", "Los Angeles"), ("GB", "GB-EN", "London"), ("JP", "JP-13", "Tokyo"))


def egress_csv(prefixes: Iterable[str]) -> str:
    """One ``prefix,country,region,city,`` line per prefix."""
    lines = []
    for number, prefix in enumerate(prefixes):
        country, region, city = CITIES[number % len(CITIES)]
        lines.append(f"{prefix},{country},{region},{city},")
    return "\n".join(lines) + "\n"


def synthetic_prefixes(count: int, seed: int = 7) -> list[str]:
    """``count`` random prefixes shaped like Apple's: ~45% IPv4 (/26, /27, /28, /32), the rest IPv6
    (mostly /64, some /48), inside the operators' blocks; some overlap or touch, as in the real list."""
    rng = random.Random(seed)
    v4 = [ipaddress.ip_network(n) for n in V4_BLOCKS]
    v6 = [ipaddress.ip_network(n) for n in V6_BLOCKS]
    prefixes = []
    for _ in range(count):
        if rng.random() < 0.45:
            block, length = rng.choice(v4), rng.choice((26, 27, 28, 32))
        else:
            block, length = rng.choice(v6), rng.choice((64, 64, 64, 48))
        offset = rng.randrange(1 << (length - block.prefixlen)) << (block.max_prefixlen - length)
        prefixes.append(str(ipaddress.ip_network((int(block.network_address) + offset, length))))
    return prefixes


def synthetic_egress_csv(count: int, seed: int = 7) -> str:
    return egress_csv(synthetic_prefixes(count, seed))
