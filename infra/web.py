"""Optional hosting of the dashboard (`web/`): a private S3 bucket behind CloudFront with origin access
control, deployed with the stack and configured with the API URL and the Cognito sign-in settings.

Enabled with `-c web=true` (off by default: nothing here is created). The dashboard is static files
(no build step); `BucketDeployment` uploads `web/` plus a generated `config.js`, using the Lambda
handler and AWS CLI layer that ship prebuilt inside aws-cdk-lib, so synthesis needs no Docker.

Two steps, because the API's CORS origin is the distribution's domain and the dashboard's
configuration is the API's URL: `WebHosting(...)` creates the bucket and the distribution before the
API, and `publish(...)` adds the deployment, the Cognito domain and the app client's OAuth URLs after it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import Aws, Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct, IConstruct

from infra.api import OAUTH_SCOPES

ROOT = Path(__file__).resolve().parent.parent
WEB_DIR = ROOT / "web"
CONFIG_OBJECT = "config.js"  # web/config.js is local mode's; the deployed one is generated below
INDEX_DOCUMENT = "index.html"
LOG_RETENTION_DAYS = 365
DEPLOYMENT_MEMORY_MB = 256

# Files of web/ that are not part of the site.
WEB_EXCLUDES = [CONFIG_OBJECT, "**/.DS_Store", "**/*.map", "node_modules", "node_modules/**"]


def content_security_policy() -> str:
    """Only our own scripts and styles; API calls to this region's API Gateway and Cognito domains."""
    region = Aws.REGION
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "manifest-src 'self'",
            f"connect-src 'self' https://*.execute-api.{region}.amazonaws.com https://*.auth.{region}.amazoncognito.com",
            "form-action 'self'",
            "base-uri 'none'",
            "object-src 'none'",
            "frame-ancestors 'none'",
            "upgrade-insecure-requests",
        ]
    )


def config_module(config: Mapping[str, Any]) -> str:
    """The deployed web/config.js: an ES module whose default export is the app's settings (web/auth.js)."""
    return f"// Generated at deploy time by infra/web.py.\nexport default {json.dumps(config, indent=2)};\n"


def _custom_domain(scope: Construct, domain_name: str | None, certificate_arn: str | None) -> dict[str, Any]:
    """The distribution's own domain and its ACM certificate (in us-east-1, as CloudFront requires)."""
    if domain_name is None or certificate_arn is None:
        return {}
    return {
        "domain_names": [domain_name],
        "certificate": acm.Certificate.from_certificate_arn(scope, "Certificate", certificate_arn),
        "ssl_support_method": cloudfront.SSLMethod.SNI,
    }


def _suppress(construct: IConstruct, rule: str, reason: str, applies_to: list[str] | None = None) -> None:
    NagSuppressions.add_resource_suppressions(
        construct,
        [NagPackSuppression(id=rule, reason=reason, applies_to=applies_to)],
        apply_to_children=True,
    )


