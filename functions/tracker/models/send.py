"""Request and response models of the send routes (a send job's SQS body is in ``tracker.dal.jobs``).

Limits, and why:

* **500 recipients per request.** The answer lists every recipient and is stored whole as the
  Idempotency-Key record, one DynamoDB item (≤ 400 KB): 500 x (254-character address +
  128-character customer id + the rest) stays near 230 KB in the worst case. Creating the message
  also writes every recipient before answering (20 batch writes for 500), far inside API
  Gateway's 29-second integration timeout. Larger audiences are several requests.
* **Subject: 1-998 characters, one line, no control characters** (``tracker.domain.text``:
  Unicode Cc, Zl, Zp). 998 is RFC 5322's line-length limit; a line break would be a header
  injection. TAB is refused too: RFC 5322 allows it in a header only as folding white space, mail
  clients and our dashboard render it differently (or not at all), and nothing a person types
  into a subject field produces one; a client replaces it with a space. Names follow the same rule.
* **Body: ``text`` and/or ``html``, together at most 256 KiB (UTF-8).** The body is stored once, in
  a DynamoDB content item (≤ 400 KB with its keys and subject), and send jobs reference it: SQS
  messages are limited to 256 KB, so a job could never carry it, and SES's own 40 MB limit is far
  above anything a class-management business sends without attachments.
* **Ids** (customer, invoice, payment) match ``ID_PATTERN``: they end up in DynamoDB keys.
* **Addresses**: real syntax (email-validator in strict mode, no DNS lookups): RFC 5321 lengths
  (local part at most 64 octets, the address at most 254), no display name (``Ann <a@x.io>``:
  the name goes in ``name``), no quoted local part or IP literal. SES needs a 7-bit local part
  (no SMTPUTF8), so a non-ASCII one is refused; an internationalized domain is accepted and
  stored in its ASCII form (``a@bücher.ch`` → ``a@xn--bcher-kva.ch``, by ``normalize_email``),
  stored and compared lowercase. An address listed twice in one request
  is refused (400 naming the second one), not silently merged: the two entries may carry different
  customer ids, and only the client knows which one it meant.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, ValidationInfo, WithJsonSchema, field_validator
from pydantic_core import PydanticCustomError

from tracker.domain.erasure import ErasureRecord
from tracker.domain.ids import normalize_email
from tracker.domain.messages import CreatedMessage, MessageContent, MessageDraft, RecipientDraft
from tracker.domain.status import Status
from tracker.domain.suppression import Evidence, HistoryEntry, SuppressionRecord
from tracker.domain.text import has_control_characters
from tracker.models.api import ID_PATTERN, NEXT_CURSOR_DESCRIPTION, ApiModel, MessageKind

MAX_RECIPIENTS = 500
MAX_SUBJECT_CHARS = 998
MAX_BODY_BYTES = 256 * 1024
MAX_NAME_CHARS = 200
MAX_ADDRESS_OCTETS = 254  # RFC 5321 4.5.3.1.3: a 256-octet path less its angle brackets


def _sendable_address(value: str) -> str:
    """An address SES can send to, in the form we store (``normalize_email``)."""
    # email-validator loads dnspython: imported by the first address, not on every cold start.
    from email_validator import EmailNotValidError, validate_email

    address = value.strip()
    local_part, at, _ = address.rpartition("@")
    if at and not local_part.isascii():
        raise PydanticCustomError(
            "email_local_part_not_ascii",
            "the part before the @ must be ASCII: SES cannot send to an internationalized mailbox name",
        )
    try:
        # strict: RFC 5321's 64-octet local part too; no display name ("Ann <a@x.io>"), no quoted
        # local part, no IP literal; IDNA domains are accepted (email-validator encodes them).
        validate_email(address, check_deliverability=False, strict=True, allow_smtputf8=False)
    except EmailNotValidError as error:
        raise PydanticCustomError(
            "value_error", "value is not a valid email address: {reason}", {"reason": str(error)}
        ) from None
    return normalize_email(address)


EmailAddress = Annotated[
    str,
    AfterValidator(_sendable_address),
    WithJsonSchema(
        {
            "type": "string",
            "format": "email",
            "maxLength": MAX_ADDRESS_OCTETS,
            "description": (
                "An address SES can send to (RFC 5321 lengths, no display name). A domain may be "
                "internationalized (answered and stored in its ASCII form, `xn--...`); the part "
                "before the @ must be ASCII. Compared case-insensitively."
            ),
        }
    ),
]
ExternalId = Annotated[str, Field(pattern=ID_PATTERN, description="Letters, digits, `_ . : -`; 1-128.")]

# The documents' spelling of tracker.domain.text's control characters (Cc is U+0000-U+001F and
# U+007F-U+009F, Zl U+2028, Zp U+2029), for generated clients: the validators below decide.
_CONTROL = "\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029"
NO_CONTROL_CHARACTERS = f"^[^{_CONTROL}]*$"
ONE_LINE_NOT_BLANK = f"^[^{_CONTROL}]*[^{_CONTROL}\\s][^{_CONTROL}]*$"


class RecipientIn(ApiModel):
    customer_id: ExternalId
    email: EmailAddress
    name: str | None = Field(
        default=None,
        max_length=MAX_NAME_CHARS,
        description="Display name for the To header (no control characters; blank is none).",
        json_schema_extra={"pattern": NO_CONTROL_CHARACTERS},
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if has_control_characters(value):
            raise PydanticCustomError("name_control_characters", "name must not contain control characters")
        return value.strip()


def _utf8_size(value: str | None) -> int:
    return len(value.encode("utf-8")) if value else 0


def _only_and_always_for(kind: str, field: str) -> dict[str, Any]:
    return {
        "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
        "then": {"required": [field], "properties": {field: {"type": "string"}}},
        "else": {"properties": {field: {"type": "null"}}},
    }


# The cross-field rules of the validators below, in JSON Schema 2020-12 (OpenAPI 3.1's dialect) so
# that a generated client learns them; the size of text + html is in their descriptions only.
_CROSS_FIELD_RULES: dict[str, Any] = {
    "anyOf": [
        {"required": ["text"], "properties": {"text": {"type": "string", "minLength": 1}}},
        {"required": ["html"], "properties": {"html": {"type": "string", "minLength": 1}}},
    ],
    "allOf": [_only_and_always_for("invoice", "invoice_id"), _only_and_always_for("receipt", "payment_id")],
}


class SendMessageRequest(ApiModel):
    """Body of ``POST /messages``: `text` and/or `html`; `invoice_id` only and always for an
    invoice, `payment_id` only and always for a receipt."""

    # Field order is validation order (later checks see earlier fields).
    model_config = ConfigDict(json_schema_extra=_CROSS_FIELD_RULES)

    kind: MessageKind
    subject: str = Field(
        max_length=MAX_SUBJECT_CHARS,
        description="One line, not blank, no control characters (tabs included).",
        json_schema_extra={"pattern": ONE_LINE_NOT_BLANK},
    )
    html: str | None = Field(default=None, description="HTML body; `text` and/or `html` is required.")
    text: str | None = Field(
        default=None,
        validate_default=True,
        description=f"Plain-text body; with `html` at most {MAX_BODY_BYTES} bytes.",
    )
    recipients: list[RecipientIn] = Field(min_length=1, max_length=MAX_RECIPIENTS)
    invoice_id: ExternalId | None = Field(
        default=None, validate_default=True, description="Required for invoices, and only for them."
    )
    payment_id: ExternalId | None = Field(
        default=None, validate_default=True, description="Required for receipts, and only for them."
    )

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: str) -> str:
        if not value.strip():
            raise PydanticCustomError("subject_empty", "subject must not be empty")
        if has_control_characters(value):
            raise PydanticCustomError(
                "subject_control_characters",
                "subject must be a single line without control characters (tabs included)",
            )
        return value

    @field_validator("html")
    @classmethod
    def _html(cls, value: str | None) -> str | None:
        if _utf8_size(value) > MAX_BODY_BYTES:
            raise PydanticCustomError(
                "body_too_large", "html is larger than {limit} bytes", {"limit": MAX_BODY_BYTES}
            )
        return value or None

    @field_validator("text")
    @classmethod
    def _text(cls, value: str | None, info: ValidationInfo) -> str | None:
        html = info.data.get("html")
        if not value and not html:
            raise PydanticCustomError("body_missing", "text or html is required")
        if _utf8_size(value) + _utf8_size(html) > MAX_BODY_BYTES:
            raise PydanticCustomError(
                "body_too_large",
                "text and html together are larger than {limit} bytes",
                {"limit": MAX_BODY_BYTES},
            )
        return value or None

    @field_validator("invoice_id")
    @classmethod
    def _invoice_id(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if kind == "invoice" and not value:
            raise PydanticCustomError("invoice_id_missing", "invoice_id is required for an invoice")
        if kind is not None and kind != "invoice" and value:
            raise PydanticCustomError("invoice_id_unexpected", "only an invoice carries an invoice_id")
        return value

    @field_validator("payment_id")
    @classmethod
    def _payment_id(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if kind == "receipt" and not value:
            raise PydanticCustomError("payment_id_missing", "payment_id is required for a receipt")
        if kind is not None and kind != "receipt" and value:
            raise PydanticCustomError("payment_id_unexpected", "only a receipt carries a payment_id")
        return value

    def to_draft(self) -> MessageDraft:
        return MessageDraft(
            kind=self.kind,
            content=MessageContent(subject=self.subject, text=self.text, html=self.html),
            recipients=tuple(RecipientDraft(r.customer_id, r.email, r.name) for r in self.recipients),
            invoice_id=self.invoice_id,
            payment_id=self.payment_id,
        )


class CreatedRecipientOut(ApiModel):
    recipient_id: str
    email: str
    customer_id: str
    status: Status = Field(description="`queued`, or `dropped` when the address is suppressed.")
    reason: str | None = Field(default=None, description="Why it will not be sent (dropped / failed).")


class SendMessageResponse(ApiModel):
    message_id: str
    recipients: list[CreatedRecipientOut]

    @classmethod
    def of(cls, created: CreatedMessage) -> SendMessageResponse:
        return cls(
            message_id=created.message_id,
            recipients=[
                CreatedRecipientOut(
                    recipient_id=r.recipient_id,
                    email=r.email,
                    customer_id=r.customer_id,
                    status=r.status,
                    reason=r.reason,
                )
                for r in created.recipients
            ],
        )


# --- suppressions -------------------------------------------------------------------------------


class EvidenceOut(ApiModel):
    event_id: str = Field(description="Id of the SES event (stable across redeliveries).")
    kind: Literal["permanent_bounce", "transient_bounce", "complaint"]
    at: datetime
    message_id: str | None
    recipient_id: str | None
    detail: str | None = Field(description="The bounce diagnostic or the complaint feedback type.")

    @classmethod
    def of(cls, evidence: Evidence) -> EvidenceOut:
        return cls(
            event_id=evidence.event_id,
            kind=evidence.kind.value,
            at=evidence.at,
            message_id=evidence.message_id,
            recipient_id=evidence.recipient_id,
            detail=evidence.detail,
        )


class SuppressionOut(ApiModel):
    email: str
    state: Literal["active", "lifted"]
    reason: str
    suppressed_at: datetime
    evidence: list[EvidenceOut] = Field(description="The bounces/complaints that made the rule fire.")
    lifted_at: datetime | None
    lifted_by: str | None = Field(description="Who lifted it (the token's subject).")

    @classmethod
    def of(cls, record: SuppressionRecord) -> SuppressionOut:
        return cls(
            email=record.email,
            state=record.state.value,
            reason=record.reason,
            suppressed_at=record.suppressed_at,
            evidence=[EvidenceOut.of(e) for e in record.evidence],
            lifted_at=record.lifted_at,
            lifted_by=record.lifted_by,
        )


class SuppressionPage(ApiModel):
    items: list[SuppressionOut]
    next_cursor: str | None = Field(description=NEXT_CURSOR_DESCRIPTION)


class HistoryOut(ApiModel):
    action: Literal["suppressed", "lifted"]
    at: datetime
    actor: str = Field(description="The caller's subject, or `system` for the suppression rules.")
    reason: str | None
    evidence: list[EvidenceOut]

    @classmethod
    def of(cls, entry: HistoryEntry) -> HistoryOut:
        return cls(
            action="lifted" if entry.action == "lifted" else "suppressed",
            at=entry.at,
            actor=entry.actor,
            reason=entry.reason,
            evidence=[EvidenceOut.of(e) for e in entry.evidence],
        )


class SuppressionDetail(SuppressionOut):
    history: list[HistoryOut] = Field(description="Every suppression and lift of this address, oldest first.")


class ErasureOut(ApiModel):
    """The audit entry of the erasure that erased the customer's data (a repeated call that finds
    nothing left to erase answers the same entry)."""

    customer_id: str
    erased_at: datetime
    erased_by: str = Field(description="Who asked for it (the token's subject).")
    recipients: int = Field(description="Recipient items erased (their status and the counts stay).")
    messages: int = Field(description="Messages those recipients belong to.")
    suppressions: int = Field(description="Suppression records kept under the address's hash instead.")

    @classmethod
    def of(cls, record: ErasureRecord) -> ErasureOut:
        return cls(
            customer_id=record.customer_id,
            erased_at=record.erased_at,
            erased_by=record.erased_by,
            recipients=record.recipients,
            messages=record.messages,
            suppressions=record.suppressions,
        )
