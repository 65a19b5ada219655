"""The per-tenant deliverability metric: one EMF record (Powertools, CloudWatch's embedded metric
format) each time a tenant's health is computed and is not ok, with the tenant as a dimension so
an operator can alarm on any tenant crossing SES's thresholds (docs/operations.md)."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from tracker import constants
from tracker.domain.health import Health, HealthState

# The metric's value: 1 at warning, 2 at risk (a Maximum over a period is the worst state seen).
STATE_VALUES = {HealthState.WARNING: 1, HealthState.AT_RISK: 2}


def publish_health_metric(tenant_id: str, health: Health) -> None:
    value = STATE_VALUES.get(health.state)
    if value is None:
        return
    with single_metric(
        name=constants.METRIC_TENANT_DELIVERABILITY,
        unit=MetricUnit.Count,
        value=value,
        namespace=constants.METRICS_NAMESPACE,
        default_dimensions={constants.TENANT_METRIC_DIMENSION: tenant_id},
    ):
        pass