class WebHosting(Construct):
    """Bucket, log bucket and distribution (step 1; see the module docstring)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain_name: str | None = None,
        certificate_arn: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.domain_name = domain_name

        # Access logs of the site bucket (S3 server access logs) and of the distribution (CloudFront
        # standard logs). CloudFront standard logging writes with an ACL grant, so this bucket keeps
        # ACLs enabled for the bucket owner; it is still private (all public access blocked).
        self.log_bucket = s3.Bucket(
            self,
            "Logs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(LOG_RETENTION_DAYS))],
            removal_policy=RemovalPolicy.RETAIN,  # audit data outlives the stack
        )
        _suppress(
            self.log_bucket,
            "AwsSolutions-S1",
            "This is the access-log bucket itself: the site bucket and the distribution log into it, "
            "and logging it into itself would log every log delivery in a loop.",
        )

        self.bucket = s3.Bucket(
            self,
            "Site",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.log_bucket,
            server_access_logs_prefix="s3/site/",
            # Only deployable files live here; the deployment removes them when the stack is deleted.
            removal_policy=RemovalPolicy.DESTROY,
        )

        self.headers_policy = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            # CloudFront policies are global: the stack name and region keep the name unique.
            response_headers_policy_name=Fn.join("-", [Aws.STACK_NAME, "web", Aws.REGION]),
            comment="Security headers of the delivery tracker dashboard",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(), override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(730), include_subdomains=True, override=True
                ),
            ),
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
                custom_headers=[
                    cloudfront.ResponseCustomHeader(
                        header="Permissions-Policy",
                        value="camera=(), microphone=(), geolocation=(), payment=()",
                        override=True,
                    ),
                    cloudfront.ResponseCustomHeader(
                        header="Cross-Origin-Opener-Policy", value="same-origin", override=True
                    ),
                ]
            ),
        )

        spa_fallback = [
            # The app routes in the URL fragment, but a deep link to an unknown path still gets the app.
            cloudfront.ErrorResponse(
                http_status=status,
                response_http_status=200,
                response_page_path=f"/{INDEX_DOCUMENT}",
                ttl=Duration.seconds(0),
            )
            for status in (403, 404)
        ]
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Delivery tracker dashboard",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(
                    self.bucket, origin_access_levels=[cloudfront.AccessLevel.READ]
                ),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.headers_policy,
                compress=True,
            ),
            default_root_object=INDEX_DOCUMENT,
            error_responses=spa_fallback,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            enable_logging=True,
            log_bucket=self.log_bucket,
            log_file_prefix="cloudfront/",
            # Honoured with a custom domain's certificate only: with the default cloudfront.net
            # certificate CloudFront fixes the policy at TLSv1 (hence the CFR4 suppression below).
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            **_custom_domain(self, domain_name, certificate_arn),
        )
        _suppress(
            self.distribution,
            "AwsSolutions-CFR1",
            "The dashboard serves only static files to signed-in business users wherever they travel; "
            "the data behind it is protected by Cognito sign-in on the API, so no country is blocked.",
        )
        _suppress(
            self.distribution,
            "AwsSolutions-CFR2",
            "No WAF web ACL by default: the distribution serves only public static files (the app's code), "
            "never data; attach a web ACL (a monthly fee per ACL and rule) when the dashboard needs it.",
        )
        if domain_name is None:
            _suppress(
                self.distribution,
                "AwsSolutions-CFR4",
                "The distribution uses the default cloudfront.net certificate, whose security policy "
                "CloudFront fixes at TLSv1 whatever the template says; webDomainName with webCertificateArn "
                "gives it a custom domain whose policy is TLSv1.2_2021.",
            )

    @property
    def origin(self) -> str:
        """The dashboard's browser origin: https://<webDomainName>, or e.g. https://d111111abcdef8.cloudfront.net."""
        return f"https://{self.domain_name or self.distribution.distribution_domain_name}"

    @property
    def url(self) -> str:
        """The dashboard's address: the app client's only OAuth callback and sign-out URL."""
        return f"{self.origin}/"

    def publish(
        self,
        *,
        api_url: str,
        user_pool: cognito.IUserPool,
        user_pool_client: cognito.UserPoolClient | None,
        auth_domain_prefix: str,
    ) -> None:
        """Step 2: the Cognito hosted sign-in for the dashboard, and the deployment of web/ with its config."""
        if user_pool_client is None:
            raise ValueError(
                "web=true needs the stack's own user pool: with existingUserPoolId, host web/ yourself "
                "and give its config.js your pool's app client and domain (docs/deploy.md)"
            )
        # The Cognito hosted UI signs users in (OAuth 2.0 authorization code flow with PKCE; the app
        # client's OAuth settings are in infra/api.py). The domain prefix must be unique in the region.
        self.auth_domain = user_pool.add_domain(
            "WebSignIn", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=auth_domain_prefix)
        )

        config = {
            "mode": "cognito",
            "apiUrl": api_url,
            "region": Stack.of(self).region,
            "userPoolId": user_pool.user_pool_id,
            "clientId": user_pool_client.user_pool_client_id,
            "authDomain": self.auth_domain.base_url(),
            "scopes": OAUTH_SCOPES,
        }

        # The deployment function's own role and log group, instead of the managed basic execution role.
        log_group = logs.LogGroup(
            self,
            "DeploymentLogs",
            retention=logs.RetentionDays.THREE_MONTHS,
            removal_policy=RemovalPolicy.DESTROY,
        )
        role = iam.Role(
            self,
            "DeploymentRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Uploads the dashboard's files to its bucket and invalidates the distribution",
        )
        log_group.grant_write(role)
        self.deployment = s3deploy.BucketDeployment(
            self,
            "Deployment",
            destination_bucket=self.bucket,
            sources=[
                s3deploy.Source.asset(str(WEB_DIR), exclude=WEB_EXCLUDES),
                s3deploy.Source.data(CONFIG_OBJECT, config_module(config), json_escape=True),
            ],
            # File names are not content-hashed (no build step): browsers revalidate every file.
            cache_control=[s3deploy.CacheControl.no_cache()],
            distribution=self.distribution,
            distribution_paths=["/*"],
            prune=True,
            retain_on_delete=False,
            memory_limit=DEPLOYMENT_MEMORY_MB,
            role=role,
            log_group=log_group,
        )
        self._suppress_deployment_findings(role)

    def _suppress_deployment_findings(self, role: iam.Role) -> None:
        stack = Stack.of(self)
        site_arn = stack.get_logical_id(self.bucket.node.default_child)  # type: ignore[arg-type]
        _suppress(
            role,
            "AwsSolutions-IAM5",
            "BucketDeployment's grants: read the dashboard's zipped files from the CDK asset bucket's "
            "objects, and write, list and delete (prune) the objects of the site bucket only. The wildcard "
            "actions are the object-level read, write and delete families of those two grants.",
            [
                "Action::s3:GetBucket*",
                "Action::s3:GetObject*",
                "Action::s3:List*",
                "Action::s3:Abort*",
                "Action::s3:DeleteObject*",
                f"Resource::<{site_arn}.Arn>/*",
                "Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*",
            ],
        )
        _suppress(
            role,
            "AwsSolutions-IAM5",
            "cloudfront:CreateInvalidation and cloudfront:GetInvalidation, which BucketDeployment grants on "
            "Resource '*' to invalidate the distribution after each upload; the function only ever passes "
            "this stack's distribution id.",
            ["Resource::*"],
        )
        for child in stack.node.children:
            if child.node.id.startswith("Custom::CDKBucketDeployment"):
                _suppress(
                    child,
                    "AwsSolutions-L1",
                    "The runtime of BucketDeployment's handler is chosen by aws-cdk-lib, which ships and tests "
                    "that prebuilt handler with it; it runs only during deployments, with our role, and moves "
                    "to a newer runtime with aws-cdk-lib upgrades.",
                )
