"""Scheduled entry point (once a day): refresh Apple's ranges, then publish how it went.

A refresh that fails (download, an implausible list, S3) is reported, not raised: its metrics feed
the alarms, the stored list stays as it was, and the next scheduled run tries again. Raising would
only add Lambda's asynchronous retries of a download that just failed.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from tracker import constants
from tracker.bootstrap import apple_ranges as bootstrap
from tracker.handlers import cold_start_done
from tracker.handlers.tracing import traced
from tracker.logic.apple_ranges_refresh import AppleRangesRefresh, RefreshResult
from tracker.settings import require_environment

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

require_environment("apple_ranges")

logger = Logger()
# botocore (S3) and httplib (the download): neither pynamodb nor anything else this function lacks.
metrics = Metrics()


@lru_cache(maxsize=1)
def default_refresh() -> AppleRangesRefresh:
    return bootstrap.default_refresh()


def refresh(run: AppleRangesRefresh) -> dict[str, Any]:
    result = run.run()
    publish_metrics(result)
    summary = {
        "refreshed": result.refreshed,
        "failure": result.failure.value if result.failure else None,
        "detail": result.detail,
        "prefixes": result.prefixes,
        "intervals": result.intervals,
        "stored_bytes": result.stored_bytes,
    }
    if result.refreshed:
        logger.info("Apple's ranges refreshed", extra=summary)
    else:
        logger.error("Apple's ranges not refreshed; the stored list stays", extra=summary)
    return summary


def publish_metrics(result: RefreshResult) -> None:
    # Both counts every run (0 or 1): a day without any datapoint means the refresh did not run.
    metrics.add_metric(
        name=constants.METRIC_APPLE_RANGES_REFRESHED, unit=MetricUnit.Count, value=int(result.refreshed)
    )
    metrics.add_metric(
        name=constants.METRIC_APPLE_RANGES_REFRESH_FAILED,
        unit=MetricUnit.Count,
        value=int(not result.refreshed),
    )
    if result.refreshed:
        metrics.add_metric(
            name=constants.METRIC_APPLE_RANGES_PREFIXES, unit=MetricUnit.Count, value=result.prefixes
        )


@logger.inject_lambda_context
@metrics.log_metrics
@traced(patch_modules=("botocore", "httplib"))
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:  # noqa: ARG001 - a schedule's tick
    return refresh(default_refresh())


# The cold start ends here (tracker.handlers): what it built lives as long as the process.
cold_start_done()
