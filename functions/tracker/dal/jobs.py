"""The body of a send job on SQS (one message of the send queue).

A job is a few fields, so it is checked by hand rather than with pydantic: the sender reads one per
record and needs nothing else that pydantic offers, and without it the sender function does not
import pydantic at all (nor the send routes' models, which would also build every model of the send
routes and load ``email-validator``). The JSON is the same as a pydantic model of these fields would
write (``{"v":1,"tenant_id":...,"message_id":...,"recipient_ids":[...]}``, compact, in this order),
and reading applies the same rules: an object with exactly these keys (``v`` optional, 1), tag-safe
ids, 1 to ``MAX_JOB_RECIPIENTS`` recipients; ``kind`` and ``tracking`` (the message's, copied at
its creation) are optional.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tracker.domain.ids import TAG_SAFE
from tracker.domain.messages import MAX_JOB_RECIPIENTS, SendJob
from tracker.domain.tracking import Tracking

# Tenant ids (from the token) and our generated ids are already SES-tag-safe; a job holds at most
# MAX_JOB_RECIPIENTS recipient ids (the configured chunk size is capped to it).
JOB_VERSION = 1
_FIELDS = frozenset({"v", "tenant_id", "message_id", "recipient_ids"})
# Optional: the message's kind and tracking (tracker.domain.tracking), copied at its creation.
_OPTIONAL = frozenset({"v", "kind", "tracking"})
_KINDS = frozenset({"email", "invoice", "receipt"})


class InvalidJobError(ValueError):
    """A send job body that is not one we write (the record is retried, then goes to the DLQ)."""


def _tag_safe(value: Any, where: str) -> str:
    if not isinstance(value, str) or TAG_SAFE.fullmatch(value) is None:
        raise InvalidJobError(f"{where}: expected 1-128 of A-Z a-z 0-9 _ -, got {value!r:.80}")
    return value


@dataclass(frozen=True)
class SendJobBody:
    """A few recipient ids of one message; the content stays in DynamoDB, so a job is tiny."""

    tenant_id: str
    message_id: str
    recipient_ids: tuple[str, ...]
    v: int = JOB_VERSION
    kind: str | None = None
    tracking: str = Tracking.ON.value

    def __post_init__(self) -> None:
        if self.v != JOB_VERSION:
            raise InvalidJobError(f"v: expected {JOB_VERSION}, got {self.v!r:.80}")
        object.__setattr__(self, "v", JOB_VERSION)  # 1.0 or true (as pydantic's lax mode reads them) is 1
        _tag_safe(self.tenant_id, "tenant_id")
        _tag_safe(self.message_id, "message_id")
        if (
            not isinstance(self.recipient_ids, tuple)
            or not 1 <= len(self.recipient_ids) <= MAX_JOB_RECIPIENTS
        ):
            raise InvalidJobError(f"recipient_ids: expected 1-{MAX_JOB_RECIPIENTS} ids")
        for index, recipient in enumerate(self.recipient_ids):
            _tag_safe(recipient, f"recipient_ids.{index}")
        if self.kind is not None and self.kind not in _KINDS:
            raise InvalidJobError(f"kind: expected one of {', '.join(sorted(_KINDS))}, got {self.kind!r:.80}")
        if self.tracking not in {t.value for t in Tracking}:
            raise InvalidJobError(
                f"tracking: expected one of on, off, clicks_only, got {self.tracking!r:.80}"
            )

    @classmethod
    def from_job(cls, job: SendJob) -> SendJobBody:
        return cls(
            tenant_id=job.tenant_id,
            message_id=job.message_id,
            recipient_ids=tuple(job.recipient_ids),
            kind=job.kind,
            tracking=job.tracking.value,
        )

    @classmethod
    def from_dict(cls, document: Any) -> SendJobBody:
        if not isinstance(document, dict):
            raise InvalidJobError(f"expected a JSON object, got {type(document).__name__}")
        unknown = set(document) - _FIELDS - _OPTIONAL
        if unknown:
            raise InvalidJobError(f"unexpected fields: {', '.join(sorted(map(str, unknown)))}")
        missing = sorted(_FIELDS - _OPTIONAL - set(document))
        if missing:
            raise InvalidJobError(f"missing fields: {', '.join(missing)}")
        recipient_ids = document["recipient_ids"]
        if not isinstance(recipient_ids, list):
            raise InvalidJobError("recipient_ids: expected a list")
        return cls(
            tenant_id=document["tenant_id"],
            message_id=document["message_id"],
            recipient_ids=tuple(recipient_ids),
            v=document.get("v", JOB_VERSION),
            kind=document.get("kind"),
            tracking=document.get("tracking", Tracking.ON.value),
        )

    @classmethod
    def from_json(cls, body: str | bytes) -> SendJobBody:
        try:
            document = json.loads(body)
        except (ValueError, TypeError, RecursionError) as error:
            raise InvalidJobError(f"not JSON: {error}") from None
        return cls.from_dict(document)

    def to_json(self) -> str:
        document: dict[str, Any] = {
            "v": self.v,
            "tenant_id": self.tenant_id,
            "message_id": self.message_id,
            "recipient_ids": list(self.recipient_ids),
        }
        if self.kind is not None:
            document["kind"] = self.kind
        if self.tracking != Tracking.ON.value:
            document["tracking"] = self.tracking
        return json.dumps(
            document,
            separators=(",", ":"),
            ensure_ascii=False,
        )

    def to_job(self) -> SendJob:
        return SendJob(
            self.tenant_id, self.message_id, tuple(self.recipient_ids), self.kind, Tracking(self.tracking)
        )
