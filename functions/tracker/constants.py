"""Names shared by the CDK stack, the Lambda handlers and local mode.

Everything that must agree between infrastructure and code (table keys, index
names, queue names, SES tag names, environment variables) is defined once here.
"""

from __future__ import annotations

from dataclasses import dataclass

SERVICE_NAME = "delivery-tracker"
METRICS_NAMESPACE = "DeliveryTracker"

# --- DynamoDB single table -------------------------------------------------
TABLE_PARTITION_KEY = "pk"
TABLE_SORT_KEY = "sk"
TTL_ATTRIBUTE = "expires_at"
ITEM_TYPE_ATTRIBUTE = "item_type"


@dataclass(frozen=True)
class IndexSpec:
    name: str
    partition_key: str
    sort_key: str
    # Non-key attributes the index carries (none: KEYS_ONLY). An item's update writes an index entry
    # only when one of its keys or these attributes changes, so an open or a click writes none;
    # a page reads its keys from the index and the items with one BatchGetItem. Every index
    # carries the item type, which never changes: PynamoDB filters a model's queries on it.
    included: tuple[str, ...] = (ITEM_TYPE_ATTRIBUTE,)


# Overloaded GSIs; docs/data-model.md lists which item types populate which.
# messages newest first; customer history (filtered by kind, which never changes)
GSI_LISTS = IndexSpec("gsi1", "gsi1pk", "gsi1sk", included=(ITEM_TYPE_ATTRIBUTE, "kind"))
GSI_LOOKUP = IndexSpec("gsi2", "gsi2pk", "gsi2sk")  # messages by kind; recipient by SES message id
GSI_DOCUMENTS = IndexSpec("gsi3", "gsi3pk", "gsi3sk")  # invoice / payment logs
# The attention queue (sparse: only messages that need or will need attention), by when it started;
# kind filters the documents' queue (invoices and receipts share one).
GSI_ATTENTION = IndexSpec("gsi4", "gsi4pk", "gsi4sk", included=(ITEM_TYPE_ATTRIBUTE, "kind"))
GLOBAL_INDEXES = (GSI_LISTS, GSI_LOOKUP, GSI_DOCUMENTS, GSI_ATTENTION)

# --- Environment variables read by the handlers (set by the CDK helper) ----
ENV_TABLE_NAME = "TABLE_NAME"
# How long the table keeps each kind of item (its TTL attribute; docs/data-model.md "Retention").
ENV_MESSAGE_RETENTION_DAYS = "MESSAGE_RETENTION_DAYS"  # the message header: its counts and subject
ENV_RECIPIENT_RETENTION_DAYS = "RECIPIENT_RETENTION_DAYS"  # recipients, their events, seen-event markers
ENV_CONTENT_RETENTION_DAYS = "CONTENT_RETENTION_DAYS"  # the subject and body the sender sends
ENV_SEND_QUEUE_URL = "SEND_QUEUE_URL"
# The SES events queue (the ingest function's source): where `make quarantine` re-drives records to.
ENV_EVENTS_QUEUE_URL = "EVENTS_QUEUE_URL"
ENV_CONFIGURATION_SET = "SES_CONFIGURATION_SET"
ENV_SENDER_ADDRESS = "SENDER_ADDRESS"
# "true": the handlers record X-Ray SDK subsegments (tracker.handlers.tracing); otherwise Lambda's
# active tracing alone. Set from the context value CONTEXT_SDK_TRACING.
ENV_SDK_TRACING = "SDK_TRACING"
CONTEXT_SDK_TRACING = "sdkTracing"
ENV_CURSOR_SECRET = "CURSOR_SECRET"  # noqa: S105 - the name of a variable, not a secret

