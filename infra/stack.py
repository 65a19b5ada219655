"""The one stack: storage, ingestion, reference data, sending, API and observability, wired with
grants only."""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, CfnOutput, Fn, Stack, Tags
from constructs import Construct

from infra.api import Api
from infra.events import EventsOut
from infra.exports import Exports
from infra.functions import FunctionFactory
from infra.ingestion import Ingestion
from infra.observability import Observability, ObservedResources
from infra.projection import Projection
from infra.reference_data import ReferenceData
from infra.sending import Sending
from infra.settings import DEFAULT_FRONTEND_ORIGIN, Settings
from infra.storage import Storage
from infra.web import WebHosting
from tracker import constants as c


class DeliveryTrackerStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.settings = settings
        Tags.of(self).add("service", c.SERVICE_NAME)
        if settings.stage:
            Tags.of(self).add("stage", settings.stage)

        self.storage = Storage(self, "Storage", throughput=settings.table)
        table = self.storage.table
        self.factory = FunctionFactory(
            self,
            "Functions",
            common_environment={
                c.ENV_TABLE_NAME: table.table_name,
                **settings.data_environment,
                c.ENV_CONFIGURATION_SET: settings.configuration_set_name,
                c.ENV_SENDER_ADDRESS: settings.sender_address,
                **settings.tracking_environment,
                **settings.tracing_environment,
                **settings.engagement,
                # The send API cuts messages into send jobs of this size.
                **settings.sender.job_environment,
            },
        )
        self.ingestion = Ingestion(
            self,
            "Ingestion",
            factory=self.factory,
            table=table,
            configuration_set_name=settings.configuration_set_name,
            tuning=settings.ingest,
            untracked_configuration_set_name=settings.untracked_configuration_set_name,
        )
        # The table's stream -> message counts and suppression evidence.
        self.projection = Projection(
            self, "Projection", factory=self.factory, table=table, tuning=settings.projector
        )
        # Apple's address ranges, refreshed daily into S3; the ingest function reads them.
        self.reference_data = ReferenceData(
            self,
            "ReferenceData",
            factory=self.factory,
            schedule=settings.apple_ranges_schedule,
            min_prefixes=settings.apple_ranges_min_prefixes,
        )
        self.reference_data.grant_read(self.ingestion.function)
        self.sending = Sending(
            self,
            "Sending",
            factory=self.factory,
            table=table,
            sender_address=settings.sender_address,
            ses_identity=settings.ses_identity,
            configuration_set_arn=self.ingestion.configuration_set_arn,
            tuning=settings.sender,
            untracked_configuration_set_arn=self.ingestion.untracked_configuration_set_arn,
        )
        # The hosted dashboard (`-c web=true`): its CloudFront origin is the API's CORS origin unless
        # frontendOrigin names another one (e.g. a custom domain in front of the distribution).
        self.web = (
            WebHosting(
                self,
                "Web",
                domain_name=settings.web_domain_name,
                certificate_arn=settings.web_certificate_arn,
            )
            if settings.web_enabled
            else None
        )
        frontend_origin = settings.frontend_origin
        if self.web is not None and frontend_origin == DEFAULT_FRONTEND_ORIGIN:
            frontend_origin = self.web.origin
        self.api = Api(
            self,
            "Api",
            factory=self.factory,
            table=table,
            send_queue=self.sending.queue,
            frontend_origin=frontend_origin,
            existing_user_pool_id=settings.existing_user_pool_id,
            dashboard_url=self.web.url if self.web is not None else None,
        )
        # Emails carry a one-click unsubscribe link to the API (or the operator's own domain for it).
        self.sending.function.add_environment(
            c.ENV_UNSUBSCRIBE_BASE_URL, settings.unsubscribe_base_url or self.api.rest_api.url
        )
        self.sending.function.add_environment(
            c.ENV_UNSUBSCRIBE_SECRET_ARN, self.api.unsubscribe_secret.secret_arn
        )
        self.api.unsubscribe_secret.grant_read(self.sending.function)
        # Every recipient status change on an event bus, and the tenants' webhooks (docs/events.md).
        self.events_out = EventsOut(
            self,
            "EventsOut",
            factory=self.factory,
            table=table,
            bus_name=settings.prefixed(c.EVENT_BUS_NAME),
            resource_prefix=settings.prefixed(c.WEBHOOK_RESOURCE_PREFIX),
            registry_name=settings.prefixed(c.SERVICE_NAME),
        )
        self.events_out.grant_webhook_admin(self.api.send_function)
        # CSV exports: POST /exports (send function) -> queue -> worker -> S3 <- presigned GET (read function).
        self.exports = Exports(
            self,
            "Exports",
            factory=self.factory,
            table=table,
            access_log_bucket=self.reference_data.log_bucket,
        )
        self.exports.grant_start(self.api.send_function)
        self.exports.grant_download(self.api.read_function)
        self.observability = Observability(
            self,
            "Observability",
            resources=ObservedResources(
                table=table,
                events_queue=self.ingestion.queue,
                events_dlq=self.ingestion.dead_letter_queue,
                send_queue=self.sending.queue,
                send_dlq=self.sending.dead_letter_queue,
                ingest_function=self.ingestion.function,
                projector_function=self.projection.function,
                projector_failures=self.projection.failure_queue,
                sender_function=self.sending.function,
                read_api_function=self.api.read_function,
                send_api_function=self.api.send_function,
                apple_ranges_function=self.reference_data.function,
                rest_api=self.api.rest_api,
                events_function=self.events_out.function,
                events_failures=self.events_out.failure_queue,
                webhook_dlq=self.events_out.dead_letter_queue,
                webhook_failures_function=self.events_out.failures_function,
                exporter_function=self.exports.function,
                export_queue=self.exports.queue,
                export_dlq=self.exports.dead_letter_queue,
            ),
            alarm_email=settings.alarm_email,
            # Dashboards are global to the account: the (stage-prefixed) stack name and the region.
            dashboard_name=f"{settings.stack_name}-{Aws.REGION}",
            throughput=settings.table,
        )

        if self.web is not None:
            self.web.publish(
                api_url=self.api.rest_api.url,
                user_pool=self.api.user_pool,
                user_pool_client=self.api.user_pool_client,
                # Unique in the region: the default carries the stage and the account id.
                auth_domain_prefix=settings.web_auth_domain_prefix
                or Fn.join("-", [settings.prefixed(c.SERVICE_NAME), Aws.ACCOUNT_ID]),
            )
            CfnOutput(self, "WebUrl", value=f"{self.web.origin}/")
            CfnOutput(self, "WebSignInDomain", value=self.web.auth_domain.base_url())

        CfnOutput(self, "ApiUrl", value=self.api.rest_api.url)
        CfnOutput(self, "UserPoolId", value=self.api.user_pool.user_pool_id)
        if self.api.user_pool_client is not None:
            CfnOutput(self, "UserPoolClientId", value=self.api.user_pool_client.user_pool_client_id)
        CfnOutput(self, "TableName", value=table.table_name)
        CfnOutput(self, "ConfigurationSetName", value=settings.configuration_set_name)
        # Where `make quarantine ARGS=redrive ...` sends quarantined records back to (EVENTS_QUEUE_URL).
        CfnOutput(self, "EventsQueueUrl", value=self.ingestion.queue.queue_url)
        CfnOutput(self, "EventsDeadLetterQueueUrl", value=self.ingestion.dead_letter_queue.queue_url)
        CfnOutput(self, "SendDeadLetterQueueUrl", value=self.sending.dead_letter_queue.queue_url)
        # Where the projector reports the stream batches it gave up (docs/operations.md).
        CfnOutput(self, "ProjectorFailedBatchesQueueUrl", value=self.projection.failure_queue.queue_url)
        # Status events: the bus, its archive (replays) and the webhook dead-letter queue.
        CfnOutput(self, "EventBusName", value=self.events_out.bus.event_bus_name)
        CfnOutput(self, "EventArchiveName", value=self.events_out.archive.archive_name)
        CfnOutput(self, "WebhookDeadLetterQueueUrl", value=self.events_out.dead_letter_queue.queue_url)
        CfnOutput(self, "DashboardName", value=self.observability.dashboard.dashboard_name)
        # Where Apple's refreshed ranges are, and the function to run for a refresh now (docs/operations.md).
        CfnOutput(self, "AppleRangesBucketName", value=self.reference_data.bucket.bucket_name)
        CfnOutput(self, "AppleRangesFunctionName", value=self.reference_data.function.function_name)
        CfnOutput(self, "ExportsBucketName", value=self.exports.bucket.bucket_name)
        CfnOutput(self, "ExportsDeadLetterQueueUrl", value=self.exports.dead_letter_queue.queue_url)
