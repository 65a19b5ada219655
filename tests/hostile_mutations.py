"""Mutations of SES records, SNS envelopes and SQS bodies, each described (:class:`Change`): generic
ones anywhere in a part of the record (set, drop, retype, enlarge, empty, duplicate, reorder, add),
attacks at the fields the tracker reads, wrong envelopes and bodies that are not what SNS sends."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from tests import ses_builders as b
from tests.hostile_values import (
    Obj,
    Path,
    delete,
    dumps,
    enlarged,
    get,
    hostile_addresses,
    hostile_texts,
    hostile_timestamps,
    huge_text,
    json_values,
    paths,
    replace,
    retyped,
    short,
    sqs_escaped,
)
from tests.ses_payloads import ADDRESS_KEYS, RECIPIENT_LISTS, TIME_KEYS, TYPE_KEYS
from tests.strategies import Target

# Fields the tracker reads (or stores), mutated more often than the rest.
READ_KEYS = (
    TIME_KEYS
    | ADDRESS_KEYS
    | frozenset(b.tags_for("", "", ""))
    | frozenset(RECIPIENT_LISTS.values())
    | {
        "messageId",
        "tags",
        "commonHeaders",
        "subject",
        "diagnosticCode",
        "userAgent",
        "link",
        "linkTags",
        "ipAddress",
        "bounceType",
        "bounceSubType",
        "status",
        "action",
        "smtpResponse",
        "processingTimeMillis",
        "reportingMTA",
        "feedbackId",
        "complaintFeedbackType",
        "complaintSubType",
        "delayType",
        "errorMessage",
        "templateName",
        "reason",
        "newTopicPreferences",
    }
)


def record_scope(stage: str, record: Obj) -> tuple[Path, str]:
    """Where a stage's changes go: the mail object, the type-specific object, or the record."""
    if stage == "mail" and "mail" in record.names():
        return ("mail",), "mail"
    if stage == "event":
        key = next((k for k in record.names() if k in TYPE_KEYS.values()), None)
        if key is not None:
            return (key,), key
    return (), "record"


# --- changes to a document --------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One mutation, described: where (``mail.timestamp``) and what (``:= '9999-...'``)."""

    where: str
    what: str
    keeps_meaning: bool = False

    def __str__(self) -> str:
        return f"{self.where} {self.what}"


def _where(scope: str, path: Path) -> str:
    return ".".join([scope, *(str(step) for step in path)]) if path else scope


def _last_key(path: Path) -> str:
    return next((str(step) for step in reversed(path) if isinstance(step, str)), "")


def _field_values(path: Path, value: Any) -> st.SearchStrategy[Any]:
    """Values chosen for what the field means: times for timestamps, addresses for addresses."""
    key = _last_key(path)
    if key in ("eventType", "notificationType"):
        names = sorted(TYPE_KEYS)
        return st.sampled_from([*names, *(name.lower() for name in names), "Spam", "Open "])
    if key in TIME_KEYS:
        return hostile_timestamps()
    if key in ADDRESS_KEYS:
        if isinstance(value, list):
            return st.one_of(
                st.sampled_from([[], [""], ["   "], [None]]), st.lists(hostile_addresses(), max_size=3)
            )
        return hostile_addresses()
    if isinstance(value, str):
        return st.one_of(hostile_texts(), huge_text(value))
    return json_values()


def _empty(value: Any) -> Any:
    if isinstance(value, list):
        return [] if not value or not isinstance(value[0], str) else [""]
    if isinstance(value, Obj):
        return Obj(())
    return ""


# "set" (a value chosen for what the field means) is drawn half the time, and examples shrink to it.
OPERATIONS = ("set", "drop", "retype", "enlarge", "empty", "duplicate", "reorder", "add")


