"""What one stream batch changes in a message's attention facts and insights, from its recipients'
changes (tracker.logic.projector): the parts of the count update beside the counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from tracker.domain.attention import Concern
from tracker.domain.insights import LinkMetric, ProviderMetric

if TYPE_CHECKING:
    from tracker.logic.projector import RecipientStreamChange


@dataclass(frozen=True)
class AttentionChange:
    """What a batch changes in a message's attention facts (tracker.domain.attention): the counts
    of concerned recipients, the listed entries (None: remove it), the earliest failure it adds
    and the earliest send it saw."""

    concerned: Mapping[str, int] = field(default_factory=dict)
    entries: Mapping[str, Concern | None] = field(default_factory=dict)
    failed_since: datetime | None = None
    first_sent_at: datetime | None = None

    @property
    def empty(self) -> bool:
        return not self.concerned and not self.entries and self.failed_since is None


def attention_change(changes: Sequence[RecipientStreamChange]) -> AttentionChange:
    """The attention change of one message's changes in stream order: per recipient its last
    entry counts (only when the batch changed it), counts are summed, times are minima."""
    concerned: Counter[str] = Counter()
    entries: dict[str, Concern | None] = {}
    first_entry: dict[str, Concern | None] = {}
    failed_since: datetime | None = None
    sent: list[datetime] = []
    for change in changes:
        concerned.update(change.concern_delta)
        rid = change.key.recipient_id
        first_entry.setdefault(rid, change.entry_before)
        entries[rid] = change.entry_after
        after = change.after
        if after is not None and change.concern_delta.get("failed", 0) > 0 and after.since is not None:
            failed_since = after.since if failed_since is None else min(failed_since, after.since)
        if after is not None and after.sent_at is not None:
            sent.append(after.sent_at)
    return AttentionChange(
        concerned={k: n for k, n in concerned.items() if n},
        entries={rid: entry for rid, entry in entries.items() if entry != first_entry[rid]},
        failed_since=failed_since,
        first_sent_at=min(sent) if sent else None,
    )


@dataclass(frozen=True)
class InsightChange:
    """What a batch changes in a message's insights: per (provider, metric) and per (link id,
    metric) how its numbers move, and the addresses and SES tags of the links it saw."""

    providers: Mapping[tuple[str, ProviderMetric], int] = field(default_factory=dict)
    links: Mapping[tuple[str, LinkMetric], int] = field(default_factory=dict)
    urls: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.providers and not self.links


def insight_change(changes: Sequence[RecipientStreamChange]) -> InsightChange:
    providers: Counter[tuple[str, ProviderMetric]] = Counter()
    links: Counter[tuple[str, LinkMetric]] = Counter()
    urls: dict[str, str] = {}
    tags: dict[str, tuple[str, ...]] = {}
    for change in changes:
        providers.update(change.provider_delta)
        links.update(change.link_delta)
        if change.after is not None:
            urls.update(change.after.link_urls)
            tags.update(change.after.link_tags)
    return InsightChange(
        providers={k: n for k, n in providers.items() if n},
        links={k: n for k, n in links.items() if n},
        urls={link: url for link, url in urls.items() if any(key[0] == link for key in links)},
        tags={link: pairs for link, pairs in tags.items() if any(key[0] == link for key in links)},
    )
