"""A tiny JSON-over-HTTP client for the local gateway (used by the demo seeder and by people)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any


class LocalClient:
    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.base_url}{path}", data=data, method=method)  # noqa: S310 - local URL
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local URL
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                return error.code, json.loads(raw) if raw else None
            except ValueError:
                return error.code, raw.decode(errors="replace")

    def ok(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        status, payload = self.call(method, path, body, headers)
        if status >= 300:
            raise RuntimeError(f"{method} {path} answered {status}: {payload}")
        return payload

    def sign_in(self, tenant_id: str) -> str:
        self.token = self.ok("POST", "/local/token", {"tenant_id": tenant_id})["token"]
        return self.token

    def wait_until(self, check: Any, timeout: float = 30.0, interval: float = 0.3) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            if time.monotonic() > deadline:
                raise TimeoutError("the local system did not reach the expected state in time")
            time.sleep(interval)