DEFAULT_MESSAGE_RETENTION_DAYS = 730
# Was the event log's retention (EVENT_LOG_RETENTION_DAYS) when each event was an item of its own;
# the events now live on their recipient, so they expire with it.
DEFAULT_RECIPIENT_RETENTION_DAYS = 400
# Only the sender reads the content; longer than a send job can wait (the queue keeps it 7 days).
DEFAULT_CONTENT_RETENTION_DAYS = 30
MAX_RETENTION_DAYS = 3650
# Hours after its first send a message with a recipient still without Delivery counts as stuck.
ENV_ATTENTION_STUCK_HOURS = "ATTENTION_STUCK_HOURS"
DEFAULT_ATTENTION_STUCK_HOURS = 24
# A message with at most this many recipients lists each one concerned (its failed and pending
# ones) on its item; a larger one only counts them (the Recipients tab's status filter lists them).
LISTED_RECIPIENTS_MAX = 20  # here, not in the domain: the sender's import should not load it

# --- Resource names (CDK construct ids and local-mode names) --------------
TABLE_NAME = "delivery-tracker"
EVENTS_TOPIC_NAME = "delivery-tracker-ses-events"
EVENTS_QUEUE_NAME = "delivery-tracker-ses-events"
EVENTS_DLQ_NAME = "delivery-tracker-ses-events-dlq"
SEND_QUEUE_NAME = "delivery-tracker-send"
SEND_DLQ_NAME = "delivery-tracker-send-dlq"
CONFIGURATION_SET_NAME = "delivery-tracker"
# The second set: the same event destination without OPEN and CLICK, so SES adds no open pixel and
# rewrites no link (tracking off for the kinds listed in UNTRACKED_KINDS; tracker.domain.tracking).
UNTRACKED_CONFIGURATION_SET_NAME = "delivery-tracker-untracked"
MAX_RECEIVE_COUNT = 5

# --- SES message tags that correlate an event with our recipient ----------
# SES tag values allow only ASCII letters, digits, '_' and '-', so every id we
# put in a tag is restricted to those characters (tracker.domain.ids).
TAG_TENANT = "tracker_tenant"
TAG_MESSAGE = "tracker_message"
TAG_RECIPIENT = "tracker_recipient"

# --- Metrics (Powertools EMF, namespace METRICS_NAMESPACE) ----------------
METRIC_EVENTS_APPLIED = "EventsApplied"
METRIC_DUPLICATE_EVENTS = "DuplicateEvents"
METRIC_QUARANTINED_EVENTS = "QuarantinedEvents"
METRIC_RETRIED_EVENTS = "RetriedEvents"
METRIC_SES_BOUNCES = "SesBounces"
METRIC_SES_COMPLAINTS = "SesComplaints"
METRIC_SES_DELIVERIES = "SesDeliveries"
# The projector (the table's stream → message counts, suppression evidence).
METRIC_CHANGES_COUNTED = "RecipientChangesCounted"
METRIC_CHANGES_SKIPPED = "RecipientChangesSkipped"  # nothing to count, or counted already (a replay)
METRIC_CHANGES_UNREADABLE = "RecipientChangesUnreadable"  # quarantined
METRIC_PROJECTION_RETRIES = "ProjectionRetries"  # batches restarted from a failed record
METRIC_SUPPRESSION_EVIDENCE = "SuppressionEvidence"
# A tenant's deliverability health when it is not ok (1 warning, 2 at risk; GET /stats/health).
METRIC_TENANT_DELIVERABILITY = "TenantDeliverabilityState"
TENANT_METRIC_DIMENSION = "tenant"

# --- Lambda handler entry points (module path inside the functions/ asset) --
INGEST_HANDLER = "tracker.handlers.ingest.handler"
PROJECTOR_HANDLER = "tracker.handlers.projector.handler"
SENDER_HANDLER = "tracker.handlers.sender.handler"
# The whole API in one function: local mode's gateway, the tests and the bench. Deployed, the API
# is two functions built from the same app definition, each registering only its own routes (a
# smaller cold start; the read one has read-only grants).
API_HANDLER = "tracker.handlers.api.handler"
READ_API_HANDLER = "tracker.handlers.read_api.handler"
SEND_API_HANDLER = "tracker.handlers.send_api.handler"

