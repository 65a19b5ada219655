"""A recipient's timeline, kept on the recipient itself: one short entry per SES event, bounded.

The recipient item is the record of its events (docs/data-model.md): every event a view shows is an
entry here, so an SES event costs one write of its recipient and nothing else. An entry holds what
a view needs (kind, time, a short event id and a few characters of detail: who fetched an open,
the class and link id of a click, a bounce's type); the full details of the latest bounce,
complaint and delay stay in the facts, and clicked links' addresses in ``links``.

Bounded, and the same whatever the order events arrive in, because what is kept is a function of
the set of entries: the earliest HEAD and the latest TAIL entries, the latest OUTCOMES_KEPT of each
kind of bounce, complaint, reject and failure (a person must see those; a recipient has one or two,
only hostile input brings thousands), and the earliest FETCHES_KEPT opens and clicks in the
engagement rules' canonical order (the timing rules act on them: ``fetches``). What lies between
is counted, not kept (``RecipientFacts.omitted_events``). Each rule keeps the extremes of an order,
so keeping it over (kept entries + a new one) gives what it keeps over (all entries + the new one).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from tracker.domain.engagement import Fetch, canonical
from tracker.domain.events import EventKind, RecipientEvent
from tracker.domain.suppression import EVIDENCE_KEPT

HEAD = 24
TAIL = 8
# Opens and clicks kept with what the engagement rules need (docs/engagement.md): the earliest
# ones in canonical order, where the timing rules act; later ones count by their intrinsic verdict.
FETCHES_KEPT = 20
LINKS = 10
# A clicked link's SES tags (``linkTags``) kept as ``name:value`` pairs: SES allows letters,
# digits, ``_`` and ``-`` in them, so ``:`` separates; other characters, longer or more pairs
# are hostile input.
LINK_TAGS = 10
MAX_TAG = 64
_TAG = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_TAG}}}")
SHORT_ID = 12  # hex characters of an event id: 48 bits, unique enough within one recipient
MAX_INFO = 80
MAX_LINK = 512
# Outcomes a person has to see, however long the history around them: the latest OUTCOMES_KEPT of
# each kind. The projector reads bounces and complaints here as suppression evidence, and an
# address keeps only its latest EVIDENCE_KEPT of those: one this recipient's latest OUTCOMES_KEPT
# leave out has as many newer ones of the same address, so the address would not keep it either.
ALWAYS_KEPT = frozenset(
    {EventKind.BOUNCE, EventKind.COMPLAINT, EventKind.REJECT, EventKind.RENDERING_FAILURE}
)
OUTCOMES_KEPT = EVIDENCE_KEPT
MAX_ENTRIES = HEAD + TAIL + FETCHES_KEPT + len(ALWAYS_KEPT) * OUTCOMES_KEPT
FETCH_KINDS = {EventKind.OPEN: "open", EventKind.CLICK: "click"}


@dataclass(frozen=True, order=True)
class TimelineEntry:
    at: datetime  # to the millisecond, as SES reports it (and as it is stored)
    event_id: str  # the first SHORT_ID characters of the event's id
    kind: EventKind
    # open: its fetch class; click: "<fetch class>|<link id>"; bounce: "<type>/<subtype>";
    # complaint: the feedback type; delay: the delay type; reject: the reason.
    info: str = ""

    @property
    def fetch(self) -> Fetch | None:
        """The open or click this entry records, as the engagement rules see it."""
        fetch_kind = FETCH_KINDS.get(self.kind)
        if fetch_kind == "open":
            return Fetch(at=self.at, kind="open", code=self.info, event_id=self.event_id)
        if fetch_kind == "click":
            code, _, link = self.info.partition("|")
            return Fetch(at=self.at, kind="click", code=code, link=link or None, event_id=self.event_id)
        return None


def short_id(event_id: str) -> str:
    return event_id[:SHORT_ID]


def to_millisecond(at: datetime) -> datetime:
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def link_id(link: object) -> str | None:
    """A short stable id of a clicked link (8 hex digits of a hash of its address)."""
    if not link:
        return None
    return hashlib.sha256(str(link).encode("utf-8")).hexdigest()[:8]


def _info(event: RecipientEvent, fetch_code: str) -> str:
    details = event.details
    match event.kind:
        case EventKind.OPEN:
            text = fetch_code
        case EventKind.CLICK:
            text = f"{fetch_code}|{link_id(details.get('link')) or ''}"
        case EventKind.BOUNCE:
            text = f"{details.get('bounce_type') or ''}/{details.get('bounce_subtype') or ''}"
        case EventKind.COMPLAINT:
            text = str(details.get("feedback_type") or "")
        case EventKind.DELIVERY_DELAY:
            text = str(details.get("delay_type") or "")
        case EventKind.REJECT:
            text = str(details.get("reason") or "")
        case _:
            text = ""
    return text[:MAX_INFO]


def entry_of(event: RecipientEvent, fetch_code: str = "") -> TimelineEntry:
    return TimelineEntry(
        at=to_millisecond(event.at),
        event_id=short_id(event.event_id),
        kind=event.kind,
        info=_info(event, fetch_code),
    )


def _earliest_fetches(entries: Iterable[TimelineEntry]) -> list[TimelineEntry]:
    by_fetch = {entry.fetch: entry for entry in entries if entry.fetch is not None}
    return [by_fetch[fetch] for fetch in canonical(by_fetch)[:FETCHES_KEPT]]


def kept(entries: Iterable[TimelineEntry]) -> tuple[TimelineEntry, ...]:
    """The entries a recipient keeps of these, in time order (see the module's docstring)."""
    ordered = sorted(set(entries))
    if len(ordered) <= HEAD + TAIL:
        return tuple(ordered)
    keep = {*ordered[:HEAD], *ordered[-TAIL:], *_earliest_fetches(ordered)}
    for kind in ALWAYS_KEPT:
        keep.update([entry for entry in ordered if entry.kind is kind][-OUTCOMES_KEPT:])
    return tuple(sorted(keep))


def with_entry(timeline: tuple[TimelineEntry, ...], entry: TimelineEntry) -> tuple[TimelineEntry, ...]:
    return kept((*timeline, entry))


def fetches(timeline: Iterable[TimelineEntry]) -> tuple[Fetch, ...]:
    """The kept opens and clicks: the earliest FETCHES_KEPT in canonical order."""
    return tuple(entry.fetch for entry in _earliest_fetches(timeline) if entry.fetch is not None)


def with_link(links: Mapping[str, str], event: RecipientEvent) -> Mapping[str, str]:
    """The clicked links' addresses by id: the LINKS smallest ids (a function of the set)."""
    link = event.details.get("link") if event.kind is EventKind.CLICK else None
    identity = link_id(link)
    if identity is None or identity in links:
        return links
    merged = {**links, identity: str(link)[:MAX_LINK]}
    return {key: merged[key] for key in sorted(merged)[:LINKS]}


def with_link_tags(
    tags: Mapping[str, tuple[str, ...]], event: RecipientEvent, links: Mapping[str, str]
) -> Mapping[str, tuple[str, ...]]:
    """The clicked links' SES tags by link id, for the links ``links`` keeps: the union over the
    link's clicks (in practice every click of a link carries the same tags, those of its anchor in
    the message), its LINK_TAGS smallest pairs. A function of the set, like ``with_link``."""
    identity = link_id(event.details.get("link")) if event.kind is EventKind.CLICK else None
    pairs = _tag_pairs(event.details.get("link_tags"))
    kept_tags = {link: pairs for link, pairs in tags.items() if link in links}
    if identity is None or identity not in links or not pairs:
        return kept_tags if len(kept_tags) != len(tags) else tags
    merged = sorted({*kept_tags.get(identity, ()), *pairs})[:LINK_TAGS]
    return {**kept_tags, identity: tuple(merged)}


def _tag_pairs(raw: object) -> tuple[str, ...]:
    """The pairs SES could have written: a name or value outside SES's characters (an address,
    a URL) is hostile input and left out, so no address reaches the message item through a tag."""
    if not isinstance(raw, Mapping):
        return ()
    pairs = {
        f"{name}:{value}"
        for name, values in raw.items()
        if isinstance(name, str) and _TAG.fullmatch(name) and isinstance(values, list | tuple)
        for value in values
        if isinstance(value, str) and _TAG.fullmatch(value)
    }
    return tuple(sorted(pairs)[:LINK_TAGS])


def tags_of(pairs: Iterable[str]) -> dict[str, list[str]]:
    """``name:value`` pairs as SES writes ``linkTags``: each name with its values."""
    out: dict[str, list[str]] = {}
    for pair in sorted(pairs):
        name, _, value = pair.partition(":")
        out.setdefault(name, []).append(value)
    return out
