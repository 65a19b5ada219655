"""The plain-English reason the API shows beside a raw SES text (tracker.domain.reasons)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from tracker.domain.reasons import Reason


class ReasonOut(BaseModel):
    """Why, in plain words, with the next step; the raw text stays in its own field."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    code: str = Field(description="Stable snake_case code (e.g. `mailbox_does_not_exist`): branch on it.")
    summary: str = Field(description="What happened, in one sentence.")
    advice: str = Field(description="What to do next, in one sentence.")

    @classmethod
    def of(cls, reason: Reason | None) -> ReasonOut | None:
        return None if reason is None else cls(code=reason.code, summary=reason.summary, advice=reason.advice)