# --- Set by the infrastructure ----------------------------------------------
# The API function gets the ARN of a generated Secrets Manager secret (the cursor-signing key), never
# the key itself; the handler reads the secret value at cold start (e.g. Powertools parameters).
ENV_CURSOR_SECRET_ARN = "CURSOR_SECRET_ARN"  # noqa: S105 - the name of a variable, not a secret
# The browser origin allowed by CORS (API Gateway preflight and the handler's CORS headers).
ENV_ALLOWED_ORIGIN = "ALLOWED_ORIGIN"
# The Cognito custom attribute that carries the tenant, and the claim it appears as in the ID token
# (API Gateway Cognito authorizer: event["requestContext"]["authorizer"]["claims"][TENANT_CLAIM]).
TENANT_ATTRIBUTE = "tenant_id"
TENANT_CLAIM = "custom:tenant_id"
# Powertools Metrics adds this dimension (value: POWERTOOLS_SERVICE_NAME) to every metric it emits.
METRICS_SERVICE_DIMENSION = "service"

# --- The send path --------------------------------------------------------------
# Optional tuning of the send path and of the suppression rules (defaults in tracker.settings).
ENV_SEND_CHUNK_SIZE = "SEND_CHUNK_SIZE"  # recipients per send job (one SQS message)
# Pacing of the sender (tracker.logic.pacing): the rate the whole stack may use (unset: the account's
# SES MaxSendRate from GetAccount), how many sender invocations share it, SES calls in flight in each.
ENV_SEND_RATE = "SEND_RATE"
ENV_SENDER_CONCURRENCY = "SENDER_CONCURRENCY"
ENV_SEND_PARALLEL_CALLS = "SEND_PARALLEL_CALLS"
# Their defaults (infra/settings.py deploys them, the bench measures them): 1,000 sends/s at ~60 ms
# per recipient (SES ~50 ms + two DynamoDB writes) need ~60 calls in flight; 4 senders x 32 leave
# room for a job's reads and its last calls, when fewer are in flight (the bench: 16 reached ~73%
# of the rate, 32 ~98%). 50 recipients a job fit one invocation down to 2.5 sends/s per sender (an
# account at 14/s over 4 senders: 3.5).
DEFAULT_SEND_JOB_SIZE = 50
DEFAULT_SENDER_CONCURRENCY = 4
DEFAULT_SEND_PARALLEL_CALLS = 32
# The most SES calls one sender invocation makes at once (the sendParallelCalls context value's bound).
MAX_SEND_PARALLEL_CALLS = 64
# Connections each AWS client keeps: at least the most threads that call through one client at
# once (the sender's parallel SES calls; ingest's 16 commit threads). A smaller pool closes the
# extra connections after every call, so each such call opens a new TLS connection.
CLIENT_POOL_CONNECTIONS = MAX_SEND_PARALLEL_CALLS
ENV_SUPPRESS_PERMANENT_BOUNCES = "SUPPRESS_AFTER_PERMANENT_BOUNCES"
ENV_SUPPRESS_COMPLAINTS = "SUPPRESS_AFTER_COMPLAINTS"
ENV_SUPPRESS_TRANSIENT_BOUNCES = "SUPPRESS_AFTER_TRANSIENT_BOUNCES"
ENV_SUPPRESS_TRANSIENT_WINDOW_DAYS = "SUPPRESS_TRANSIENT_WINDOW_DAYS"

METRIC_EMAILS_SENT = "EmailsSent"
METRIC_SEND_FAILURES = "SendFailures"
METRIC_SENDS_DROPPED = "SendsDropped"  # suppressed between POST /messages and the send
METRIC_SEND_THROTTLED = "SendThrottled"
METRIC_SEND_JOBS_RETRIED = "SendJobsRetried"

# --- Tracking per kind and one-click unsubscribe (docs/unsubscribe.md) ---------------------------
ENV_UNTRACKED_CONFIGURATION_SET = "SES_UNTRACKED_CONFIGURATION_SET"
ENV_UNTRACKED_KINDS = "UNTRACKED_KINDS"  # kinds sent without open/click tracking, e.g. "invoice"
CONTEXT_UNTRACKED_KINDS = "untrackedKinds"
# Where an email's List-Unsubscribe link points (the API's public /unsubscribe/{token} route).
ENV_UNSUBSCRIBE_BASE_URL = "UNSUBSCRIBE_BASE_URL"
CONTEXT_UNSUBSCRIBE_BASE_URL = "unsubscribeBaseUrl"  # e.g. a custom domain in front of the API
# The key that signs unsubscribe links: the ARN of a generated Secrets Manager secret (AWS), or the
# key itself (local mode, tests).
ENV_UNSUBSCRIBE_SECRET_ARN = "UNSUBSCRIBE_SECRET_ARN"  # noqa: S105 - the name of a variable
ENV_UNSUBSCRIBE_SECRET = "UNSUBSCRIBE_SECRET"  # noqa: S105 - the name of a variable

