"""Hypothesis strategies for SES event histories, shared by the core and read-API property tests.

A history is a list of SES event records (dicts in AWS's shape) for the recipients of seeded
messages; `deliveries` turns it into what SQS hands the ingest Lambda: every event at least once,
some several times, in any order, cut into batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hypothesis import strategies as st

from tests import engagement_samples as samples
from tests import ses_builders as b
from tests.factories import CREATED_AT, ses_id

SENT_AT = CREATED_AT + timedelta(minutes=1)


@dataclass(frozen=True)
class Target:
    tenant_id: str
    message_id: str
    index: int

    @property
    def recipient_id(self) -> str:
        return f"r{self.index}"

    @property
    def email(self) -> str:
        return f"person{self.index}@example.com"

    @property
    def ses_message_id(self) -> str:
        return ses_id(self.message_id, self.index)


# Who opens and clicks (tests/engagement_samples.py): Apple's proxy, Gmail's, a scanner, a headless
# browser, a mail client and a browser, so the verdicts' rules all take part.
FETCHERS = (
    samples.APPLE_MPP,
    samples.GMAIL_PROXY,
    samples.DEFENDER_EOP,
    samples.HEADLESS_CHROME,
    samples.IOS_MAIL,
    samples.CHROME_WINDOWS,
)


def _event(kind: str, target: Target, seconds: int, variant: int, tagged: bool) -> dict[str, Any]:
    common: dict[str, Any] = {
        "sent_at": SENT_AT,
        "tags": b.tags_for(target.tenant_id, target.message_id, target.recipient_id) if tagged else None,
    }
    at = SENT_AT + timedelta(seconds=seconds)
    sid, email = target.ses_message_id, target.email
    fetcher = FETCHERS[variant % len(FETCHERS)]
    match kind:
        case "send":
            return b.send_event(sid, email, **common)
        case "delivery":
            return b.delivery_event(sid, email, at=at, **common)
        case "open":
            return b.open_event(
                sid, email, at=at, ip=fetcher.ip_address or "", user_agent=fetcher.user_agent or "", **common
            )
        case "click":
            return b.click_event(
                sid,
                email,
                at=at,
                link=f"https://example.com/{variant % 3}",
                ip=fetcher.ip_address or "",
                user_agent=fetcher.user_agent or "",
                **common,
            )
        case "bounce":
            subtype = ("General", "MailboxFull", "OnAccountSuppressionList")[variant % 3]
            bounce_type = "Transient" if subtype == "MailboxFull" else "Permanent"
            return b.bounce_event(
                sid, email, at=at, bounce_type=bounce_type, bounce_subtype=subtype, **common
            )
        case "complaint":
            return b.complaint_event(sid, email, at=at, **common)
        case "delay":
            return b.delivery_delay_event(sid, email, at=at, **common)
        case "reject":
            return b.reject_event(sid, email, **common)
        case _:
            raise ValueError(kind)


# Weighted like real traffic: mostly sends, deliveries and opens.
KINDS = [
    "send",
    "delivery",
    "delivery",
    "open",
    "open",
    "open",
    "click",
    "bounce",
    "complaint",
    "delay",
    "reject",
]


def histories(
    targets: Sequence[Target], max_events: int = 30, late_days: int = 0
) -> st.SearchStrategy[list[dict[str, Any]]]:
    """``late_days``: some events happen up to that many days after the send (hours apart)."""
    # Times: often within seconds of each other (where the timing rules act), else minutes apart.
    seconds = st.one_of(
        st.integers(min_value=0, max_value=12), st.integers(min_value=1, max_value=240).map(lambda m: m * 60)
    )
    if late_days:
        seconds = st.one_of(
            seconds, st.integers(min_value=1, max_value=late_days * 24).map(lambda h: h * 3600 + 7)
        )
    one = st.builds(
        _event,
        st.sampled_from(KINDS),
        st.sampled_from(list(targets)),
        seconds,
        st.integers(min_value=1, max_value=12),
        st.booleans(),
    )
    return st.lists(one, min_size=1, max_size=max_events)


def labelled_events(
    targets: Sequence[Target], tagged: bool | None = None
) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    """One event of a history with a label saying what it is (``open msg-1/r0 +12min``); tagged
    with our SES tags when ``tagged`` (either way when it is None)."""

    def labelled(
        kind: str, target: Target, minute: int, variant: int, tags: bool
    ) -> tuple[str, dict[str, Any]]:
        label = f"{kind} {target.message_id}/{target.recipient_id} +{minute}min v{variant}"
        return label + ("" if tags else " untagged"), _event(kind, target, minute, variant, tags)

    return st.builds(
        labelled,
        st.sampled_from(KINDS),
        st.sampled_from(list(targets)),
        st.integers(min_value=0, max_value=240),
        st.integers(min_value=1, max_value=3),
        st.booleans() if tagged is None else st.just(tagged),
    )


@st.composite
def deliveries(
    draw: st.DrawFn, history: list[dict[str, Any]], max_batch: int = 10
) -> list[list[dict[str, Any]]]:
    """SQS's view: duplicates (as fresh SNS notifications), any order, random batch cuts."""
    extra = draw(st.lists(st.sampled_from(history), max_size=len(history)))
    stream = draw(st.permutations(history + extra))
    batches: list[list[dict[str, Any]]] = []
    position = 0
    while position < len(stream):
        size = draw(st.integers(min_value=1, max_value=max_batch))
        batches.append([b.sqs_record(b.sns_body(event)) for event in stream[position : position + size]])
        position += size
    return batches
