"""The tenant comes only from the verified authorizer claims, never from the request itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tracker import constants
from tracker.domain.errors import UnauthenticatedError
from tracker.domain.ids import TENANT_ID_PATTERN

# The only paths served without a verified caller: health, and the signed unsubscribe links of
# emails (the token is the credential: tracker.api.unsubscribe_routes).
PUBLIC_PATHS = frozenset({"/health"})
PUBLIC_PREFIXES = ("/unsubscribe/",)


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


@dataclass(frozen=True)
class Caller:
    tenant_id: str
    subject: str | None


def caller_from_event(event: dict[str, Any]) -> Caller:
    """Read the caller from API Gateway's authorizer context (Cognito user pool authorizer)."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    claims = authorizer.get("claims") or {}
    tenant = claims.get(constants.TENANT_CLAIM)
    if not isinstance(tenant, str) or not TENANT_ID_PATTERN.fullmatch(tenant):
        raise UnauthenticatedError("a verified token with a tenant_id claim is required")
    subject = claims.get("sub") or claims.get("cognito:username")
    return Caller(tenant_id=tenant, subject=subject if isinstance(subject, str) else None)
