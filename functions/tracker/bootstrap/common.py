"""What every function's wiring starts with: the models bound to the table."""

from __future__ import annotations

from tracker.dal.models import bind_table as bind_models
from tracker.settings import Settings


def bind_table(config: Settings) -> None:
    bind_models(config.table_name, region=config.region, host=config.dynamodb_endpoint)
