"""From an SQS record body to the events it holds for each recipient.

:func:`parse_notification_body` (SQS record body → :data:`SesEvent`) validates the SNS envelope and
the SES record; :func:`to_recipient_events` (:data:`SesEvent` → one :class:`RecipientEvent` per
recipient address) normalizes it. Only the fields the tracker depends on are required:
``mail.timestamp``, ``mail.messageId``, ``mail.destination``, the type-specific timestamp and
recipient lists, bounce type/subtype and the clicked link.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from email.utils import parseaddr
from typing import Any

import msgspec

from tracker.domain.engagement import AddressSet, FetchKind, classify_fetch
from tracker.domain.errors import InvalidEventError
from tracker.domain.events import EventKind, RecipientEvent
from tracker.domain.facts import FETCH_CLASS_DETAIL
from tracker.domain.ids import normalize_email
from tracker.domain.timeline import SHORT_ID
from tracker.models.ses.errors import error_detail
from tracker.models.ses.limits import (
    MAX_ADDRESS,
    MAX_RECIPIENTS_PER_EVENT,
    MAX_SES_MESSAGE_ID,
    MAX_TAG_TEXT,
    MAX_TAGS,
    EventTimeOutOfRangeError,
    bounded_details,
    truncated,
)
from tracker.models.ses.objects import Mail, SnsNotification
from tracker.models.ses.records import (
    TYPE_FIELD,
    TYPE_NAMES,
    Format,
    Occurrence,
    SesEvent,
    convert_record,
)
from tracker.models.ses.sections import TooDeepError, section_json
from tracker.models.ses.timestamps import format_ses_timestamp, plain_datetime

_MAX_DETAIL = 300


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 3] + "..."


def _invalid(error: msgspec.ValidationError, document: Any, what: str = "") -> InvalidEventError:
    """The quarantine reason and detail of a record msgspec refused: where, and what is wrong."""
    reason = "time_out_of_range" if isinstance(error.__cause__, EventTimeOutOfRangeError) else "invalid_event"
    return InvalidEventError(reason, _clip(what + error_detail(error, document)))


def _load_json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, TypeError, RecursionError) as exc:
        raise InvalidEventError("malformed_json", _clip(f"{what} is not JSON: {exc}")) from None


# A lone UTF-16 surrogate is not Unicode text: UTF-8 cannot encode it and DynamoDB refuses it. JSON
# can only carry one as an escape (\ud800), so a document is walked only when its text has one.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]|[\ud800-\udfff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _lone_surrogate_at(document: Any) -> str | None:
    """The path of a string (or key) of ``document`` that holds a lone surrogate, if any."""
    stack: list[tuple[tuple[str, ...], Any]] = [((), document)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                return ".".join(path) or "<root>"
        elif isinstance(node, dict):
            for key, value in node.items():
                if _SURROGATE.search(key):
                    return ".".join((*path, key))
                stack.append(((*path, key), value))
        elif isinstance(node, list):
            stack.extend(((*path, str(index)), value) for index, value in enumerate(node))
    return None


def _refuse_lone_surrogates(text: str, document: Any, what: str) -> None:
    if _SURROGATE_ESCAPE.search(text) and (path := _lone_surrogate_at(document)) is not None:
        shown = path.encode("utf-8", "backslashreplace").decode("utf-8")  # a key may hold it too
        raise InvalidEventError(
            "invalid_unicode", _clip(f"{what}{shown}: a lone UTF-16 surrogate, which is not Unicode text")
        )


def _is_sns_envelope(document: Mapping[str, Any]) -> bool:
    return "Type" in document and "eventType" not in document and "notificationType" not in document


def _validate_record(document: Mapping[str, Any]) -> SesEvent:
    fmt: Format
    for fmt, field in TYPE_FIELD.items():
        if field in document:
            value = document[field]
            if not isinstance(value, str) or value not in TYPE_NAMES[fmt]:
                raise InvalidEventError("unknown_event_type", _clip(f"{field}={value!r}"))
            break
    else:
        raise InvalidEventError(
            "not_a_notification",
            "JSON object is neither an SNS Notification nor an SES event record "
            "(no Type, eventType or notificationType)",
        )
    try:
        return convert_record(document, fmt)
    except msgspec.ValidationError as exc:
        raise _invalid(exc, document) from None


def parse_notification_body(body: str) -> SesEvent:
    """Parse one SQS record body into an SES event model.

    The body is normally the SNS Notification JSON whose ``Message`` is the SES record as a string;
    a body that is directly an SES record (no SNS envelope) is accepted as well.

    Raises :class:`InvalidEventError` with reason ``malformed_json``, ``not_a_notification``,
    ``invalid_unicode`` (a lone surrogate anywhere in it), ``unknown_event_type``,
    ``time_out_of_range`` or ``invalid_event``; never a JSON or msgspec error.
    """
    document, text = _load_json(body, "SQS body"), body
    if not isinstance(document, dict):
        raise InvalidEventError(
            "not_a_notification", f"SQS body is a JSON {type(document).__name__}, not an object"
        )
    if _is_sns_envelope(document):
        if document["Type"] != "Notification":
            raise InvalidEventError("not_a_notification", _clip(f"SNS message of Type={document['Type']!r}"))
        _refuse_lone_surrogates(text, document, "SNS ")
        try:
            envelope = msgspec.convert(document, SnsNotification)
        except msgspec.ValidationError as exc:
            raise _invalid(exc, document, "SNS ") from None
        document, text = _load_json(envelope.message, "SNS Message"), envelope.message
        if not isinstance(document, dict):
            raise InvalidEventError(
                "not_a_notification", f"SNS Message is a JSON {type(document).__name__}, not an object"
            )
    _refuse_lone_surrogates(text, document, "")
    return _validate_record(document)


# --- normalization -------------------------------------------------------------


# An address as SES lists almost every destination: dot-atoms around one "@", no display name,
# quoting, comment or space. ``parseaddr`` returns such a string unchanged (tests/unit/
# test_ses_events.py checks it for generated ones), and skipping it was ~10 us per event.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")


def normalize_address(address: str) -> str:
    """``"Jane Doe" <Jane@Example.com>`` → ``jane@example.com``: SES lists destinations as they were
    given, display names included; the address itself goes through the one normaliser."""
    if _PLAIN_ADDRESS.fullmatch(address):
        return normalize_email(address)
    _, parsed = parseaddr(address)
    return normalize_email(parsed or address)


@contextmanager
def _serializable(kind: EventKind) -> Iterator[None]:
    """What is kept or hashed of an event must serialize whole: an unknown field nested too deep
    cannot, and makes the event invalid."""
    try:
        yield
    except TooDeepError as exc:
        raise InvalidEventError(
            "invalid_event", _clip(f"{kind.value}: cannot be serialized: {exc}")
        ) from None


def _section(kind: EventKind, event: SesEvent, occurrence: Occurrence) -> dict[str, Any]:
    """The type-specific object as published, in a deterministic JSON-safe form (it is hashed
    into the event id)."""
    with _serializable(kind):
        return section_json(occurrence.section, event.document.get(occurrence.key))


def _event_id(kind: EventKind, mail: Mail, email: str, section: Mapping[str, Any], with_sent_at: bool) -> str:
    payload: dict[str, Any] = {
        "kind": kind.value,
        "ses_message_id": mail.message_id,
        "recipient": email,
        "event": section,
    }
    if with_sent_at:
        payload["mail_timestamp"] = format_ses_timestamp(mail.timestamp)
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:SHORT_ID]


def _tags(mail: Mail) -> dict[str, str]:
    """The first value of each message tag (SES allows 50 tags of 256 characters)."""
    tags = list((mail.tags or {}).items())[:MAX_TAGS]
    return {
        truncated(name, MAX_TAG_TEXT): truncated(values[0], MAX_TAG_TEXT) for name, values in tags if values
    }


def _classified(kind: EventKind, details: dict[str, Any], apple_ranges: AddressSet | None) -> dict[str, Any]:
    """An open's or click's details with who fetched it (its intrinsic class, docs/engagement.md)."""
    if kind not in (EventKind.OPEN, EventKind.CLICK):
        return details
    fetch: FetchKind = "open" if kind is EventKind.OPEN else "click"
    code = classify_fetch(fetch, details.get("user_agent"), details.get("ip_address"), apple_ranges).code
    return {**details, FETCH_CLASS_DETAIL: code}


def to_recipient_events(event: SesEvent, apple_ranges: AddressSet | None = None) -> list[RecipientEvent]:
    """One :class:`RecipientEvent` per affected recipient address (duplicates within a record dropped).

    Recipients: bounce → ``bouncedRecipients``; complaint → ``complainedRecipients``; delivery →
    ``delivery.recipients``; delivery delay → ``delayedRecipients``; every other type → ``mail.destination``.
    ``at`` is the type-specific timestamp (``mail.timestamp`` for Send, Reject, Rendering Failure).
    """
    kind = event.KIND
    mail = event.mail
    if len(mail.message_id) > MAX_SES_MESSAGE_ID:
        raise InvalidEventError(
            "invalid_event", f"mail.messageId: longer than {MAX_SES_MESSAGE_ID} characters"
        )
    with _serializable(kind):  # a Subscription keeps its topic preferences, as published
        occurrence = event.occurrence()
    at, recipients = plain_datetime(occurrence.at), occurrence.recipients
    sent_at = plain_datetime(mail.timestamp)
    if len(recipients) > MAX_RECIPIENTS_PER_EVENT:
        raise InvalidEventError(
            "invalid_event",
            f"{len(recipients)} recipients in one event (SES sends to at most {MAX_RECIPIENTS_PER_EVENT})",
        )
    section = _section(kind, event, occurrence)
    tags = _tags(mail)
    with_sent_at = event.STAMPED_BY_MAIL
    results: list[RecipientEvent] = []
    seen: set[str] = set()
    for address, details in recipients:
        email = normalize_address(address) if len(address) <= MAX_ADDRESS else ""
        if not email or email in seen:
            continue
        seen.add(email)
        results.append(
            RecipientEvent(
                event_id=_event_id(kind, mail, email, section, with_sent_at),
                kind=kind,
                at=at,
                ses_message_id=mail.message_id,
                email=email,
                mail_sent_at=sent_at,
                tags=dict(tags),
                details=_classified(kind, bounded_details(details), apple_ranges),
            )
        )
    if not results:
        raise InvalidEventError("no_recipient", f"{kind.value} event names no recipient address")
    return results


def parse_record_body(body: str, apple_ranges: AddressSet | None = None) -> list[RecipientEvent]:
    """One SQS record body → its events, one per recipient (the ingest path's parser); opens and
    clicks are classified with ``apple_ranges`` (the shipped snapshot when None; anything with
    ``__contains__``, such as a provider that loads the refreshed list on first use)."""
    return to_recipient_events(parse_notification_body(body), apple_ranges)
