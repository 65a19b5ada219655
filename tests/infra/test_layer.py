"""The dependency layer: built by the same function synth uses, for Lambda arm64 and the runtime's
CPython, holding the pinned requirements. Import is only possible on a matching machine, so the
wheel tags and the ELF headers of the extension modules are what is checked everywhere."""

from __future__ import annotations

import platform
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from layers.build_layer import (
    LOCK,
    PYTHON_VERSION,
    REQUIREMENTS,
    SITE_DIR_NAME,
    LayerBuild,
    StaleLockError,
    _pins,
    ensure_layer,
    locked_pins,
)

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

CP = "cp" + PYTHON_VERSION.replace(".", "")  # cp314
LAMBDA_LAYER_LIMIT = 250 * 1024 * 1024  # unzipped, function code and all layers together
ELF_MACHINE_AARCH64 = 0xB7
REQUIRED_PACKAGES = ("aws_lambda_powertools", "pynamodb", "pydantic", "pydantic_core", "msgspec")


@pytest.fixture(scope="module")
def layer() -> LayerBuild:
    build = ensure_layer()
    print(f"layer unzipped size: {build.unzipped_bytes / 1048576:.1f} MiB (rebuilt: {build.rebuilt})")
    return build


@pytest.fixture(scope="module")
def site(layer: LayerBuild) -> Path:
    return layer.path / SITE_DIR_NAME


def wheel_tags(site: Path) -> dict[str, list[str]]:
    tags = {}
    for wheel in site.glob("*.dist-info/WHEEL"):
        tags[wheel.parent.name] = [
            line.split(":", 1)[1].strip()
            for line in wheel.read_text().splitlines()
            if line.startswith("Tag:")
        ]
    return tags


def tag_fits_lambda(tag: str) -> bool:
    python, abi, plat = tag.split("-")
    if plat == "any":
        return abi == "none" and any(
            p in ("py3", "py2", f"py{PYTHON_VERSION.replace('.', '')}") for p in python.split(".")
        )
    arm = re.fullmatch(r"manylinux(2014|_2_\d+)_aarch64", plat) is not None
    if abi == "abi3":
        minor = int(python.removeprefix("cp3"))
        return arm and minor <= int(PYTHON_VERSION.split(".")[1])
    return arm and python == CP and abi == CP


def test_build_is_idempotent_and_reports_its_size(layer: LayerBuild) -> None:
    again = ensure_layer()
    assert again.rebuilt is False
    assert again.fingerprint == layer.fingerprint
    assert again.unzipped_bytes == layer.unzipped_bytes
    assert 0 < layer.unzipped_bytes < LAMBDA_LAYER_LIMIT / 2


def test_every_wheel_is_for_lambda_arm64_and_the_runtime_python(site: Path) -> None:
    tags = wheel_tags(site)
    assert tags, "no wheels installed"
    for dist, dist_tags in tags.items():
        assert dist_tags, dist
        assert all(tag_fits_lambda(t) for t in dist_tags), f"{dist}: {dist_tags}"
    binary = {dist for dist, dist_tags in tags.items() if any(t.endswith("_aarch64") for t in dist_tags)}
    assert any(d.startswith("pydantic_core-") for d in binary)
    assert any(d.startswith("msgspec-") for d in binary)


def test_exactly_the_locked_packages_are_installed(site: Path) -> None:
    def norm(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    installed = {}
    for dist in site.glob("*.dist-info"):
        name, version = dist.name.removesuffix(".dist-info").rsplit("-", 1)
        installed[norm(name)] = version
    assert installed == locked_pins()


def test_the_lock_pins_every_requirement_with_hashes_and_the_transitive_packages() -> None:
    requirements = _pins(REQUIREMENTS.read_text())
    locked = locked_pins()
    assert {name: locked.get(name) for name in requirements} == requirements
    # Packages no requirement names but the layer needs (botocore's, dateutil's, pydantic's).
    assert {"urllib3", "six", "typing-inspection"} <= locked.keys()
    entries = re.split(r"\n(?=[a-z0-9])", LOCK.read_text().split("\n", 2)[2])
    assert len(entries) == len(locked)
    for entry in entries:
        assert re.search(r"--hash=sha256:[0-9a-f]{64}", entry), entry.splitlines()[0]


def test_a_requirement_missing_from_the_lock_stops_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from layers import build_layer

    edited = tmp_path / "requirements.txt"
    edited.write_text(REQUIREMENTS.read_text().replace("pynamodb==", "pynamodb==0.0.1\n# was ") + "")
    monkeypatch.setattr(build_layer, "REQUIREMENTS", edited)
    with pytest.raises(StaleLockError, match=r"pynamodb==0\.0\.1\): run `make lock`"):
        ensure_layer(build_dir=tmp_path / "build")
    assert not (tmp_path / "build" / SITE_DIR_NAME).exists()


def test_required_packages_and_their_aarch64_extension_modules(site: Path) -> None:
    for package in REQUIRED_PACKAGES:
        assert (site / package / "__init__.py").is_file(), package
    (core,) = (site / "pydantic_core").glob(
        f"_pydantic_core.cpython-{PYTHON_VERSION.replace('.', '')}-aarch64-linux-gnu.so"
    )
    (msgspec_core,) = (site / "msgspec").glob(
        f"_core.cpython-{PYTHON_VERSION.replace('.', '')}-aarch64-linux-gnu.so"
    )
    shared_objects = list(site.rglob("*.so"))
    assert core in shared_objects
    assert msgspec_core in shared_objects
    for so in shared_objects:
        header = so.read_bytes()[:20]
        assert header[:4] == b"\x7fELF", so
        assert int.from_bytes(header[18:20], "little") == ELF_MACHINE_AARCH64, f"{so} is not aarch64"
        assert "x86_64" not in so.name, so


def test_nothing_for_the_build_machine_is_shipped(site: Path) -> None:
    assert not (site / "bin").exists()
    assert not [p for p in site.rglob("*.pyc") if f".cpython-{PYTHON_VERSION.replace('.', '')}" not in p.name]


@pytest.mark.skipif(
    platform.machine().lower() not in ("aarch64", "arm64") or shutil.which(f"python{PYTHON_VERSION}") is None,
    reason=f"importing needs an aarch64 machine with python{PYTHON_VERSION}",
)
def test_layer_imports_on_the_target_platform(site: Path) -> None:
    code = "import aws_lambda_powertools, msgspec, pynamodb, pydantic, pydantic_core; print(pydantic_core.__version__)"
    interpreter = shutil.which(f"python{PYTHON_VERSION}")
    assert interpreter is not None
    subprocess.run(
        [interpreter, "-I", "-c", f"import sys; sys.path.insert(0, {str(site)!r}); {code}"], check=True
    )


def test_the_layer_fingerprint_and_asset_hash_follow_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from layers import build_layer

    before = build_layer._fingerprint(PYTHON_VERSION)
    assert build_layer._fingerprint(PYTHON_VERSION) == before
    edited = tmp_path / "requirements.lock"
    edited.write_text(LOCK.read_text().replace("--hash=sha256:", "--hash=sha256:0", 1))
    monkeypatch.setattr(build_layer, "LOCK", edited)
    assert build_layer._fingerprint(PYTHON_VERSION) != before