@st.composite
def change_in(
    draw: st.DrawFn, document: Any, scope: Path, name: str, *, deep: bool = True
) -> tuple[Any, Change]:
    """One mutation of ``document`` at ``scope`` or anywhere below it; not ``deep``: at one of
    ``scope``'s direct children."""
    below = paths(get(document, scope), scope)
    children = [p for p in below if len(p) == len(scope) + 1]
    targets = [scope, *below] if deep else children or [scope]
    read = [path for path in targets if _last_key(path) in READ_KEYS]
    path = draw(
        st.one_of(st.sampled_from(read), st.sampled_from(targets)) if read else st.sampled_from(targets)
    )
    value = get(document, path)
    operation = draw(st.one_of(st.just("set"), st.sampled_from(OPERATIONS)))
    where = _where(name, path[len(scope) :])
    if operation == "drop" and path:
        return delete(document, path), Change(where, "dropped")
    if operation in ("reorder", "duplicate", "add") and isinstance(value, Obj) and value.pairs:
        new, change = object_change(draw, value, operation, where)
    else:
        if operation == "retype":
            new = draw(retyped(value))
        elif operation == "enlarge":
            new = draw(enlarged(value))
        elif operation == "empty":
            new = _empty(value)
        else:
            new = draw(_field_values(path, value))
        change = Change(where, f":= {short(new)}")
    return (replace(document, path, new) if path else new), change


def object_change(draw: st.DrawFn, value: Obj, operation: str, where: str) -> tuple[Obj, Change]:
    pairs = list(value.pairs)
    if operation == "reorder":
        shuffled = draw(st.permutations(pairs))
        keys = [key for key, _ in shuffled]
        return Obj(tuple(shuffled)), Change(where, f"keys reordered to {keys}", keeps_meaning=True)
    if operation == "duplicate":
        index = draw(st.integers(0, len(pairs) - 1))
        key, current = pairs[index]
        twin = draw(st.one_of(st.just(current), retyped(current), _field_values((key,), current)))
        before = draw(st.booleans())
        pairs.insert(index if before else index + 1, (key, twin))
        order = "first" if before else "then"
        change = Change(f"{where}.{key}", f"twice, {order} := {short(twin)}", keeps_meaning=twin == current)
        return Obj(tuple(pairs)), change
    key = draw(st.one_of(st.sampled_from(["extra", "", "__proto__", "Type", "eventType"]), hostile_texts()))
    extra = draw(st.one_of(json_values(), enlarged(None)))
    return Obj((*value.pairs, (key, extra))), Change(where, f"+ field {key!r} := {short(extra)}")


# --- the attacks known to hurt: the fields the tracker reads, with the values that break them --

DETAIL_KEYS = frozenset(
    {
        "diagnosticCode",
        "userAgent",
        "link",
        "smtpResponse",
        "errorMessage",
        "subject",
        "reportingMTA",
        "ipAddress",
    }
)


def _attack_values(path: Path, value: Any, targets: Sequence[Target]) -> st.SearchStrategy[Any]:
    key = _last_key(path)
    if key in TIME_KEYS:
        return hostile_timestamps()
    if key in ("destination", "recipients", "bouncedRecipients", "complainedRecipients", "delayedRecipients"):
        element = value[0] if isinstance(value, list) and value else ""
        blank = Obj((("emailAddress", ""),)) if isinstance(element, Obj) else ""
        return st.one_of(
            st.sampled_from([[], [blank], [" "], [None], [Obj(())]]),
            st.sampled_from([500, 5_000]).map(lambda n: [element] * n),
            st.lists(hostile_addresses(), min_size=1, max_size=3),
        )
    if key == "messageId":
        others = [t.ses_message_id for t in targets]
        return st.one_of(st.sampled_from(["", " ", *others]), hostile_texts(), huge_text(str(value)))
    if key in b.tags_for("", "", ""):
        others = sorted({t.recipient_id for t in targets} | {t.message_id for t in targets})
        return st.one_of(
            st.sampled_from([[], [""], [" "], ["nobody"], *([o] for o in others)]),
            hostile_texts().map(lambda text: [text]),
            huge_text("r").map(lambda text: [text]),
        )
    if key in ADDRESS_KEYS or key == "emailAddress":
        return hostile_addresses()
    return st.one_of(huge_text(value if isinstance(value, str) else ""), hostile_texts())


def _attack_paths(record: Obj) -> list[Path]:
    """Where the attacks go: times, recipient lists and addresses, ids, our tags, detail texts."""
    wanted = (
        TIME_KEYS | DETAIL_KEYS | set(b.tags_for("", "", "")) | {"messageId", "destination", "emailAddress"}
    )
    wanted |= {"recipients", *RECIPIENT_LISTS.values()}
    found = [path for path in paths(record) if _last_key(path) in wanted]
    # A tag's value is a list: attack the list, not its element.
    return [
        path
        for path in found
        if not (isinstance(path[-1], int) and _last_key(path) in b.tags_for("", "", ""))
    ]


