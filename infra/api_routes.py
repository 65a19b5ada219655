"""Which of the two API functions API Gateway sends each request to (infra/api.py builds the
resources and methods from this table). No aws_cdk import: tests route requests with it too.

The read function serves the read routes and the documentation, the send function POST /messages
and the suppression routes (tracker.api.app). A resource's ANY method takes what its other methods
do not, so a method no route has still reaches a function, which answers 405 with the methods the
path allows (or 404), as the whole API does in local mode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class ApiFunction(StrEnum):
    READ = "read"
    SEND = "send"


ANY = "ANY"
GREEDY = "{proxy+}"


@dataclass(frozen=True)
class GatewayRoute:
    resource: str  # an API Gateway resource path; "{proxy+}" matches one or more segments
    method: str  # an HTTP method, or ANY
    function: ApiFunction
    # No Cognito authorizer: the signed link of an email is the credential (one-click unsubscribe).
    public: bool = False


ROUTES = (
    GatewayRoute("/messages", "GET", ApiFunction.READ),
    GatewayRoute("/messages", "POST", ApiFunction.SEND),
    GatewayRoute("/messages", ANY, ApiFunction.READ),
    # A resource level holds one variable at most (API Gateway), so the send function's two routes
    # under a message are spelled out with their parents, and every other path under a message is
    # the read function's.
    GatewayRoute("/messages/{message_id}", ANY, ApiFunction.READ),
    GatewayRoute(f"/messages/{{message_id}}/{GREEDY}", ANY, ApiFunction.READ),
    GatewayRoute("/messages/{message_id}/recipients", ANY, ApiFunction.READ),
    GatewayRoute("/messages/{message_id}/recipients/{recipient_id}", ANY, ApiFunction.READ),
    GatewayRoute(f"/messages/{{message_id}}/recipients/{{recipient_id}}/{GREEDY}", ANY, ApiFunction.READ),
    GatewayRoute("/messages/{message_id}/recipients/{recipient_id}/resend", ANY, ApiFunction.SEND),
    GatewayRoute("/messages/{message_id}/recipients/{recipient_id}/dismiss", ANY, ApiFunction.SEND),
    GatewayRoute("/suppressions", ANY, ApiFunction.SEND),
    GatewayRoute(f"/suppressions/{GREEDY}", ANY, ApiFunction.SEND),
    # One-click unsubscribe (RFC 8058): mail clients POST without any token of ours; the page's GET
    # is served by the same function.
    GatewayRoute("/unsubscribe/{token}", ANY, ApiFunction.SEND, public=True),
    # The erasure of a customer's data writes; the customer's history (GET) is a read route.
    GatewayRoute(f"/customers/{GREEDY}", "DELETE", ApiFunction.SEND),
    GatewayRoute(f"/customers/{GREEDY}", ANY, ApiFunction.READ),
    # The tenant's webhook: EventBridge resources and the table (docs/events.md).
    GatewayRoute("/webhook", ANY, ApiFunction.SEND),
    GatewayRoute(f"/webhook/{GREEDY}", ANY, ApiFunction.SEND),
    # Starting an export writes and queues (the send function); its state and download are read.
    GatewayRoute("/exports", "POST", ApiFunction.SEND),
    GatewayRoute("/exports", ANY, ApiFunction.READ),
    GatewayRoute(f"/exports/{GREEDY}", ANY, ApiFunction.READ),
    # Large messages in steps (docs/sending.md): every draft route writes or belongs with them.
    GatewayRoute("/drafts", ANY, ApiFunction.SEND),
    GatewayRoute(f"/drafts/{GREEDY}", ANY, ApiFunction.SEND),
    # Everything else: the other read routes (invoices, customers), the documentation, and paths
    # no route has (404).
    GatewayRoute(f"/{GREEDY}", ANY, ApiFunction.READ),
)


_VARIABLE = re.compile(r"\\\{\w+\\\}")


def _pattern(resource: str) -> re.Pattern[str]:
    escaped = re.escape(resource).replace(re.escape(GREEDY), ".+")
    return re.compile("^" + _VARIABLE.sub("[^/]+", escaped) + "$")


def _specificity(resource: str) -> tuple[int, int]:
    # API Gateway prefers a resource without a greedy variable, then the longer literal prefix.
    literal = re.sub(r"\{\w+\+?\}", "", resource)
    return (0 if GREEDY in resource else 1, len(literal))


def function_for(method: str, path: str) -> ApiFunction | None:
    """The function API Gateway invokes for ``method`` on ``path`` (None: no resource matches)."""
    matching = [route for route in ROUTES if _pattern(route.resource).match(path)]
    if not matching:
        return None
    best = max(_specificity(route.resource) for route in matching)
    candidates = [route for route in matching if _specificity(route.resource) == best]
    for wanted in (method.upper(), ANY):
        for route in candidates:
            if route.method == wanted:
                return route.function
    return None
