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
from typing import Any

from tracker.domain.errors import InvalidCursorError


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the cursor secret must be at least 16 bytes")
        self._secret = secret

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()

    def encode(self, tenant_id: str, scope: str, position: dict[str, Any] | None) -> str | None:
        """``scope`` names the list (route + fixed filters); ``position`` is DynamoDB's LastEvaluatedKey."""
        if not position:
            return None
        payload = json.dumps(
            {"t": tenant_id, "s": scope, "k": position}, separators=(",", ":"), sort_keys=True
        )
        raw = payload.encode()
        return f"{_b64(raw)}.{_b64(self._sign(raw))}"

    def decode(self, cursor: str | None, tenant_id: str, scope: str) -> dict[str, Any] | None:
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
            or payload.get("s") != scope
            or not isinstance(payload.get("k"), dict)
        ):
            raise InvalidCursorError()
        position: dict[str, Any] = payload["k"]
        return position
