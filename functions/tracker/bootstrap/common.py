"""What every function's wiring starts with: the models bound to the table."""

from __future__ import annotations

from tracker.dal.models import bind_table as bind_models
from tracker.dal.recipients import use_engagement_rules
from tracker.settings import Settings


def bind_table(config: Settings) -> None:
    """Models bound to the table, facts loaded with the deployment's engagement thresholds."""
    bind_models(config.table_name, region=config.region, host=config.dynamodb_endpoint)
    use_engagement_rules(config.engagement_rules)
