"""Powertools' REST resolver with what the API needs beyond it.

* Bodies are read by ``tracker.api.body`` (media type, size, encoding) inside Powertools' own
  request validation, which runs before any middleware of ours.

This replaces what Powertools builds in its constructor (its request-validation middleware); the
tests of the HTTP answers (tests/integration/test_api_protocol.py) fail if a Powertools release
changes it.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from tracker.api.body import BodyReadingValidation


class TrackerResolver(APIGatewayRestResolver):
    def __init__(self) -> None:
        super().__init__(enable_validation=True)
        self._request_validation_middleware = BodyReadingValidation()