# --- Apple's address ranges (the engagement classifier's Apple MPP rule, docs/engagement.md) ---
# Apple's published iCloud Private Relay egress list (RFC 8805 geofeed), refreshed daily into S3.
APPLE_RANGES_URL = "https://mask-api.icloud.com/egress-ip-ranges.csv"
# The stored compact form; its format version is in the name, so a new format can be written beside
# the old one while functions that read the old one are still running.
APPLE_RANGES_KEY = "engagement/apple-ranges.v1.gz"
APPLE_RANGES_HANDLER = "tracker.handlers.apple_ranges.handler"
ENV_APPLE_RANGES_BUCKET = "APPLE_RANGES_BUCKET"  # unset (local mode, tests): the shipped snapshot
ENV_APPLE_RANGES_KEY = "APPLE_RANGES_KEY"
ENV_APPLE_RANGES_URL = "APPLE_RANGES_URL"
# A download with fewer prefixes than this is refused (a truncated list never replaces a good one).
ENV_APPLE_RANGES_MIN_PREFIXES = "APPLE_RANGES_MIN_PREFIXES"
ENV_APPLE_RANGES_MAX_BYTES = "APPLE_RANGES_MAX_BYTES"  # the largest download accepted
ENV_APPLE_RANGES_RELOAD_HOURS = "APPLE_RANGES_RELOAD_HOURS"  # a warm ingest function reads it again
DEFAULT_APPLE_RANGES_MIN_PREFIXES = 100_000

METRIC_APPLE_RANGES_REFRESHED = "AppleRangesRefreshed"
METRIC_APPLE_RANGES_REFRESH_FAILED = "AppleRangesRefreshFailed"
METRIC_APPLE_RANGES_PREFIXES = "AppleRangesPrefixes"  # prefixes of the list stored by the refresh

# --- CDK context values an operator tunes (docs/deploy.md, "Context values") -----------
# The ingest function: memory (CPU scales with it) and the events queue's maximum concurrency;
# reserved concurrency is optional (unset: the account's unreserved pool).
CONTEXT_INGEST_MEMORY_MB = "ingestMemoryMb"
CONTEXT_INGEST_MAX_CONCURRENCY = "ingestMaxConcurrency"
CONTEXT_INGEST_RESERVED_CONCURRENCY = "ingestReservedConcurrency"
# Their defaults, defined once here: the stack deploys them (infra/ingestion.py, infra/settings.py) and
# the bench's Lambda model holds the throughput goal at them, so the two cannot drift apart.
# The handler is CPU-bound (parsing, classifying, encoding the recipients' facts): Lambda gives
# 1,769 MB one full vCPU, and more memory adds no CPU that one thread uses.
INGEST_MEMORY_MB = 1769
# Concurrent batches: 8,000 events/s needs concurrency >= 8,000 x (one batch's duration) / 100. The
# bench's model puts a batch at ~135-160 ms (~45 ms of DynamoDB round trips + 90-115 ms of CPU,
# depending on the machine's load), so 13 = ceil(80 x 0.157) meets the goal with the slowest
# figure. It also bounds the write rate on the table: ~1 write unit per event, ~8,300-9,700 WRU/s at
# 13, below the table's default warm throughput (10,000, `tableWarmWriteUnits`); past that DynamoDB
# adapts (throttling meanwhile) up to `tableMaxWriteUnits`. A backlog waits in the queue (alarmed on
# its age) instead. Raise the warm throughput with this value (docs/operations.md, "Tuning the table").
INGEST_MAX_CONCURRENCY = 13
# The projector's reading of the table's stream: records per batch, how long Lambda gathers a
# batch, and concurrent batches per shard.
CONTEXT_PROJECTOR_BATCH_SIZE = "projectorBatchSize"
CONTEXT_PROJECTOR_BATCHING_WINDOW_SECONDS = "projectorBatchingWindowSeconds"
CONTEXT_PROJECTOR_PARALLELIZATION_FACTOR = "projectorParallelizationFactor"
# The sender: concurrent invocations (the send queue's maximum concurrency), recipients per job,
# SES calls in flight per invocation, and an optional cap on the send rate (sends/s, all senders).
CONTEXT_SENDER_MAX_CONCURRENCY = "senderMaxConcurrency"
CONTEXT_SEND_JOB_SIZE = "sendJobSize"
CONTEXT_SEND_PARALLEL_CALLS = "sendParallelCalls"
CONTEXT_SEND_RATE = "sendRate"

