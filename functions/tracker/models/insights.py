"""A message's Links and Providers tabs as the API shows them (docs/insights.md)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from tracker.domain.insights import MAX_LINKS, OTHER_LINK, LinkStats, MessageInsights, Provider, ProviderStats


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class LinkOut(_Model):
    link_id: str = Field(
        description=f"A short id of the address; `{OTHER_LINK}`: the links beyond the first {MAX_LINKS}."
    )
    url: str | None = Field(
        description="The clicked address (SES `link`) by scheme, host and path: a query string or fragment is left out."
    )
    tags: dict[str, list[str]] = Field(
        default_factory=dict,
        description="The link's SES tags (`linkTags`: the `ses:tags` of its anchor), each name with its values.",
    )
    customers: int = Field(description="Recipients whose click of it was judged a person's.")
    clicks: int = Field(description="Their clicks (a recipient's first clicks, as its timeline keeps them).")
    automatic_clicks: int = Field(description="Clicks by link scanners and prefetchers, not counted above.")

    @classmethod
    def of(cls, stats: LinkStats) -> LinkOut:
        return cls(
            link_id=stats.link_id,
            url=stats.url,
            tags={name: list(values) for name, values in stats.tags.items()},
            customers=stats.customers,
            clicks=stats.clicks,
            automatic_clicks=stats.automatic,
        )


class LinksOut(_Model):
    message_id: str
    items: list[LinkOut] = Field(description="Most customers first; `other` last.")

    @classmethod
    def of(cls, message_id: str, insights: MessageInsights) -> LinksOut:
        return cls(message_id=message_id, items=[LinkOut.of(stats) for stats in insights.links])


class ProviderOut(_Model):
    provider: Provider
    recipients: int
    delivered: int
    opened: int = Field(description="Opened or clicked by the customer (not only automatically).")
    bounced: int
    dropped: int
    delivery_rate: float | None = Field(description="delivered / recipients")
    open_rate: float | None = Field(description="opened / delivered")
    bounce_rate: float | None = Field(description="bounced / (recipients - dropped)")

    @classmethod
    def of(cls, stats: ProviderStats) -> ProviderOut:
        return cls(
            provider=stats.provider,
            recipients=stats.recipients,
            delivered=stats.delivered,
            opened=stats.opened,
            bounced=stats.bounced,
            dropped=stats.dropped,
            delivery_rate=stats.delivery_rate,
            open_rate=stats.open_rate,
            bounce_rate=stats.bounce_rate,
        )


class ProvidersOut(_Model):
    message_id: str
    items: list[ProviderOut] = Field(
        description="Gmail, Microsoft, Yahoo, Apple, other (by the address's domain)."
    )

    @classmethod
    def of(cls, message_id: str, insights: MessageInsights) -> ProvidersOut:
        return cls(message_id=message_id, items=[ProviderOut.of(stats) for stats in insights.providers])
