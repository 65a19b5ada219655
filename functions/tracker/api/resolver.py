"""Powertools' REST resolver with what the API needs beyond it.

* Bodies are read by ``tracker.api.body`` (media type, size, encoding) inside Powertools' own
  request validation, which runs before any middleware of ours.
* Route patterns match whole paths. Powertools anchors them with ``$``, which also matches before a
  final line break: ``/messages/x%0A`` (API Gateway decodes it) would be message ``x``, and
  ``/messages/%0A`` the messages list. ``\\Z`` ends at the end of the path only.
* ``allowed_methods`` says which methods a path has routes for, for 405 answers with ``Allow``.

Each replaces or reads what Powertools builds for itself (its request-validation middleware,
``_compile_regex`` as its own subclasses override it, its route lists); the tests of the HTTP
answers (tests/integration/test_api_protocol.py) fail if a Powertools release changes one.
"""

from __future__ import annotations

from re import Pattern

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver

from tracker.api.body import BodyReadingValidation

# APIGatewayRestResolver's route pattern (trailing slashes ignored), ending at the end of the path.
_WHOLE_PATH = "^{}/*\\Z"


class TrackerResolver(APIGatewayRestResolver):
    def __init__(self, allowed_origin: str | None = None) -> None:
        # API Gateway answers the preflight; a browser on the dashboard's origin also needs
        # Access-Control-Allow-Origin on every answer, which only the function can add.
        cors = CORSConfig(allow_origin=allowed_origin) if allowed_origin else None
        super().__init__(enable_validation=True, cors=cors)
        self._request_validation_middleware = BodyReadingValidation()

    @staticmethod
    def _compile_regex(rule: str, base_regex: str = _WHOLE_PATH) -> Pattern[str]:
        pattern: Pattern[str] = ApiGatewayResolver._compile_regex(rule, base_regex)
        return pattern

    def allowed_methods(self, path: str) -> list[str]:
        """The methods some route serves at ``path`` (empty for an unknown path), sorted."""
        routes = self._static_routes + self._dynamic_routes
        return sorted({route.method for route in routes if route.rule.match(path)})