# --- Deployment --------------------------------------------------------------
# The deployed stack's name; a `stage` context value prefixes it (and every other name that must be
# unique per account and region), so stages deploy side by side. Local mode uses no stage.
STACK_NAME = "DeliveryTracker"

# --- Events out: the event bus and the tenants' webhooks (docs/events.md) -------------------------
# Every recipient status (or engagement) change, put on the bus by the events function, which reads
# the table's stream on its own event source mapping (a bus outage never stalls the counts).
EVENT_BUS_NAME = "delivery-tracker-events"
EVENT_SOURCE = "delivery-tracker"
EVENT_DETAIL_TYPE = "Recipient status changed"
EVENTS_HANDLER = "tracker.handlers.events.handler"
WEBHOOK_FAILURES_HANDLER = "tracker.handlers.webhook_failures.handler"
ENV_EVENT_BUS_NAME = "EVENT_BUS_NAME"
# Each tenant's connection, API destination and rule are named "<prefix><hash of the tenant>"; the
# webhook routes' permissions are scoped to names with this prefix.
ENV_WEBHOOK_PREFIX = "WEBHOOK_RESOURCE_PREFIX"
WEBHOOK_RESOURCE_PREFIX = "tracker-webhook-"
ENV_WEBHOOK_ROLE_ARN = "WEBHOOK_ROLE_ARN"  # the role EventBridge invokes API destinations with
ENV_WEBHOOK_DLQ_ARN = "WEBHOOK_DLQ_ARN"  # where EventBridge puts an event it gave up delivering
# Local mode only (the stack never sets it): http://127.0.0.1:<port> and http://localhost:<port>
# webhook targets are accepted.
ENV_WEBHOOK_ALLOW_LOCAL = "WEBHOOK_ALLOW_LOCAL_TARGETS"
WEBHOOK_DLQ_NAME = "delivery-tracker-webhook-dlq"
# The header the API destination sends with every delivery: the secret the tenant got once.
WEBHOOK_SECRET_HEADER = "X-Tracker-Webhook-Secret"  # noqa: S105 - a header name, not a secret
METRIC_EVENTS_PUBLISHED = "StatusEventsPublished"
METRIC_EVENTS_PUT_FAILED = "StatusEventsPutFailed"  # entries PutEvents refused (retried by the stream)
METRIC_WEBHOOK_DELIVERY_FAILURES = "WebhookDeliveryFailures"  # events EventBridge gave up on
# --- CSV exports (docs/exports.md) ----------------------------------------------------------------
# POST /exports queues a job; the export worker writes the CSV to the exports bucket, which the
# read function presigns a GET of (GET /exports/{id}).
EXPORT_HANDLER = "tracker.handlers.exporter.handler"
EXPORT_QUEUE_NAME = "delivery-tracker-exports"
EXPORT_DLQ_NAME = "delivery-tracker-exports-dlq"
EXPORT_BUCKET_NAME = "delivery-tracker-exports"  # local mode's; the stack's bucket gets a generated name
ENV_EXPORT_QUEUE_URL = "EXPORT_QUEUE_URL"
ENV_EXPORT_BUCKET = "EXPORT_BUCKET"
# The bucket's objects and the job items expire after this many days; a download URL after minutes.
DEFAULT_EXPORT_RETENTION_DAYS = 7
EXPORT_URL_TTL_MINUTES = 15
