"""Build the Lambda dependency layer without Docker.

pip installs the hashed lock of the runtime requirements (``layers/requirements.lock``, compiled from
``requirements.txt`` by ``make lock``) as wheels built for the Lambda platform (Linux, arm64/aarch64,
CPython of the function runtime), checking every file's hash and installing nothing the lock does
not list, into ``layers/build/python``; ``layers/build`` is the folder the CDK stack hands to
``Code.from_asset`` (Lambda adds ``/opt/python`` to ``sys.path``).

Idempotent: a stamp records the hash of the lock, the target Python version, the platform and this
script's format version; when it matches, nothing is rebuilt. The same fingerprint is the asset hash.

Run with ``make layer`` or ``python layers/build_layer.py``; ``cdk synth`` (``infra``) calls
:func:`ensure_layer` and builds it when missing.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements.txt"
LOCK = ROOT / "layers" / "requirements.lock"
BUILD_DIR = ROOT / "layers" / "build"
SITE_DIR_NAME = "python"
STAMP_NAME = ".build-stamp.json"

# The Python version of the Lambda runtime (infra.functions.RUNTIME); tests check they agree.
PYTHON_VERSION = "3.14"
# Lambda arm64 (Graviton). manylinux2014 = glibc 2.17; pip also accepts newer manylinux_2_x tags
# up to what it is told, and every Python 3.12+ runtime runs on Amazon Linux 2023 (glibc 2.34).
PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")
# Bump when the layout or the pip options change, so existing builds are redone.
FORMAT_VERSION = 3

# Never useful inside the layer: console scripts carry the build machine's interpreter path.
_PRUNE_DIRS = ("bin",)


@dataclass(frozen=True)
class LayerBuild:
    path: Path  # the asset folder (contains python/)
    fingerprint: str  # changes whenever the layer's content would
    unzipped_bytes: int
    rebuilt: bool


class StaleLockError(RuntimeError):
    """requirements.txt pins a version the lock does not have: run `make lock`."""


def _pins(text: str) -> dict[str, str]:
    """name -> version of every `name==version` line (extras dropped, names normalized)."""
    pins = {}
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;\\]+)", line.strip())
        if match:
            pins[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(3)
    return pins


def locked_pins() -> dict[str, str]:
    return _pins(LOCK.read_text())


def check_lock() -> None:
    """Every pin of requirements.txt is in the lock at the same version."""
    locked = locked_pins()
    stale = {
        name: version
        for name, version in _pins(REQUIREMENTS.read_text()).items()
        if locked.get(name) != version
    }
    if stale:
        pins = ", ".join(f"{name}=={version}" for name, version in sorted(stale.items()))
        raise StaleLockError(
            f"layers/requirements.lock does not match requirements.txt ({pins}): run `make lock`"
        )


def _fingerprint(python_version: str) -> str:
    digest = hashlib.sha256()
    digest.update(LOCK.read_bytes())
    digest.update(f"|{python_version}|{','.join(PLATFORMS)}|{FORMAT_VERSION}".encode())
    return digest.hexdigest()


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


@contextlib.contextmanager
def locked(build_dir: Path, name: str = ".build.lock") -> Iterator[None]:
    """Serialize concurrent builds in ``build_dir`` (``make layer`` beside a test run, two xdist
    workers, two synths); ``name`` is the lock file, one per kind of build."""
    build_dir.mkdir(parents=True, exist_ok=True)
    with (build_dir / name).open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _pip_command(site_dir: Path, python_version: str) -> list[str]:
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    for platform in PLATFORMS:
        command += ["--platform", platform]
    command += [
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        python_version,
        "--no-compile",  # .pyc for the build machine's Python would be dead weight on 3.14
        "--no-user",
        # Every file's hash must match the lock, and only what the lock lists is installed.
        "--require-hashes",
        "--no-deps",
        "--target",
        str(site_dir),
        "-r",
        str(LOCK),
    ]
    return command


def _precompile(site_dir: Path, python_version: str) -> bool:
    """Byte-compile with the runtime's own interpreter when this machine has one.

    /opt is read-only in Lambda, so modules without a matching .pyc are compiled in memory on every
    cold start. Bytecode is version-specific, so only an interpreter of the exact runtime version
    can produce it; without one the layer ships sources only (correct, slightly slower cold start).
    """
    interpreter = shutil.which(f"python{python_version}")
    if interpreter is None:
        return False
    subprocess.run(  # noqa: S603 - fixed arguments, interpreter found on PATH
        [
            interpreter,
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            str(site_dir),
        ],
        check=True,
    )
    return True


def ensure_layer(
    python_version: str = PYTHON_VERSION, build_dir: Path = BUILD_DIR, *, force: bool = False
) -> LayerBuild:
    """Build the layer unless an up-to-date build exists; return its folder and unzipped size."""
    check_lock()
    fingerprint = _fingerprint(python_version)
    site_dir = build_dir / SITE_DIR_NAME
    stamp = build_dir / STAMP_NAME
    with locked(build_dir):
        if not force and stamp.is_file() and site_dir.is_dir():
            recorded = json.loads(stamp.read_text())
            if recorded.get("fingerprint") == fingerprint:
                return LayerBuild(build_dir, fingerprint, int(recorded["unzipped_bytes"]), rebuilt=False)
        stamp.unlink(missing_ok=True)
        shutil.rmtree(site_dir, ignore_errors=True)
        env = {**os.environ, "PIP_NO_INPUT": "1"}
        subprocess.run(_pip_command(site_dir, python_version), check=True, env=env)  # noqa: S603
        for name in _PRUNE_DIRS:
            shutil.rmtree(site_dir / name, ignore_errors=True)
        for cache in list(site_dir.rglob("__pycache__")):
            shutil.rmtree(cache, ignore_errors=True)
        compiled = _precompile(site_dir, python_version)
        size = folder_size(site_dir)
        stamp.write_text(
            json.dumps(
                {
                    "fingerprint": fingerprint,
                    "python_version": python_version,
                    "precompiled": compiled,
                    "unzipped_bytes": size,
                },
                indent=2,
            )
        )
        return LayerBuild(build_dir, fingerprint, size, rebuilt=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--python-version", default=PYTHON_VERSION)
    parser.add_argument("--force", action="store_true", help="rebuild even if the stamp matches")
    args = parser.parse_args(argv)
    build = ensure_layer(args.python_version, force=args.force)
    state = "built" if build.rebuilt else "up to date"
    mib = build.unzipped_bytes / (1024 * 1024)
    print(
        f"layer {state}: {build.path / SITE_DIR_NAME} "
        f"unzipped size {build.unzipped_bytes} bytes ({mib:.1f} MiB; Lambda limit 250 MiB incl. function code)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