@st.composite
def attack(draw: st.DrawFn, record: Any, targets: Sequence[Target]) -> tuple[Any, Change]:
    """A hostile value in a field the tracker reads, or a deep or wide unknown field."""
    where = _attack_paths(record) if isinstance(record, Obj) else []
    if not where or draw(st.integers(0, 9)) == 0:
        scope, name = record_scope("event", record) if isinstance(record, Obj) else ((), "record")
        section = get(record, scope)
        if not isinstance(section, Obj):
            return record, Change(name, "left as it is (not an object)")
        key, extra = draw(st.sampled_from(["extra", "x-unknown"])), draw(enlarged(None))
        grown = Obj((*section.pairs, (key, extra)))
        return (replace(record, scope, grown) if scope else grown), Change(
            f"{name}.{key}", f":= {short(extra)}"
        )
    path = draw(st.sampled_from(where))
    new = draw(_attack_values(path, get(record, path), targets))
    return replace(record, path, new), Change(_where("record", path), f":= {short(new)}")


# --- the SNS envelope and the SQS body ----------------------------------------------------------

SNS_TYPES = ("SubscriptionConfirmation", "UnsubscribeConfirmation", "notification", "Notification ", "")


def _message_values(record: Any, message: str) -> st.SearchStrategy[Any]:
    """What a careless publisher puts in ``Message``: the record itself (not a string), no JSON,
    JSON that is not an object, the record encoded twice, a cut-off record."""
    return st.one_of(
        st.just(record),
        st.sampled_from(["", "null", "[]", "42", '"text"', "{", message[: len(message) // 2]]),
        st.just(json.dumps(message)),
        hostile_texts(),
        huge_text(),
    )


@st.composite
def envelope_change(draw: st.DrawFn, envelope: Obj, record: Any, message: str) -> tuple[Any, Change]:
    keys = envelope.names()
    key = draw(st.sampled_from(["Type", "Message", *keys]))
    if key == "Type":
        new = draw(st.one_of(st.sampled_from(SNS_TYPES), retyped("Notification")))
    elif key == "Message":
        new = draw(st.one_of(_message_values(record, message), retyped(message)))
    else:
        return draw(change_in(envelope, (key,), f"sns.{key}"))
    return replace(envelope, (key,), new), Change(f"sns.{key}", f":= {short(new)}")


@st.composite
def body_change(draw: st.DrawFn, envelope: Any, body: str, message: str) -> tuple[str, Change]:
    choice = draw(st.sampled_from(["text", "cut", "wrap", "pretty", "raw", "huge", "json"]))
    if choice == "raw":  # the SES record without its envelope, which the parser documents it accepts
        return message, Change("body", "is the SES record itself (no SNS envelope)", keeps_meaning=True)
    if choice == "pretty":
        pretty = sqs_escaped(dumps(envelope, ascii_only=False, indent="  "))
        return pretty, Change("body", "pretty-printed", keeps_meaning=True)
    if choice == "cut":
        at = draw(st.integers(0, max(0, len(body) - 1)))
        return body[:at], Change("body", f"cut after {at:,} of {len(body):,} characters")
    if choice == "wrap":
        wrapped = draw(st.sampled_from(["\ufeff" + body, body + " trailing", body + "}", json.dumps(body)]))
        return wrapped, Change("body", f":= {short(wrapped)}")
    if choice == "huge":
        new = draw(st.one_of(huge_text(), st.just("[" * 100_000), st.just('{"a":' * 50_000)))
        return new, Change("body", f":= {short(new)}")
    if choice == "json":
        new = draw(st.sampled_from(["null", "[]", "42", '"Notification"', "true", "[" + body + "]"]))
        return new, Change("body", f":= {short(new)}")
    text = sqs_escaped(
        draw(st.one_of(hostile_texts(), st.sampled_from(["<xml/>", "{}", "Type=Notification"])))
    )
    return text, Change("body", f":= {short(text)}")
