"""The functions' code asset (infra.function_code): byte-code for the runtime's Python when this
machine has that interpreter, sources only otherwise. The runtime's 3.14 is stood in for by the
interpreter running the tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from infra.function_code import BYTECODE_EXCLUDES, FUNCTIONS_DIR, function_code

THIS_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
# A .pyc header's flags word: hash-based (bit 0), checked against its source (bit 1).
CHECKED_HASH = 0b11


def compiled_copy(tmp_path: Path) -> Path:
    source = tmp_path / "functions"
    (source / "tracker" / "__pycache__").mkdir(parents=True, exist_ok=True)
    (source / "tracker" / "__init__.py").write_text("")
    (source / "tracker" / "handler.py").write_text("VALUE = 42\n")
    (source / "tracker" / "__pycache__" / "stale.cpython-39.pyc").write_bytes(b"build machine")
    (source / ".ruff_cache").mkdir(exist_ok=True)
    code = function_code(
        THIS_PYTHON, build_dir=tmp_path / "build", source=source, which=lambda _name: sys.executable
    )
    assert code.compiled
    assert not any(pattern in code.excludes for pattern in BYTECODE_EXCLUDES), "the .pyc files ship"
    return code.path


def test_with_the_runtimes_interpreter_every_module_ships_checked_byte_code(tmp_path: Path) -> None:
    built = compiled_copy(tmp_path)
    modules = sorted(built.rglob("*.py"))
    assert [m.relative_to(built).as_posix() for m in modules] == ["tracker/__init__.py", "tracker/handler.py"]
    for module in modules:
        cached = Path(importlib.util.cache_from_source(str(module)))
        header = cached.read_bytes()[:8]
        assert header[:4] == importlib.util.MAGIC_NUMBER
        assert int.from_bytes(header[4:8], "little") == CHECKED_HASH
    # Nothing of the build machine's: its stale byte-code and tool caches stay behind.
    assert not (built / "tracker" / "__pycache__" / "stale.cpython-39.pyc").exists()
    assert not (built / ".ruff_cache").exists()


def test_a_second_build_replaces_the_first(tmp_path: Path) -> None:
    first = compiled_copy(tmp_path)
    (first / "leftover.py").write_text("")
    assert compiled_copy(tmp_path) == first
    assert not (first / "leftover.py").exists()


def test_without_the_runtimes_interpreter_the_sources_ship_without_byte_code(tmp_path: Path) -> None:
    code = function_code("3.99", build_dir=tmp_path, which=lambda _name: None)
    assert (code.path, code.compiled) == (FUNCTIONS_DIR, False)
    assert set(BYTECODE_EXCLUDES) <= set(code.excludes)
    assert not (tmp_path / "functions-3.99").exists()
