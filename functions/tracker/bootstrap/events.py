"""The events function's collaborators: the table's stream decoded into status changes, put on the
event bus (tracker.logic.publishing)."""

from __future__ import annotations

import time
from typing import Any

from tracker.logic.publishing import Publisher
from tracker.settings import EventSettings, Settings


def build_publisher(events: EventSettings, client: Any) -> Publisher:
    from tracker.dal.status_events import EventBridgeBus

    return Publisher(EventBridgeBus(client, events.bus_name), sleep=time.sleep)


def default_publisher() -> Publisher:
    import boto3

    config = Settings.from_env()
    return build_publisher(EventSettings.from_env(), boto3.client("events", region_name=config.region))
