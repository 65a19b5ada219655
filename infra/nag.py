"""cdk-nag AwsSolutions checks, and the few findings we accept, each with its reason.

Findings are fixed where a fix exists (own execution roles instead of AWSLambdaBasicExecutionRole,
KMS rotation, SSL-only queues and topics, DLQs, MFA, access and execution logs, PITR...). What is
left below is suppressed on the exact resource (and, for IAM5, the exact wildcard) it concerns.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Aspects
from aws_cdk import aws_apigateway as apigw
from cdk_nag import AwsSolutionsChecks, NagPackSuppression, NagSuppressions
from constructs import Construct, IConstruct

from infra.stack import DeliveryTrackerStack

XRAY_REASON = (
    "X-Ray tracing (Tracing.ACTIVE) needs xray:PutTraceSegments and xray:PutTelemetryRecords, which "
    "do not support resource-level permissions, so AWS requires Resource '*' for them. "
    "The infra tests assert that no other statement uses Resource '*'."
)
SEND_RATE_REASON = (
    " The sender also reads its account's SES send rate with ses:GetAccount (read-only, the "
    "account's own quota), which has no resource-level permissions either; with the sendRate "
    "context value set it is not granted."
)


def apply_nag(scope: Construct) -> None:
    """Run AwsSolutionsChecks on everything under scope (errors fail `cdk synth`)."""
    Aspects.of(scope).add(AwsSolutionsChecks(verbose=True))


def _suppress(
    construct: IConstruct,
    rule: str,
    reason: str,
    applies_to: list[Any] | None = None,
    *,
    children: bool = True,
) -> None:
    NagSuppressions.add_resource_suppressions(
        construct,
        [NagPackSuppression(id=rule, reason=reason, applies_to=applies_to)],
        apply_to_children=children,
    )


def suppress_accepted_findings(stack: DeliveryTrackerStack) -> None:
    # --- IAM5: the one wildcard the functions need (table and indexes are named, see table_access)
    for function in (
        stack.ingestion.function,
        stack.projection.function,
        stack.sending.function,
        *stack.api.functions,
        stack.reference_data.function,
        stack.events_out.function,
        stack.events_out.failures_function,
        stack.exports.function,
    ):
        assert function.role is not None
        reason = XRAY_REASON + (SEND_RATE_REASON if function is stack.sending.function else "")
        _suppress(function.role, "AwsSolutions-IAM5", reason, ["Resource::*"])
    _suppress_events_out(stack)
    # The exports' objects are one per export, named by its id under one prefix (infra/exports.py).
    bucket_id = stack.get_logical_id(stack.exports.bucket.node.default_child)  # type: ignore[arg-type]
    for function in (stack.exports.function, stack.api.read_function):
        assert function.role is not None
        _suppress(
            function.role,
            "AwsSolutions-IAM5",
            "Each export is its own object under exports/ in the exports bucket (named by the export's "
            "id): the worker writes them, the read function presigns their download. No other object "
            "or bucket is reachable.",
            [f"Resource::<{bucket_id}.Arn>/exports/*"],
        )

    # --- The projector's on-failure destination -------------------------------------------------
    _suppress(
        stack.projection.failure_queue,
        "AwsSolutions-SQS3",
        "This queue is the projector's dead-letter queue: the event source mapping's on-failure "
        "destination, which cdk-nag does not recognize as one. Nothing consumes it; it holds the "
        "descriptions of stream batches given up, for an operator (alarmed on when not empty).",
    )

    # --- API Gateway ------------------------------------------------------------------------------
    api = stack.api.rest_api
    _suppress(
        api,
        "AwsSolutions-APIG2",
        "Requests are validated in the API function by Powertools with pydantic models (enable_validation), "
        "which answer 4xx with this API's JSON error body; a gateway validator would need a duplicate model "
        "per route and answer in API Gateway's own error format.",
    )
    _suppress(
        api,
        "AwsSolutions-APIG3",
        "No WAF web ACL by default: every route except /health and the signed unsubscribe links "
        "requires a Cognito token, and stage "
        "throttling bounds abuse; attach a regional web ACL to the stage when the API is exposed to "
        "untrusted traffic at scale (it costs a monthly fee per ACL and rule).",
    )
    _suppress(
        api,
        "AwsSolutions-IAM4",
        "API Gateway's account-level CloudWatch role uses AmazonAPIGatewayPushToCloudWatchLogs, the AWS "
        "managed policy documented for it: API Gateway itself creates the execution log groups it writes to.",
        ["Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"],
    )
    for method in _unauthenticated_methods(api):
        if method.resource.path.startswith("/unsubscribe/") and method.http_method != "OPTIONS":
            reason = (
                "An email's one-click unsubscribe link (RFC 8058): mail clients POST to it without any "
                "credential of ours, so the credential is the link itself, an HMAC-signed token naming "
                "one recipient, checked by the send function; it can only unsubscribe that recipient's "
                "address from its tenant's emails, and reads nothing else."
            )
        elif method.http_method == "GET":
            reason = (
                "GET /health is the one route without a token by design (uptime checks): a MOCK "
                "integration that API Gateway answers itself with a static status, never reaching a "
                "function or any data."
            )
        else:
            reason = (
                "CORS preflight: browsers send OPTIONS without credentials, so it cannot require a token; "
                "it is a MOCK integration that returns only the CORS headers and never reaches the function."
            )
        # On the method resource only, not on its children (such as the Lambda permission).
        assert method.node.default_child is not None
        _suppress(method.node.default_child, "AwsSolutions-APIG4", reason, children=False)
        _suppress(method.node.default_child, "AwsSolutions-COG4", reason, children=False)

    # --- Cognito ----------------------------------------------------------------------------------
    if stack.api.user_pool_client is not None:
        _suppress(
            stack.api.user_pool,
            "AwsSolutions-COG8",
            "The Essentials feature plan: the Plus plan's threat protection is charged per monthly active "
            "user; admin-only user creation, a 12-character password policy and required TOTP MFA cover "
            "the risks it addresses for a back-office dashboard.",
        )

    # --- Secrets Manager --------------------------------------------------------------------------
    _suppress(
        stack.api.cursor_secret,
        "AwsSolutions-SMG4",
        "The cursor signing key is not a credential of another system, so there is no rotation Lambda "
        "to pair it with; rotating means putting a new generated value (see docs/deploy.md), which only "
        "invalidates outstanding pagination cursors.",
    )
    _suppress(
        stack.api.unsubscribe_secret,
        "AwsSolutions-SMG4",
        "The unsubscribe link key is not a credential of another system, and rotating it would void the "
        "one-click unsubscribe link of every email already sent (a customer must be able to unsubscribe "
        "from an old email); replace it only if it leaked (docs/unsubscribe.md).",
    )


def _unauthenticated_methods(api: apigw.RestApi) -> list[apigw.Method]:
    methods = []
    for method in api.methods:
        if (
            method.http_method == "OPTIONS"
            or (method.http_method == "GET" and method.resource.path == "/health")
            or method.resource.path.startswith("/unsubscribe/")
        ):
            methods.append(method)
    return methods


def _suppress_events_out(stack: DeliveryTrackerStack) -> None:
    events_out = stack.events_out
    send_role = stack.api.send_function.role
    assert send_role is not None
    _suppress(
        send_role,
        "AwsSolutions-IAM5",
        "The webhook routes create each tenant's EventBridge connection, API destination and rule at "
        "run time, named with the stack's webhook prefix and a hash of the tenant (tracker.dal.webhooks); "
        "the permissions name that prefix, not any resource of another name. The connection's API key "
        "lives in the secret EventBridge creates for it (events!connection/<name>/<uuid>), whose "
        "name ends in a random suffix, hence the wildcard after the same prefix.",
        events_out.admin_wildcards(),
    )
    _suppress(
        events_out.delivery_role,
        "AwsSolutions-IAM5",
        "EventBridge invokes the tenants' API destinations, created at run time with the webhook "
        "prefix (tracker.dal.webhooks): the role names that prefix only.",
        events_out.delivery_wildcards(),
    )
    _suppress(
        events_out.failure_queue,
        "AwsSolutions-SQS3",
        "The events function's on-failure destination (a dead-letter queue cdk-nag does not recognize "
        "as one): it holds the descriptions of stream batches given up, for an operator (alarmed).",
    )
    _suppress(
        events_out.dead_letter_queue,
        "AwsSolutions-SQS3",
        "This is the dead-letter queue of the tenants' webhook targets (EventBridge's DeadLetterConfig, "
        "set at run time): its consumer records each failure; a message it cannot record stays here "
        "(alarmed on its age).",
    )
