"""Request and answer bodies of the draft routes (tracker.api.draft_routes, docs/sending.md)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, TypeAdapter, ValidationError

from tracker.domain.draft_limits import DEFAULT_BATCH_ROWS
from tracker.domain.drafts import Draft, RowError
from tracker.domain.messages import MessageContent, RecipientDraft
from tracker.models.api import ApiModel
from tracker.models.send import RecipientIn, SendMessageRequest


class DraftRequest(SendMessageRequest):
    """Body of ``POST /drafts``: a message's fields; its recipients come in batches."""

    recipients: list[RecipientIn] = Field(
        default_factory=list,
        max_length=0,
        description="Leave out: a draft's recipients come in batches (`PUT /drafts/{id}/batches/{n}`).",
    )

    def content(self) -> MessageContent:
        return MessageContent(subject=self.subject, text=self.text, html=self.html)


class BatchRequest(ApiModel):
    """Body of ``PUT /drafts/{id}/batches/{n}``: rows checked one by one, so that every bad row is
    reported (``{row, field, message}``), not only the first."""

    recipients: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=DEFAULT_BATCH_ROWS,
        description="Rows like `POST /messages`' recipients: `customer_id`, `email`, optional `name`.",
    )


class RowErrorOut(ApiModel):
    row: int = Field(description="Index of the row in this batch's `recipients`.")
    field: str
    message: str


class BatchRejected(ApiModel):
    """The error body; with bad rows also every one of them (absent for other 400s)."""

    error: dict[str, Any]
    rows: list[RowErrorOut] = Field(default_factory=list)


class DraftOut(ApiModel):
    message_id: str
    state: str = Field(description="`draft`, `sending` (call send again to continue) or `sent`.")
    kind: str
    subject: str
    batches: dict[str, int] = Field(description="Batch number -> rows accepted.")
    rows: int = Field(ge=0, description="Rows accepted in all batches (duplicates included).")
    recipients: int = Field(ge=0, description="Once sending: recipients, one per address.")
    duplicates: int = Field(ge=0, description="Once sending: rows left out (address already listed).")
    batches_queued: int = Field(ge=0)

    @classmethod
    def of(cls, draft: Draft) -> DraftOut:
        return cls(
            message_id=draft.message_id,
            state=draft.state.value,
            kind=draft.kind,
            subject=draft.content.subject,
            batches={str(k): v for k, v in sorted(draft.batch_rows.items())},
            rows=draft.rows,
            recipients=draft.recipients,
            duplicates=draft.duplicates,
            batches_queued=draft.queued,
        )


_ROW = TypeAdapter(RecipientIn)


def check_rows(rows: list[dict[str, Any]]) -> tuple[list[RecipientDraft], list[RowError]]:
    """Every row validated; duplicates within the batch are errors (across batches the first row
    wins, tracker.domain.drafts.plan)."""
    valid: list[RecipientDraft] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        try:
            recipient = _ROW.validate_python(row)
        except ValidationError as error:
            for detail in error.errors():
                where = ".".join(str(p) for p in detail.get("loc", ())) or "row"
                errors.append(RowError(index, where, str(detail.get("msg", "invalid"))))
            continue
        if recipient.email in seen:
            errors.append(RowError(index, "email", f"the address is already row {seen[recipient.email]}"))
            continue
        seen[recipient.email] = index
        valid.append(RecipientDraft(recipient.customer_id, recipient.email, recipient.name))
    return valid, errors
