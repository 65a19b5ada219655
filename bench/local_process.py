"""`python -m local` as a subprocess on a free port, for the load check and its test."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
ENDPOINT_LINE = re.compile(r"AWS emulator \(moto server\) on (http://127\.0\.0\.1:\d+)")


def wait_until(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class LocalProcess:
    """`python -m local` on a free port, its output collected by a thread."""

    def __init__(self) -> None:
        from local.emulator import free_port

        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "PORT": str(port), "DEMO": "0", "PYTHONUNBUFFERED": "1"}
        for name in ("AWS_ENDPOINT_URL", "TABLE_NAME", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            env.pop(name, None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "local"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def emulator_endpoint(self) -> str | None:
        found = ENDPOINT_LINE.search(self.output)
        return found.group(1) if found else None

    def wait_healthy(self, timeout: float) -> None:
        def healthy() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"local mode exited with {self.process.returncode}:\n{self.output}")
            try:
                return requests.get(f"{self.base_url}/health", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_until(healthy, timeout, "local mode's GET /health")

    def processes(self) -> list[int]:
        """Local mode's process and its descendants (the emulator), by pid (Linux)."""
        found, pending = [], [self.process.pid]
        while pending:
            pid = pending.pop()
            found.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*/children"):
                pending += [int(child) for child in task.read_text().split()]
        return found

    def peak_rss_bytes(self) -> int:
        """The sum of each process's VmHWM: the most resident memory each has had (Linux)."""
        total = 0
        for pid in self.processes():
            found = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
            total += int(found.group(1)) * 1024 if found else 0
        return total

    def cpu_seconds(self) -> dict[int, float]:
        """User + system CPU time so far of each process (Linux)."""
        ticks = os.sysconf("SC_CLK_TCK")
        times = {}
        for pid in self.processes():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            times[pid] = (int(fields[11]) + int(fields[12])) / ticks
        return times

    def interrupt(self, timeout: float) -> tuple[float, int | None]:
        """Ctrl+C: the seconds until the process exited, and its exit code (None: killed)."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGINT)
        try:
            code: int | None = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
            code = None
        elapsed = time.monotonic() - started
        self._reader.join(timeout=5)
        return elapsed, code
