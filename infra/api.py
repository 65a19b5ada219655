"""The HTTP API: API Gateway REST API -> the read function or the send function (infra/api_routes.py),
Cognito user pool authorizer on every route but GET /health, access logs, stage throttling, CORS
for the frontend origin.

Two functions from one app definition (tracker.api.app): each imports and registers only its own
routes, so each cold start is smaller, and the read function's role can only read the table."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import table_access
from infra.api_routes import ROUTES, ApiFunction
from infra.functions import FunctionFactory, FunctionSpec, grant_table_access
from tracker import constants as c

API_TIMEOUT = Duration.seconds(10)  # well inside API Gateway's 29 s integration limit
API_MEMORY_MB = 512  # more memory = more CPU: cold start (imports, pydantic) and JSON rendering
STAGE_NAME = "v1"
# Account-wide defaults for one tenant-facing dashboard API; raise with real traffic.
THROTTLING_RATE_LIMIT = 50  # requests per second, steady
THROTTLING_BURST_LIMIT = 100
CORS_MAX_AGE = Duration.hours(1)
# What the hosted dashboard asks Cognito for (web/auth.js); the ID token carries the tenant claim.
OAUTH_SCOPES = ["openid", "email", "profile"]
# GET /health, answered by API Gateway itself (an uptime check never invokes, nor waits for, a Lambda).
HEALTH_BODY = {"status": "ok"}
ALLOWED_METHODS = ["GET", "POST", "OPTIONS"]
# Idempotency-Key: the dashboard's resend (one key per click) and any browser client of POST /messages.
ALLOWED_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key"]
# One JSON object per request. `sub` identifies the Cognito user; no bodies, no tokens.
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "ip": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "path": "$context.path",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "sub": "$context.authorizer.claims.sub",
    "error": "$context.error.message",
    "authorizerError": "$context.authorizer.error",
}


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: FunctionFactory,
        table: dynamodb.ITableV2,
        send_queue: sqs.IQueue,
        frontend_origin: str,
        existing_user_pool_id: str | None,
        dashboard_url: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)

        self.user_pool: cognito.IUserPool
        self.user_pool_client: cognito.UserPoolClient | None = None
        if existing_user_pool_id:
            # An operator's pool; its users must carry the custom:tenant_id attribute (docs/deploy.md).
            self.user_pool = cognito.UserPool.from_user_pool_id(self, "UserPool", existing_user_pool_id)
        else:
            pool = cognito.UserPool(
                self,
                "UserPool",
                # Operators create users (one per business user, with its tenant); nobody signs up.
                self_sign_up_enabled=False,
                sign_in_aliases=cognito.SignInAliases(email=True),
                auto_verify=cognito.AutoVerifiedAttrs(email=True),
                custom_attributes={
                    # Immutable: once a user belongs to a tenant, neither the user nor an admin
                    # can move it to another one (create a new user instead).
                    c.TENANT_ATTRIBUTE: cognito.StringAttribute(min_len=1, max_len=64, mutable=False),
                },
                password_policy=cognito.PasswordPolicy(
                    min_length=12,
                    require_lowercase=True,
                    require_uppercase=True,
                    require_digits=True,
                    require_symbols=True,
                    temp_password_validity=Duration.days(3),
                ),
                # The dashboard shows customers' email addresses and invoices: require a second
                # factor, by authenticator app (no SMS role, no SMS costs).
                mfa=cognito.Mfa.REQUIRED,
                mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
                account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
                feature_plan=cognito.FeaturePlan.ESSENTIALS,
                deletion_protection=True,
                removal_policy=RemovalPolicy.RETAIN,
            )
            self.user_pool = pool
            self.user_pool_client = pool.add_client(
                "WebClient",
                # A browser app: no client secret; SRP so the password never leaves the browser.
                generate_secret=False,
                auth_flows=cognito.AuthFlow(user_srp=True),
                prevent_user_existence_errors=True,
                # Users may read their tenant but never write it (it is also immutable).
                read_attributes=cognito.ClientAttributes()
                .with_standard_attributes(email=True, email_verified=True, fullname=True)
                .with_custom_attributes(c.TENANT_ATTRIBUTE),
                write_attributes=cognito.ClientAttributes().with_standard_attributes(fullname=True),
                id_token_validity=Duration.hours(1),
                access_token_validity=Duration.hours(1),
                refresh_token_validity=Duration.days(30),
                **_oauth_settings(dashboard_url),
            )

        # The pagination cursor signing key: generated by Secrets Manager, never in the template or
        # in an environment variable; the function reads it by ARN.
        self.cursor_secret = secretsmanager.Secret(
            self,
            "CursorSecret",
            description="HMAC key that signs the API's pagination cursors",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True
            ),
        )

        # The key that signs emails' one-click unsubscribe links (the sender signs, the send function
        # verifies): generated, read by ARN. Not rotated: a new key would void the link of every
        # email already sent (nag.py).
        self.unsubscribe_secret = secretsmanager.Secret(
            self,
            "UnsubscribeSecret",
            description="HMAC key that signs the one-click unsubscribe links of emails",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True
            ),
        )

        common = {
            c.ENV_CURSOR_SECRET_ARN: self.cursor_secret.secret_arn,
            c.ENV_ALLOWED_ORIGIN: frontend_origin,
        }
        self.read_function = factory.create(
            self,
            FunctionSpec(
                construct_id="ReadApiFunction",
                handler=c.READ_API_HANDLER,
                description="HTTP API reads: messages, rates, recipients, invoice logs, customer histories",
                memory_mb=API_MEMORY_MB,
                timeout=API_TIMEOUT,
                environment=common,
            ),
        )
        # Reads only: Query, GetItem, BatchGetItem (infra/table_access.py lists them).
        grant_table_access(self.read_function, table, table_access.READ_API)
        self.send_function = factory.create(
            self,
            FunctionSpec(
                construct_id="SendApiFunction",
                handler=c.SEND_API_HANDLER,
                description="HTTP API writes: POST /messages and the suppression list",
                memory_mb=API_MEMORY_MB,
                timeout=API_TIMEOUT,
                environment={
                    c.ENV_SEND_QUEUE_URL: send_queue.queue_url,
                    c.ENV_UNSUBSCRIBE_SECRET_ARN: self.unsubscribe_secret.secret_arn,
                    **common,
                },
            ),
        )
        # POST /messages writes message and recipient items, and Powertools idempotency keeps its
        # records in the same table (pk/sk): infra/table_access.py lists the actions.
        grant_table_access(self.send_function, table, table_access.SEND_API)
        send_queue.grant_send_messages(self.send_function)
        for function in self.functions:
            self.cursor_secret.grant_read(function)
        self.unsubscribe_secret.grant_read(self.send_function)

        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            description="Delivery tracker API",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # API Gateway writes access and execution logs through one account-wide role.
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE_NAME,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS)),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # would log request and response bodies (personal data)
                metrics_enabled=True,
                tracing_enabled=True,
                throttling_rate_limit=THROTTLING_RATE_LIMIT,
                throttling_burst_limit=THROTTLING_BURST_LIMIT,
            ),
            default_cors_preflight_options=apigw.CorsOptions(
                allow_origins=[frontend_origin],
                allow_methods=ALLOWED_METHODS,
                allow_headers=ALLOWED_HEADERS,
                max_age=CORS_MAX_AGE,
            ),
        )
        # Errors produced by API Gateway itself (401 from the authorizer, 429 throttling) must carry
        # the CORS header too, or the browser hides them from the frontend.
        cors_headers = {"Access-Control-Allow-Origin": f"'{frontend_origin}'"}
        for response_id, response_type in (
            ("Default4xx", apigw.ResponseType.DEFAULT_4_XX),
            ("Default5xx", apigw.ResponseType.DEFAULT_5_XX),
        ):
            self.rest_api.add_gateway_response(
                response_id,
                type=response_type,
                response_headers=cors_headers,
            )

        self.authorizer = apigw.CognitoUserPoolsAuthorizer(
            self,
            "Authorizer",
            cognito_user_pools=[self.user_pool],
            results_cache_ttl=Duration.minutes(5),
        )
        integrations = {
            ApiFunction.READ: apigw.LambdaIntegration(
                self.read_function, proxy=True, allow_test_invoke=False
            ),
            ApiFunction.SEND: apigw.LambdaIntegration(
                self.send_function, proxy=True, allow_test_invoke=False
            ),
        }

        # GET /health: the one route without a token (uptime checks). A MOCK integration: API Gateway
        # answers it, so an unauthenticated caller can never invoke (or bill) a function. The API
        # functions keep their own /health route for local mode's gateway.
        self.rest_api.root.add_resource("health").add_method(
            "GET",
            _health_integration(frontend_origin),
            authorization_type=apigw.AuthorizationType.NONE,
            method_responses=[
                apigw.MethodResponse(
                    status_code="200",
                    response_parameters={"method.response.header.Access-Control-Allow-Origin": True},
                )
            ],
        )
        # Everything else goes to the function that serves it (its Powertools resolver routes it
        # and answers 404/405 as the whole API would), always behind the Cognito authorizer. The
        # tenant comes from the verified ID token's custom:tenant_id claim.
        # The one exception: an email's unsubscribe link (its signed token is the credential; mail
        # clients POST to it without any token of ours).
        for route in ROUTES:
            resource = self.rest_api.root.resource_for_path(route.resource)
            if route.public:
                resource.add_method(
                    route.method,
                    integrations[route.function],
                    authorization_type=apigw.AuthorizationType.NONE,
                )
                continue
            resource.add_method(
                route.method,
                integrations[route.function],
                authorization_type=apigw.AuthorizationType.COGNITO,
                authorizer=self.authorizer,
            )

    @property
    def functions(self) -> tuple[lambda_.Function, ...]:
        return (self.read_function, self.send_function)


def _oauth_settings(dashboard_url: str | None) -> dict[str, Any]:
    """The app client's OAuth: off unless the stack hosts the dashboard (CDK's defaults would allow the
    implicit flow and a callback to https://example.com as soon as a domain is attached). With the
    dashboard: the authorization code flow only (the public client uses PKCE, web/auth.js), and the
    distribution's address as the only callback and sign-out URL."""
    if dashboard_url is None:
        return {"disable_o_auth": True}
    return {
        "o_auth": cognito.OAuthSettings(
            flows=cognito.OAuthFlows(authorization_code_grant=True),
            scopes=[cognito.OAuthScope.custom(scope) for scope in OAUTH_SCOPES],
            callback_urls=[dashboard_url],
            logout_urls=[dashboard_url],
        ),
        "supported_identity_providers": [cognito.UserPoolClientIdentityProvider.COGNITO],
    }


def _health_integration(frontend_origin: str) -> apigw.MockIntegration:
    return apigw.MockIntegration(
        request_templates={"application/json": json.dumps({"statusCode": 200})},
        passthrough_behavior=apigw.PassthroughBehavior.NEVER,
        integration_responses=[
            apigw.IntegrationResponse(
                status_code="200",
                response_templates={"application/json": json.dumps(HEALTH_BODY)},
                response_parameters={
                    "method.response.header.Access-Control-Allow-Origin": f"'{frontend_origin}'"
                },
            )
        ],
    )
