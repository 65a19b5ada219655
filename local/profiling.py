"""``LOCAL_PROFILE=<prefix>``: where local mode's CPU goes, for ``make localload`` and by hand.

Every thread local mode starts afterwards runs under its own ``cProfile`` profiler timed with
``time.thread_time`` (CPU, not wall time: a thread waiting for the emulator or a queue costs
nothing), and the emulator's one serving thread likewise. At the stop each process writes its
merged statistics to ``<prefix>.<name>.pstats`` and the top functions by own and cumulative time
to ``<prefix>.<name>.txt``. Off by default: cProfile roughly doubles the CPU per call.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import threading
import time
from typing import Any

LOCAL_PROFILE = "LOCAL_PROFILE"
_profiles: list[cProfile.Profile] = []
_lock = threading.Lock()


def enabled() -> bool:
    return bool(os.environ.get(LOCAL_PROFILE))


def profiler() -> cProfile.Profile:
    """A new profiler counted in this process's statistics (its CPU as the calling thread's)."""
    profile = cProfile.Profile(time.thread_time)
    with _lock:
        _profiles.append(profile)
    return profile


def profile_new_threads() -> None:
    """Every ``threading.Thread`` started from now on runs under its own profiler."""
    original = threading.Thread.run

    def run(self: threading.Thread) -> None:
        profile = profiler()
        profile.enable()
        try:
            original(self)
        finally:
            profile.disable()

    threading.Thread.run = run  # type: ignore[method-assign]


class _Snapshot:
    """A profiler's statistics so far, read without disabling it (``create_stats`` would disable
    the calling thread's profiling and disturb the profiled thread's call stack)."""

    def __init__(self, profile: cProfile.Profile) -> None:
        profile.snapshot_stats()
        self.stats = dict(profile.stats)

    def create_stats(self) -> None:
        """What pstats calls before reading ``stats``: they are read already."""


def write(name: str) -> None:
    """The statistics so far of every profiler, merged (a running thread's too), to ``<prefix>.<name>.pstats`` and a readable ``.txt``."""
    prefix = os.environ.get(LOCAL_PROFILE)
    if not prefix:
        return
    with _lock:
        profiles = list(_profiles)
    stats: Any = None
    for profile in profiles:
        snapshot = _Snapshot(profile)
        if snapshot.stats:
            stats = pstats.Stats(snapshot) if stats is None else stats.add(snapshot)  # type: ignore[arg-type]
    if stats is None:
        return
    stats.dump_stats(f"{prefix}.{name}.pstats")
    text = io.StringIO()
    readable = pstats.Stats(f"{prefix}.{name}.pstats", stream=text)
    readable.sort_stats("tottime").print_stats(60)
    readable.sort_stats("cumulative").print_stats(60)
    with open(f"{prefix}.{name}.txt", "w", encoding="utf-8") as out:
        out.write(text.getvalue())
