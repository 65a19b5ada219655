"""The resend use case's own error paths (logic/resending.py), with fakes: a claim is released
when the new message cannot be created, and a concurrent resend's claim wins without a send."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from tracker.domain.attention import ResendSource
from tracker.domain.errors import AlreadyResentError, ContentExpiredError, TransientStoreError
from tracker.domain.links import Dismissal, ResendLink
from tracker.domain.messages import MessageContent
from tracker.domain.records import RecipientKey
from tracker.logic.creation import MessageService
from tracker.logic.resending import RecipientActionService

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
KEY = RecipientKey("tenant-a", "msg-1", "r-0")
CONTENT = MessageContent(subject="Invoice INV-1", text="Due")


@dataclass
class FakeActions:
    claimed_by_other: ResendLink | None = None
    content: MessageContent | None = CONTENT
    claims: list[ResendLink] = field(default_factory=list)
    released: list[tuple[RecipientKey, ResendLink]] = field(default_factory=list)

    def resend_source(self, tenant_id: str, message_id: str, recipient_id: str) -> ResendSource | None:
        return ResendSource(
            customer_id="cust-1",
            email="ada@example.com",
            name="Ada",
            kind="invoice",
            content=self.content,
            invoice_id="INV-1",
            payment_id=None,
            resent_as=None,
        )

    def claim_resend(self, key: RecipientKey, link: ResendLink) -> ResendLink | None:
        self.claims.append(link)
        return self.claimed_by_other

    def release_resend(self, key: RecipientKey, link: ResendLink) -> None:
        self.released.append((key, link))

    def dismiss(self, key: RecipientKey, dismissal: Dismissal) -> Dismissal | None:
        return dismissal


class NoSuppressions:
    def active_reasons(self, tenant_id: str, emails: Sequence[str]) -> dict[str, str]:
        return {}


@dataclass
class FakeMessages:
    error: BaseException | None = None
    created: list[dict[str, Any]] = field(default_factory=list)

    def create(self, *args: Any, **kwargs: Any) -> Any:
        if self.error is not None:
            raise self.error
        self.created.append(kwargs)
        return kwargs


def _service(actions: FakeActions, messages: FakeMessages) -> RecipientActionService:
    return RecipientActionService(
        actions, cast(MessageService, messages), NoSuppressions(), clock=lambda: NOW
    )


def test_a_resend_whose_message_cannot_be_created_releases_its_claim_and_raises() -> None:
    actions, messages = FakeActions(), FakeMessages(error=TransientStoreError("table unavailable"))
    with pytest.raises(TransientStoreError):
        _service(actions, messages).resend("tenant-a", "owner", "msg-1", "r-0", "ada@new.example")
    assert len(actions.claims) == 1
    assert actions.released == [(KEY, actions.claims[0])], "the claim is given back, so a retry can resend"


def test_a_resend_that_loses_the_claim_to_a_concurrent_one_sends_nothing() -> None:
    other = ResendLink("msg-other", "r-0", NOW, "someone-else")
    actions, messages = FakeActions(claimed_by_other=other), FakeMessages()
    with pytest.raises(AlreadyResentError, match="msg-other"):
        _service(actions, messages).resend("tenant-a", "owner", "msg-1", "r-0")
    assert messages.created == []
    assert actions.released == [], "the other resend's claim is not ours to release"


def test_a_created_resend_keeps_its_claim_and_links_back() -> None:
    actions, messages = FakeActions(), FakeMessages()
    _service(actions, messages).resend("tenant-a", "owner", "msg-1", "r-0", "Ada@New.Example")
    (created,) = messages.created
    assert created["message_id"] == actions.claims[0].message_id
    assert (created["resent_from"].message_id, created["resent_from"].recipient_id) == ("msg-1", "r-0")
    assert actions.released == []


def test_a_message_whose_content_has_expired_cannot_be_resent_and_says_why() -> None:
    actions, messages = FakeActions(content=None), FakeMessages()
    with pytest.raises(ContentExpiredError, match="POST /messages"):
        _service(actions, messages).resend("tenant-a", "owner", "msg-1", "r-0")
    assert (actions.claims, messages.created) == ([], []), "nothing claimed, nothing sent"
