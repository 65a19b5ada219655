"""A tenant's webhook: where its status events go, and which targets are refused (SSRF).

A target is an ``https://`` URL whose host is public: a name that resolves only to public
addresses, or a public address. Refused: other schemes, credentials in the URL, names that are
local by definition (``localhost``, ``*.localhost``, ``*.local``, ``*.internal``, ``*.home.arpa``),
and any address that is not globally routable (private, loopback, link-local, shared, reserved,
multicast, unspecified; IPv6 too, with IPv4-mapped and NAT64/6to4 forms judged by the IPv4 address
inside). Every address a name resolves to must be public, so a name cannot smuggle in one private
address beside a public one. Local mode alone allows ``http://127.0.0.1:<port>`` and
``http://localhost:<port>`` (an explicit setting the stack never sets).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from tracker.domain.errors import WebhookTargetRefusedError

MAX_URL_LENGTH = 2048
LOCAL_NAMES = frozenset({"localhost", "127.0.0.1"})
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".localdomain")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class Webhook:
    tenant_id: str
    url: str
    statuses: tuple[str, ...]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class DeliveryFailure:
    """An event EventBridge gave up delivering (after its retries, or at once for a 4xx)."""

    tenant_id: str
    event_id: str
    failed_at: datetime
    status: str | None
    message_id: str | None
    recipient_id: str | None
    error_code: str | None
    error_message: str | None
    attempts: int | None


@dataclass(frozen=True)
class Target:
    url: str
    host: str
    port: int
    local: bool  # an allowed local-mode target: not resolved


def parse_target(url: str, allow_local: bool = False) -> Target:
    """The URL's host and port, or WebhookTargetRefusedError for what no resolution can make
    acceptable."""
    if len(url) > MAX_URL_LENGTH:
        raise WebhookTargetRefusedError(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        raise WebhookTargetRefusedError("the URL contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise WebhookTargetRefusedError(f"not a URL: {error}") from error
    host = (parts.hostname or "").rstrip(".").lower()
    if parts.username is not None or parts.password is not None:
        raise WebhookTargetRefusedError(
            "credentials in the URL are not allowed (the secret header authenticates)"
        )
    if not host:
        raise WebhookTargetRefusedError("the URL has no host")
    if parts.fragment:
        raise WebhookTargetRefusedError("the URL has a fragment")
    local = allow_local and host in LOCAL_NAMES and parts.scheme in {"http", "https"} and port is not None
    if parts.scheme != "https" and not local:
        raise WebhookTargetRefusedError("only https:// URLs are allowed")
    if not local:
        if host in LOCAL_NAMES or host.endswith(_LOCAL_SUFFIXES) or host == "localhost":
            raise WebhookTargetRefusedError(f"{host} is a local name, not a public host")
        literal = _address(host)
        if literal is not None:
            check_addresses(host, [str(literal)])
    return Target(url=url, host=host, port=port or (443 if parts.scheme == "https" else 80), local=local)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if inner is None and address in _NAT64:
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if inner is not None:
            return is_public(inner)
    return address.is_global and not address.is_multicast and not address.is_reserved


def check_addresses(host: str, addresses: Sequence[str]) -> None:
    """Every address ``host`` resolved to must be public."""
    if not addresses:
        raise WebhookTargetRefusedError(f"{host} does not resolve to any address")
    for text in addresses:
        address = _address(text)
        if address is None or not is_public(address):
            raise WebhookTargetRefusedError(
                f"{host} resolves to {text}, which is not a public address (private, loopback, "
                "link-local or reserved targets are refused)"
            )
