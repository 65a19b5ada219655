"""The layer contracts of pyproject.toml hold, and they bite: an import against them fails the check."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint(functions: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
        env={"PYTHONPATH": str(functions), "PATH": str(LINT_IMPORTS.parent)},
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_code_keeps_every_contract() -> None:
    result = lint(ROOT / "functions")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("logic/retry.py", "from tracker.dal import keys", "Layers point one way"),
        ("domain/ids.py", "import boto3", "know no AWS SDK"),
        ("logic/ingest.py", "import msgspec", "know no AWS SDK"),
        ("dal/keys.py", "import msgspec", "The data access layer knows the domain"),
        ("models/api.py", "from tracker.logic import queries", "build on the domain only"),
        ("api/params.py", "from tracker.dal import models", "Routes reach storage through the logic layer"),
    ],
)
def test_an_import_against_a_contract_fails_the_check(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    copy = tmp_path / "functions"
    shutil.copytree(
        ROOT / "functions" / "tracker", copy / "tracker", ignore=shutil.ignore_patterns("__pycache__")
    )
    with (copy / "tracker" / module).open("a", encoding="utf-8") as source:
        source.write(f"\n{line}  # noqa\n")
    result = lint(copy)
    assert result.returncode != 0
    assert contract in result.stdout
    assert "BROKEN" in result.stdout
