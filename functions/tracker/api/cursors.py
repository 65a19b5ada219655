"""Opaque, tamper-evident pagination cursors.

A cursor is base64url(JSON payload) + "." + base64url(HMAC-SHA256). The payload binds the
DynamoDB LastEvaluatedKey to the tenant and to the list it came from, so a cursor that was
edited, forged, or issued to another tenant or for another list is rejected (400) before any
query runs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Sequence
from typing import Any

from tracker.domain.errors import InvalidCursorError

# The longest cursor a list route accepts: a signed LastEvaluatedKey of an index (four keys, each
# bounded by the id patterns) stays far below it.
MAX_CURSOR_LENGTH = 4096


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def scope_key(scope: Sequence[str | None]) -> str:
    """The one spelling of a list's scope (route, then its fixed filters). '|' cannot occur in ids,
    kinds, statuses or ISO times, so two different lists never share a scope."""
    return "|".join(part or "" for part in scope)


class CursorCodec:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the cursor secret must be at least 16 bytes")
        self._secret = secret

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()

    def encode(
        self, tenant_id: str, scope: Sequence[str | None], position: dict[str, Any] | None
    ) -> str | None:
        """``scope`` names the list (route + fixed filters); ``position`` is DynamoDB's LastEvaluatedKey."""
        if not position:
            return None
        payload = json.dumps(
            {"t": tenant_id, "s": scope_key(scope), "k": position}, separators=(",", ":"), sort_keys=True
        )
        raw = payload.encode()
        return f"{_b64(raw)}.{_b64(self._sign(raw))}"

    def decode(
        self, cursor: str | None, tenant_id: str, scope: Sequence[str | None]
    ) -> dict[str, Any] | None:
        if cursor is None or cursor == "":
            return None
        try:
            body, signature = cursor.split(".", 1)
            raw = _unb64(body)
            valid = hmac.compare_digest(self._sign(raw), _unb64(signature))
        except (ValueError, binascii.Error) as error:
            raise InvalidCursorError() from error
        if not valid:
            raise InvalidCursorError()
        try:
            payload = json.loads(raw)
        except ValueError as error:
            raise InvalidCursorError() from error
        if (
            payload.get("t") != tenant_id
            or payload.get("s") != scope_key(scope)
            or not isinstance(payload.get("k"), dict)
        ):
            raise InvalidCursorError()
        position: dict[str, Any] = payload["k"]
        return position


class LazyCursorCodec:
    """A CursorCodec whose secret is loaded on first use (Secrets Manager in AWS), so building the
    app costs no network call and a route that never pages never loads it."""

    def __init__(self, load_secret: Callable[[], bytes]) -> None:
        self._load_secret = load_secret
        self._codec: CursorCodec | None = None
        self._lock = threading.Lock()

    def _get(self) -> CursorCodec:
        if self._codec is None:
            with self._lock:
                if self._codec is None:
                    self._codec = CursorCodec(self._load_secret())
        return self._codec

    def encode(
        self, tenant_id: str, scope: Sequence[str | None], position: dict[str, Any] | None
    ) -> str | None:
        return self._get().encode(tenant_id, scope, position)

    def decode(
        self, cursor: str | None, tenant_id: str, scope: Sequence[str | None]
    ) -> dict[str, Any] | None:
        return self._get().decode(cursor, tenant_id, scope)
