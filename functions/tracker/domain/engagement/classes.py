"""Verdicts and the fetch classes behind them: one short stable code per class, stored per event.

A fetch class says *who* fetched (Apple's proxy, Gmail's proxy, a named scanner, a browser, ...).
What that means for an open or a click is a separate lookup, so the stored code stays the same
when a rule's meaning is refined: ``fetch_class(kind, code)`` turns a stored code back into its
verdict and reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Literal

FetchKind = Literal["open", "click"]


class Verdict(StrEnum):
    HUMAN = "human"
    PRIVACY_PROXY = "privacy_proxy"
    PREFETCH = "prefetch"
    SCANNER = "scanner"

    @property
    def is_human(self) -> bool:
        return self is Verdict.HUMAN


class Engagement(StrEnum):
    """A recipient's engagement: a customer opened or clicked, only machines did, or nobody."""

    HUMAN = "human"
    MACHINE_ONLY = "machine_only"
    NONE = "none"


@dataclass(frozen=True)
class FetchClass:
    """The intrinsic class of one open or click: its stored ``code``, verdict and reason."""

    code: str
    verdict: Verdict
    reason: str


@dataclass(frozen=True)
class _ClassInfo:
    open_verdict: Verdict
    click_verdict: Verdict
    open_reason: str
    click_reason: str


def _machine(who: str) -> _ClassInfo:
    """A machine that is not Apple's proxy: an open is a prefetch, a click a scanner's."""
    return _ClassInfo(Verdict.PREFETCH, Verdict.SCANNER, f"automatic fetch: {who}", f"link scanner: {who}")


def _human(open_reason: str, click_reason: str | None = None) -> _ClassInfo:
    return _ClassInfo(Verdict.HUMAN, Verdict.HUMAN, open_reason, click_reason or open_reason)


_BARE_UA_CLICK = "automatic fetch with the bare user agent 'Mozilla/5.0'"

# Every code a stored event can carry. Codes are part of the stored format: never rename one.
CLASSES: dict[str, _ClassInfo] = {
    "apple_mpp": _ClassInfo(
        Verdict.PRIVACY_PROXY,
        Verdict.SCANNER,
        "Apple Mail Privacy Protection",
        _BARE_UA_CLICK,
    ),
    "mpp_ua": _ClassInfo(
        Verdict.PRIVACY_PROXY,
        Verdict.SCANNER,
        "Apple Mail Privacy Protection (its user agent, from an address outside Apple's published ranges)",
        _BARE_UA_CLICK,
    ),
    "gmail_proxy": _human("Gmail image proxy (opened by the person)", "Gmail (clicked by the person)"),
    "yahoo_proxy": _human(
        "Yahoo Mail image proxy (opened by the person)", "Yahoo Mail (clicked by the person)"
    ),
    "scanner:defender": _machine("Microsoft Defender for Office 365 (Safe Links)"),
    "scanner:bing": _machine("Microsoft BingPreview link preview"),
    "scanner:mimecast": _machine("Mimecast URL Protect"),
    "scanner:proofpoint": _machine("Proofpoint URL Defense"),
    "scanner:barracuda": _machine("Barracuda email security"),
    "headless": _machine("headless browser"),
    "tool": _machine("command-line or programming-library HTTP client"),
    "bot": _machine("automated client (crawler detection)"),
    "no_ua": _machine("no user agent"),
    "mail_client": _human("mail client"),
    "browser": _human("web browser"),
    "unknown": _human("unrecognised client (counted as the person)"),
}

UNKNOWN_CODE = "unknown"
# Image proxies that fetch when the person opens the message, however soon after delivery that is;
# they are recognised by agent even from an address on a scanner list.
FETCH_ON_OPEN_PROXIES = frozenset({"gmail_proxy", "yahoo_proxy"})


@lru_cache(maxsize=256)
def fetch_class(kind: FetchKind, code: str) -> FetchClass:
    """The class a stored ``code`` stands for; a code this version does not know counts as unknown."""
    info = CLASSES.get(code)
    if info is None:
        return FetchClass(
            code, Verdict.HUMAN, f"unrecognised classification {code!r} (counted as the person)"
        )
    if kind == "open":
        return FetchClass(code, info.open_verdict, info.open_reason)
    return FetchClass(code, info.click_verdict, info.click_reason)
