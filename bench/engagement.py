"""What telling machine opens and scanner clicks from people costs per open or click: CPU.

Two parts of the classifier run for each Open and Click ingest applies (docs/engagement.md):

* ``classify_fetch``, the intrinsic class from the user agent and address (``tracker.domain.
  engagement``: Apple's ranges, the agent tables, CrawlerDetect for unusual agents);
* ``final_verdicts``, the timing rules over the recipient's kept opens and clicks, which ingest
  re-derives with the status after every event (so for the n-th open or click of a recipient, over
  n fetches).

Both are timed in this process over the synthetic send's opens and clicks in stream order: a
first pass with every cache of the classifier cleared (what a new container pays once: regexes
compiled, the shipped Apple snapshot loaded), then the median of ``rounds`` warm passes.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from dataclasses import dataclass

from bench.generator import AGENTS, CREATED_AT, Kind, SyntheticSend
from tracker.domain.engagement import Fetch, FetchKind, classify_fetch, final_verdicts, networks, user_agents


@dataclass(frozen=True)
class ClassifierCost:
    fetches: int  # opens and clicks classified per pass
    agents: int  # distinct user agents among them
    first_pass_ms: float  # caches cleared
    classify_us: float  # per open/click, warm (median of the rounds)
    timing_us: float  # the timing rules, per open/click, warm

    @property
    def total_us(self) -> float:
        return self.classify_us + self.timing_us


def _clear_caches() -> None:
    for cached in (
        user_agents._agent_code,
        user_agents._compiled,
        user_agents._browser,
        user_agents._crawler_detect,
        networks.default_apple_ranges,
        networks.scanner_networks,
    ):
        cached.cache_clear()


def measure(send: SyntheticSend, rounds: int = 5) -> ClassifierCost:
    specs = [s for s in send.specs if not s.copy and s.kind in (Kind.OPEN, Kind.CLICK)]
    inputs: list[tuple[FetchKind, str | None, str | None]] = [
        ("open" if s.kind == Kind.OPEN else "click", AGENTS[s.agent].user_agent, AGENTS[s.agent].ip_address)
        for s in specs
    ]

    def classify_all() -> list[str]:
        return [classify_fetch(kind, agent, address).code for kind, agent, address in inputs]

    _clear_caches()
    started = time.perf_counter()
    codes = classify_all()
    first_pass = time.perf_counter() - started
    warm = []
    for _ in range(rounds):
        started = time.perf_counter()
        classify_all()
        warm.append(time.perf_counter() - started)

    # Each recipient's fetches in the order they arrive; the rules run over the ones seen so far.
    grown: dict[int, list[Fetch]] = defaultdict(list)
    prefixes: list[tuple[tuple[Fetch, ...], int]] = []
    for spec, code, (kind, _, _) in zip(specs, codes, inputs, strict=True):
        link = f"offers/{spec.variant % 10}" if kind == "click" else None
        grown[spec.recipient].append(Fetch(spec.at, kind, code, link))
        prefixes.append((tuple(grown[spec.recipient]), spec.recipient))
    delivered = {s.recipient: s.at for s in send.specs if s.kind == Kind.DELIVERY}
    timing = []
    for _ in range(rounds):
        started = time.perf_counter()
        for fetches, recipient in prefixes:
            final_verdicts(fetches[-20:], delivered_at=delivered.get(recipient), sent_at=CREATED_AT)
        timing.append(time.perf_counter() - started)
    per_event = 1e6 / max(1, len(inputs))
    return ClassifierCost(
        fetches=len(inputs),
        agents=len({agent for _, agent, _ in inputs}),
        first_pass_ms=first_pass * 1000,
        classify_us=statistics.median(warm) * per_event,
        timing_us=statistics.median(timing) * per_event,
    )
