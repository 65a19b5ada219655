"""Local sign-in: HS256 bearer tokens carrying the same claims the Cognito authorizer gives in AWS."""

from __future__ import annotations

import secrets
import time
from typing import Any

import jwt

from tracker import constants

ISSUER = "delivery-tracker-local"
TOKEN_LIFETIME_SECONDS = 12 * 3600


class LocalTokens:
    def __init__(self, secret: str | None = None) -> None:
        self._secret = secret or secrets.token_urlsafe(32)

    def issue(self, tenant_id: str, subject: str = "local-user") -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "cognito:username": subject,
            constants.TENANT_CLAIM: tenant_id,
            "token_use": "id",
            "iat": now,
            "exp": now + TOKEN_LIFETIME_SECONDS,
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, authorization: str | None) -> dict[str, Any] | None:
        """The claims of a valid ``Bearer`` token, else None (the gateway answers 401)."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        try:
            claims: dict[str, Any] = jwt.decode(
                authorization[7:].strip(),
                self._secret,
                algorithms=["HS256"],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", constants.TENANT_CLAIM]},
            )
        except jwt.PyJWTError:
            return None
        # API Gateway passes Cognito claims to the Lambda as strings.
        return {key: str(value) for key, value in claims.items()}
