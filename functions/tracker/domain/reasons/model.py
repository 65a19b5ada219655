"""A plain-English reason, the catalogue entry it comes from, and the text helpers every mapping shares.

Text from the outside (a diagnostic, an error, a rule) is only ever read through ``scan_prefix``: a
bounded prefix, with control, format and separator characters turned into spaces, so hostile or huge
input costs the same as a short one and never reaches a summary with line breaks or bidi overrides.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TypeVar

V = TypeVar("V")

# Only this many characters of an outside text are ever looked at (SES diagnostics are short; the
# cause is always stated first, the rest is server names, links and session ids).
SCAN_LIMIT = 1000
# The longest piece of outside text quoted into a summary.
QUOTE_LIMIT = 200

# "smtp; 550 ...", "X-Postfix; ..." (RFC 3464 diagnostic-type): not part of what the server said.
_DIAGNOSTIC_TYPE = re.compile(r"^[a-z][a-z0-9-]{0,30};\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Reason:
    """Why a recipient did not get a message, for a business owner, with the next step.

    ``code`` is stable (snake_case) and what code should branch on; ``summary`` and ``advice`` are
    one sentence each and may be reworded.
    """

    code: str
    summary: str
    advice: str


@dataclass(frozen=True)
class Entry:
    """One catalogue row. ``quote_as`` marks a generic row: its summary ends with what the other
    side actually said (e.g. 'The server answered: "..."'), because the row alone does not explain it."""

    code: str
    summary: str
    advice: str
    quote_as: str | None = None

    def reason(self, quoted: str | None = None, details: str | None = None) -> Reason:
        summary = self.summary
        if details:
            summary = f"{summary.removesuffix('.')} ({details})."
        if self.quote_as and quoted:
            summary = f'{summary} {self.quote_as}: "{quoted}".'
        return Reason(self.code, summary, self.advice)


class Catalogue:
    """Every entry, by code; building it refuses a code or a summary used twice."""

    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}

    def add(self, code: str, summary: str, advice: str, quote_as: str | None = None) -> Entry:
        if code in self._entries:
            raise ValueError(f"reason code {code!r} is declared twice")
        if any(entry.summary == summary for entry in self._entries.values()):
            raise ValueError(f"reason {code!r} repeats the summary of another reason")
        entry = Entry(code, summary, advice, quote_as)
        self._entries[code] = entry
        return entry

    def entries(self) -> Mapping[str, Entry]:
        return MappingProxyType(self._entries)


def scan_prefix(text: str | None, limit: int = SCAN_LIMIT) -> str:
    """The first ``limit`` characters of ``text`` on one line: every control, format or separator
    character becomes a space and runs of spaces collapse."""
    if not text:
        return ""
    cleaned = "".join(" " if unicodedata.category(char)[0] in "CZ" else char for char in text[:limit])
    return " ".join(cleaned.split())


def without_diagnostic_type(text: str) -> str:
    return _DIAGNOSTIC_TYPE.sub("", text, count=1)


def quote(text: str, limit: int = QUOTE_LIMIT) -> str | None:
    """``text`` (already scanned) cut to ``limit`` characters for a summary, or None when empty."""
    if not text:
        return None
    if len(text) <= limit:
        return text
    return text[: limit - 3].rstrip() + "..."


def key(value: str | None) -> str:
    """How SES names are compared: SES's docs say "Permanent", its API v2 "PERMANENT"."""
    return scan_prefix(value, 100).casefold()


def by_key(table: Mapping[str, V]) -> Mapping[str, V]:
    """A declared table (SES's own spelling, for reading) keyed the way ``key`` compares."""
    return MappingProxyType({key(name): value for name, value in table.items()})


def compile_patterns(rows: Iterable[tuple[str, V]]) -> tuple[tuple[re.Pattern[str], V], ...]:
    return tuple((re.compile(pattern, re.IGNORECASE), value) for pattern, value in rows)


def first_match(patterns: Iterable[tuple[re.Pattern[str], V]], text: str) -> V | None:
    if not text:
        return None
    return next((value for pattern, value in patterns if pattern.search(text)), None)
