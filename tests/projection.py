"""The projector run over the test table's stream, as Lambda's event source mapping runs it: every
test that checks counts after writing recipients calls ``project()`` first (counts are projections
of the recipients' changes, not written with them)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from local.streams import DrainReport, TableStream
from tracker.bootstrap.projector import build_projector
from tracker.handlers.projector import process_batch
from tracker.logic.projector import Projector
from tracker.settings import SendSettings, Settings

_streams: dict[str, TableStream] = {}


def stream(table: str | None = None) -> TableStream:
    """The reader of this table's stream, where it stopped (one per table the test created)."""
    name = table or Settings.from_env().table_name
    reader = TableStream(name)
    return _streams.setdefault(reader.stream_arn, reader)


def default_projector() -> Projector:
    return build_projector(Settings.from_env(), SendSettings.from_env())


def project(
    table: str | None = None,
    projector: Projector | None = None,
    handler: Callable[[dict[str, Any]], Mapping[str, Any]] | None = None,
) -> DrainReport:
    """Project every recipient change not projected yet; fails the test if a batch keeps failing."""
    chosen = projector or default_projector()
    report = stream(table).drain(handler or (lambda event: process_batch(event, chosen)))
    assert not report.failed_batches, f"the projector kept failing on {report.failed_batches}"
    return report
