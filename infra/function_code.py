"""The functions' code asset: ``functions/`` with byte-code for the runtime's Python when it can be made.

``/var/task`` is read-only in Lambda, so a module without a matching ``.pyc`` is compiled from
source in memory on every cold start (here: +45-55 ms of CPU for the sender's and the ingest
handler's import, README "Goals we miss"). Byte-code is version-specific, so only an interpreter of
the runtime's exact version can make it (as for the layer, ``layers/build_layer.py``). With one on
this machine, a copy of ``functions/`` under ``layers/build/`` is compiled and shipped; without one,
``functions/`` itself ships as sources (correct, slower cold start: what every deploy did before).

The ``.pyc`` files are checked-hash: Python compares each with its source's hash (cheap next to a
compile), so a source changed after the build is compiled again rather than run stale.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from layers.build_layer import BUILD_DIR, locked

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = ROOT / "functions"

# Never part of the asset: caches of the build machine's tools and packaging metadata.
SOURCE_EXCLUDES = [
    "**/.mypy_cache",
    "**/.pytest_cache",
    "**/.ruff_cache",
    "**/*.egg-info",
    "**/.DS_Store",
]
# The build machine's own byte-code: for its Python, dead weight (or wrong) on the runtime's.
BYTECODE_EXCLUDES = ["**/__pycache__", "**/*.pyc", "**/*.pyo"]


@dataclass(frozen=True)
class FunctionCode:
    """The folder ``Code.from_asset`` gets and what it leaves out of it."""

    path: Path
    excludes: list[str]
    compiled: bool


def function_code(
    python_version: str,
    build_dir: Path = BUILD_DIR,
    source: Path = FUNCTIONS_DIR,
    which: Callable[[str], str | None] = shutil.which,
) -> FunctionCode:
    interpreter = which(f"python{python_version}")
    if interpreter is None:
        return FunctionCode(source, [*BYTECODE_EXCLUDES, *SOURCE_EXCLUDES], compiled=False)
    target = build_dir / f"functions-{python_version}"
    ignored = [pattern.removeprefix("**/") for pattern in (*BYTECODE_EXCLUDES, *SOURCE_EXCLUDES)]
    with locked(build_dir, ".functions.lock"):  # two synths at once share the folder
        # Rebuilt on every synth (a copy and a compile: seconds), so it never lags the sources.
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target, ignore=shutil.ignore_patterns(*ignored))
        subprocess.run(  # noqa: S603 - fixed arguments, interpreter found on PATH
            [interpreter, "-m", "compileall", "-q", "--invalidation-mode", "checked-hash", str(target)],
            check=True,
        )
    return FunctionCode(target, list(SOURCE_EXCLUDES), compiled=True)
