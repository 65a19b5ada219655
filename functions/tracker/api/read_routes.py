"""Read routes (messages, recipients, invoice logs, customer history). Built in the read-API issue."""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools.event_handler.api_gateway import Router


@dataclass(frozen=True)
class Dependencies:
    pass


def default_dependencies() -> Dependencies:
    return Dependencies()


def router(dependencies: Dependencies) -> Router:  # noqa: ARG001 - filled in by its issue
    return Router()
