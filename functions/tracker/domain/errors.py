"""Domain exceptions. Handlers map them to HTTP (API) or to retry/quarantine (ingest)."""

from __future__ import annotations

from collections.abc import Sequence


class TrackerError(Exception):
    """Base of every error the domain raises on purpose."""


class InvalidEventError(TrackerError):
    """An SES event that can never be applied: malformed JSON, wrong shape, unknown type.

    ``reason`` is a short machine-friendly code stored with the quarantined record.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class TransientStoreError(TrackerError):
    """The data store failed in a way that a later retry may fix (throttling, 5xx, conflicts)."""


class UnwritableError(TrackerError):
    """The store refused a write for good (an item over DynamoDB's limits, an invalid value):
    retrying cannot help. ``keys`` are the records it concerns, when the store can tell."""

    def __init__(self, detail: str, keys: Sequence[object] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.keys = tuple(keys)


class NotFoundError(TrackerError):
    """The item does not exist for this tenant (or belongs to another one)."""


class ConflictError(TrackerError):
    """A write lost an optimistic-concurrency race or violates a uniqueness rule."""


class AddressSuppressedError(ConflictError):
    """A resend to an address that is suppressed for the tenant (lift it first)."""


class AlreadyResentError(ConflictError):
    """The recipient was resent already (by another request)."""


class ContentExpiredError(ConflictError):
    """A resend of a message whose content the table no longer keeps (CONTENT_RETENTION_DAYS)."""


class InvalidRequestError(TrackerError):
    """The request is malformed; ``field`` names the offending input (dotted path) when known."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class WebhookTargetRefusedError(InvalidRequestError):
    """A webhook URL that is not an HTTPS URL of a public host (tracker.domain.webhooks)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="url")


class InvalidCursorError(InvalidRequestError):
    """A pagination cursor that was forged, tampered with, expired or issued for another list."""

    def __init__(self, message: str = "the cursor is invalid for this list") -> None:
        super().__init__(message, field="cursor")


class UnauthenticatedError(TrackerError):
    """No verified identity (or no tenant claim in it)."""


class PermissionDeniedError(TrackerError):
    """A verified identity that may not do this."""


class RequestMismatchError(TrackerError):
    """An idempotency key reused with a different request body."""


class RateLimitedError(TrackerError):
    """The caller or a downstream service is throttling; retry later."""


class SendError(Exception):
    """Why SES did not take one message (raised by the Mailer port, handled by the sender)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SendThrottledError(SendError):
    """SES throttled the call (sending rate or quota); it did not accept the message."""


class SendUnavailableError(SendError):
    """SES answered with a server error or could not be reached; it did not accept the message."""


class RecipientRejectedError(SendError):
    """SES refused this message for this recipient (bad address, rejected content): permanent."""


class SendingBlockedError(SendError):
    """The account or configuration cannot send at all (paused, suspended, unverified domain,
    missing configuration set): permanent for every recipient of the job."""


class SendOutcomeUnknownError(SendError):
    """The request may have reached SES but no answer came back: it may or may not have been sent."""


class ReferenceDataError(TrackerError):
    """Reference data could not be fetched or kept: Apple's published address list (download,
    size, TLS, HTTP status) or its stored copy. Its message says which and why."""


class UnreadableChangeError(ValueError):
    """A stream record of a recipient whose images cannot be decoded: it is kept (quarantined)
    and counted, never retried (it would block its stream shard)."""
