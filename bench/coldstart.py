"""Cold start: how long importing each Lambda handler module takes in a fresh interpreter.

Each measurement is a new ``python`` process (``PYTHONPATH=functions``, the environment a Lambda
function of this stack gets, with ``LAMBDA_TASK_ROOT`` set as in Lambda and
``SDK_TRACING`` as deployed by default, off; one handler again with it on, the X-Ray SDK loaded and
botocore patched, to show what that costs; the handlers' cold start in Lambda, tracker.handlers:
the collector off while the module loads, its objects frozen afterwards; and the interpreter
settings ``infra.functions`` gives every function) that times ``import <module>`` with
``time.perf_counter`` (wall) and ``time.process_time`` (CPU: what the import costs, the same on
a quiet machine, and unlike the wall time not inflated when other processes take the cores);
interpreter start-up itself is not included. Modules are measured round
robin (so drift in machine load spreads evenly), one untimed warm-up round first (byte-code
compilation), then the median of ``runs`` rounds. ``import boto3`` alone, measured the same way,
is the yardstick: every handler imports boto3 (through PynamoDB) and then its own code.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.stack_floors import FLOORS
from tracker import constants
from tracker.settings import FUNCTION_RUNTIME_ENVIRONMENT

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "boto3"
# Measured a second time as ``sdkTracing=true`` deploys it (X-Ray SDK loaded, botocore patched),
# to show what the opt-in subsegments cost a cold start (tracker.handlers.tracing).
SDK_TRACING_PROBE = "tracker.handlers.sender"
SDK_TRACING_SUFFIX = " (sdkTracing=true)"


def handler_modules() -> tuple[str, ...]:
    """Every Lambda entry point the stack deploys: the ``*_HANDLER`` names of tracker.constants
    (``module.function``), so a new function is measured as soon as it has its constant."""
    entries = {
        value.rsplit(".", 1)[0]
        for name, value in vars(constants).items()
        if name.endswith("_HANDLER") and isinstance(value, str) and value.startswith("tracker.handlers.")
    }
    return tuple(sorted(entries))


_PROBE = (
    "import sys, time\n"
    "start, cpu = time.perf_counter(), time.process_time()\n"
    "import importlib; importlib.import_module(sys.argv[1])\n"
    "print(time.perf_counter() - start, time.process_time() - cpu)\n"
)
# The same timing around a program instead of an import (bench.stack_floors).
_CODE_PROBE = _PROBE.replace("import importlib; importlib.import_module(sys.argv[1])", "exec(sys.argv[1])")


@dataclass(frozen=True)
class ImportTime:
    module: str
    samples: tuple[float, ...]  # wall seconds
    error: str = ""
    cpu_samples: tuple[float, ...] = ()  # CPU seconds of the same runs

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else float("nan")

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu_samples) if self.cpu_samples else float("nan")


def lambda_environment(sdk_tracing: bool = False) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "POWERTOOLS_", "PYTHON")) and key not in ("LAMBDA_TASK_ROOT",)
    }
    env.update(
        {
            "PYTHONPATH": str(ROOT / "functions"),
            "LAMBDA_TASK_ROOT": str(ROOT / "functions"),
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "POWERTOOLS_SERVICE_NAME": "delivery-tracker",
            "POWERTOOLS_METRICS_NAMESPACE": "DeliveryTracker",
            "TABLE_NAME": "delivery-tracker",
            **FUNCTION_RUNTIME_ENVIRONMENT,  # what infra.functions gives every function
            constants.ENV_SDK_TRACING: "true" if sdk_tracing else "false",
        }
    )
    return env


def available_modules() -> list[str]:
    found = []
    sys.path.insert(0, str(ROOT / "functions"))
    try:
        for module in handler_modules():
            try:
                if importlib.util.find_spec(module) is not None:
                    found.append(module)
            except ModuleNotFoundError:
                pass
    finally:
        sys.path.remove(str(ROOT / "functions"))
    return found


def _once(module: str, env: dict[str, str], probe: str = _PROBE) -> tuple[float, float] | str:
    """One fresh interpreter: (wall, CPU) seconds of ``probe`` given ``module``, or its last error line."""
    result = subprocess.run(
        [sys.executable, "-c", probe, module],
        env=env,
        capture_output=True,
        text=True,
        cwd=str(ROOT),
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        return (result.stderr.strip().splitlines() or ["failed"])[-1]
    wall, cpu = result.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def measure(runs: int = 7, progress: object = None) -> list[ImportTime]:
    """``import boto3``, every handler as deployed, SDK_TRACING_PROBE with SDK tracing on, then the
    libraries' floors (bench.stack_floors)."""
    handlers = available_modules()
    modules = [BASELINE, *handlers]
    if SDK_TRACING_PROBE in handlers:
        modules.append(SDK_TRACING_PROBE + SDK_TRACING_SUFFIX)
    modules.extend(FLOORS)
    env, traced_env = lambda_environment(), lambda_environment(sdk_tracing=True)
    samples: dict[str, list[tuple[float, float]]] = {m: [] for m in modules}
    errors: dict[str, str] = {}
    for round_number in range(runs + 1):
        for module in modules:
            if module in errors:
                continue
            if module in FLOORS:
                value = _once(FLOORS[module], env, _CODE_PROBE)
            elif module.endswith(SDK_TRACING_SUFFIX):
                value = _once(module.removesuffix(SDK_TRACING_SUFFIX), traced_env)
            else:
                value = _once(module, env)
            if isinstance(value, str):
                errors[module] = value
            elif round_number > 0:  # round 0 warms the byte-code caches
                samples[module].append(value)
        if callable(progress):
            progress(f"cold start: round {round_number}/{runs}")
    return [
        ImportTime(
            m,
            tuple(wall for wall, _ in samples[m]),
            errors.get(m, ""),
            tuple(cpu for _, cpu in samples[m]),
        )
        for m in modules
    ]


def self_time_by_package(module: str) -> dict[str, float]:
    """One ``python -X importtime`` run: seconds of import time spent in each top-level package's
    own module bodies (not counting what they import)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        env=lambda_environment(),
        capture_output=True,
        text=True,
        cwd=str(ROOT),
        timeout=120,
        check=False,
    )
    totals: dict[str, float] = {}
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        own, _cumulative, name = line.removeprefix("import time:").split("|", 2)
        if not own.strip().isdigit():
            continue  # the header line
        package = name.strip().split(".", 1)[0]
        totals[package] = totals.get(package, 0.0) + int(own) / 1e6
    return totals


def beyond_boto3(module: str, top: int = 4) -> list[tuple[str, float]]:
    """The packages that cost ``module`` the most import time that ``import boto3`` does not pay."""
    baseline = set(self_time_by_package(BASELINE))
    costs = self_time_by_package(module)
    extra = [(package, seconds) for package, seconds in costs.items() if package not in baseline]
    return sorted(extra, key=lambda entry: -entry[1])[:top]
