"""Shared end-to-end fixtures: local mode as a subprocess, and a headless Chromium driven by Playwright.

The browser is Debian's `chromium` package (`.ci/run` installs it when missing); Playwright's own
browser downloads are never used.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

if TYPE_CHECKING:
    from tests.e2e.dashboard import Dashboard

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_TIMEOUT_S = 240.0  # the emulator, the resources and (with DEMO) the demo data


@dataclass
class LocalInstance:
    """A running `python -m local`."""

    base_url: str
    process: subprocess.Popen[str]
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, tenant: str = "demo") -> str:
        if tenant not in self.tokens:
            response = requests.post(f"{self.base_url}/local/token", json={"tenant_id": tenant}, timeout=10)
            response.raise_for_status()
            self.tokens[tenant] = str(response.json()["token"])
        return self.tokens[tenant]

    def api(self, method: str, path: str, tenant: str = "demo", **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token(tenant)}", **kwargs.pop("headers", {})}
        response = requests.request(method, f"{self.base_url}{path}", headers=headers, timeout=30, **kwargs)
        assert response.status_code < 300, (method, path, response.status_code, response.text)
        return response.json()

    def output(self) -> str:
        if self.process.poll() is None or self.process.stdout is None:
            return ""
        return self.process.stdout.read()


def _free_port() -> int:
    from local.emulator import free_port

    return int(free_port())


def wait_until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.3)


def start_local_mode(*, demo: bool) -> LocalInstance:
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "DEMO": "1" if demo else "0", "PYTHONUNBUFFERED": "1"}
    for name in ("AWS_ENDPOINT_URL", "TABLE_NAME", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "local"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    instance = LocalInstance(f"http://127.0.0.1:{port}", process)

    def healthy() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"local mode exited with {process.returncode}:\n{instance.output()}")
        try:
            return requests.get(f"{instance.base_url}/health", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    try:
        wait_until(healthy, STARTUP_TIMEOUT_S, "local mode's GET /health")
    except BaseException:
        stop_local_mode(instance)
        raise
    return instance


def stop_local_mode(instance: LocalInstance) -> None:
    process = instance.process
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def local_demo() -> Iterator[LocalInstance]:
    """Local mode with the demo data (local/demo.py), shared by the browser tests."""
    instance = start_local_mode(demo=True)
    try:
        yield instance
    finally:
        stop_local_mode(instance)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright (no Playwright browser download)."""
    if not Path(CHROMIUM).is_file() and not shutil.which(CHROMIUM):
        message = f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def dashboard(chromium: Any, local_demo: LocalInstance) -> Iterator[Dashboard]:
    """The dashboard in a fresh browser context, signed in to the demo tenant by local mode."""
    from tests.e2e.dashboard import Dashboard

    view = Dashboard(chromium, local_demo.base_url)
    yield view
    view.close()
