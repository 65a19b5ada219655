"""One botocore data loader for every SDK session in local mode's process.

PynamoDB gives every thread its own botocore session (botocore's client creation is not
thread-safe), and a new session reads and parses the service's model, the endpoints and the
partitions again: ~60-150 ms per client, against ~4 ms with a loader that has read them once.
Local mode runs the sender's 32 threads beside the pollers, so its first send paid for ~35 such
clients, seconds of CPU. The loader only caches what it read from the SDK's data files (the same
files, read once), so here every session with the same data path shares one. Only local mode
installs it; in AWS each Lambda container pays this once per thread, as ever.
"""

from __future__ import annotations

import functools
from typing import Any

from botocore import loaders, session


@functools.lru_cache(maxsize=8)
def _loader(data_path: str | None) -> Any:
    return loaders.create_loader(data_path)


def _register_data_loader(self: Any) -> None:
    self._components.lazy_register_component(
        "data_loader", lambda: _loader(self.get_config_variable("data_path"))
    )


def install() -> None:
    """For the rest of this process: sessions created from now on share the loader."""
    session.Session._register_data_loader = _register_data_loader  # type: ignore[attr-defined]
