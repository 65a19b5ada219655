"""A draft's limits, apart from the drafts themselves: every function's settings (tracker.settings)
hold them, and only the functions that build drafts need the rest of tracker.domain.drafts."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MAX_RECIPIENTS = 100_000
DEFAULT_BATCH_ROWS = 1_000
DEFAULT_OPEN_DRAFTS = 20


@dataclass(frozen=True)
class DraftLimits:
    """Settings (tracker.settings.SendSettings): a message's recipients, a batch's rows, and how
    many drafts a tenant may have open (not yet sent nor discarded) at once."""

    max_recipients: int = DEFAULT_MAX_RECIPIENTS
    batch_rows: int = DEFAULT_BATCH_ROWS
    open_drafts: int = DEFAULT_OPEN_DRAFTS

    def __post_init__(self) -> None:
        if min(self.max_recipients, self.batch_rows, self.open_drafts) < 1:
            raise ValueError("draft limits must be at least 1")

    @property
    def max_batches(self) -> int:
        return -(-self.max_recipients // self.batch_rows)
