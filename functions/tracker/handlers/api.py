"""API Gateway → Lambda entry point of the whole API in one function (local mode's gateway, the
tests, the bench): Powertools stack, then the resolver. Deployed, the API is two functions,
tracker.handlers.read_api and tracker.handlers.send_api."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from tracker.bootstrap import api as bootstrap
from tracker.handlers import cold_start_done
from tracker.handlers.tracing import traced
from tracker.settings import require_environment

require_environment("api")

logger = Logger()
metrics = Metrics()


@lru_cache(maxsize=1)
def default_app() -> APIGatewayRestResolver:
    return bootstrap.api_app()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@traced()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return default_app().resolve(event, context)


# The cold start ends here (tracker.handlers): what it built lives as long as the process.
cold_start_done()
