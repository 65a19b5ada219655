"""Runtime settings, read from the environment when a handler first needs them (never at import)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

from tracker import constants


@dataclass(frozen=True)
class Settings:
    table_name: str
    region: str | None
    dynamodb_endpoint: str | None
    event_log_retention: timedelta

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            table_name=os.environ.get(constants.ENV_TABLE_NAME, constants.TABLE_NAME),
            region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
            # Local mode points the handlers at the embedded emulator; unset in AWS.
            dynamodb_endpoint=os.environ.get("DYNAMODB_ENDPOINT_URL") or None,
            event_log_retention=timedelta(
                days=int(
                    os.environ.get(
                        constants.ENV_EVENT_LOG_RETENTION_DAYS, constants.DEFAULT_EVENT_LOG_RETENTION_DAYS
                    )
                )
            ),
        )
