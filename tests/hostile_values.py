"""Hostile JSON: documents that keep duplicate and reordered keys, and strategies for the values an
attacker or a careless integrator puts in them (retyped, huge, deeply nested, odd unicode, extreme
timestamps, blank or malformed addresses).

Not tied to SES: the SES payload mutations (`tests/hostile.py`) and any other boundary (the API)
build on these. A document is a tree of :class:`Obj` (an object as a list of key/value pairs, so a
key may appear twice or in any order), lists, :class:`Nested` (deep nesting written without
recursion) and JSON scalars; :func:`dumps` writes it as JSON text the way a hostile sender could.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any

from hypothesis import strategies as st

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Obj:
    """A JSON object as written: its pairs in order, duplicates allowed (a JSON parser keeps the last)."""

    pairs: tuple[tuple[str, Any], ...]

    def names(self) -> list[str]:
        return [key for key, _ in self.pairs]


@dataclass(frozen=True)
class Nested:
    """``inner`` wrapped in ``depth`` lists (``[[[...]]]``) or objects (``{"a":{"a":...}}``)."""

    depth: int
    inner: Any
    as_object: bool = False


def tree(value: Any) -> Any:
    """Plain JSON data (dicts, lists, scalars) as a document."""
    if isinstance(value, Mapping):
        return Obj(tuple((str(key), tree(item)) for key, item in value.items()))
    if isinstance(value, list | tuple):
        return [tree(item) for item in value]
    return value


def dumps(node: Any, *, ascii_only: bool = True, indent: str | None = None) -> str:
    """JSON text of a document (NaN and Infinity written as Python's parser reads them)."""
    parts: list[str] = []
    _write(node, parts, ascii_only, indent, 0)
    return "".join(parts)


def _write(node: Any, out: list[str], ascii_only: bool, indent: str | None, level: int) -> None:
    newline = "" if indent is None else "\n" + indent * (level + 1)
    closing = "" if indent is None else "\n" + indent * level
    if isinstance(node, Obj):
        out.append("{")
        for n, (key, value) in enumerate(node.pairs):
            out.append(("," if n else "") + newline + _string(key, ascii_only) + ":")
            _write(value, out, ascii_only, indent, level + 1)
        out.append((closing if node.pairs else "") + "}")
    elif isinstance(node, list) and indent is None and not any(isinstance(v, _CONTAINERS) for v in node):
        out.append(
            json.dumps(node, ensure_ascii=ascii_only, separators=(",", ":"))
        )  # one C call for a (long) flat list
    elif isinstance(node, list):
        out.append("[")
        for n, value in enumerate(node):
            out.append(("," if n else "") + newline)
            _write(value, out, ascii_only, indent, level + 1)
        out.append((closing if node else "") + "]")
    elif isinstance(node, Nested):
        out.append('{"a":' * node.depth if node.as_object else "[" * node.depth)
        _write(node.inner, out, ascii_only, None, level)
        out.append("}" * node.depth if node.as_object else "]" * node.depth)
    elif isinstance(node, str):
        out.append(_string(node, ascii_only))
    else:
        out.append(json.dumps(node, ensure_ascii=ascii_only))


_CONTAINERS = (Obj, list, Nested)


def _string(text: str, ascii_only: bool) -> str:
    return encode_basestring_ascii(text) if ascii_only else encode_basestring(text)


# --- paths into a document ------------------------------------------------------------------


def paths(node: Any, prefix: Path = ()) -> list[Path]:
    """Every node's path below ``prefix`` (``prefix`` itself excluded), outermost first."""
    found: list[Path] = []
    children: Sequence[tuple[str | int, Any]] = ()
    if isinstance(node, Obj):
        children = list(dict(node.pairs).items())  # a key written twice: the value a parser reads
    elif isinstance(node, list):
        children = list(enumerate(node))
    found.extend((*prefix, key) for key, _ in children)
    for key, child in children:
        found.extend(paths(child, (*prefix, key)))
    return found


def get(node: Any, path: Path) -> Any:
    for step in path:
        node = dict(node.pairs)[step] if isinstance(node, Obj) else node[step]
    return node


def update(node: Any, path: Path, change: Callable[[Any], Any]) -> Any:
    """A copy of the document with ``change`` applied to the parent of ``path``'s last step's node:
    ``change`` gets the node at ``path[:-1]`` and returns its replacement (the rest is shared)."""
    if not path[:-1]:
        return change(node)
    step, rest = path[0], path[1:]
    if isinstance(node, Obj):
        at = _last_pair(node, step)
        pairs = list(node.pairs)
        pairs[at] = (pairs[at][0], update(pairs[at][1], rest, change))
        return Obj(tuple(pairs))
    copy = list(node)
    copy[step] = update(copy[step], rest, change)  # type: ignore[index]
    return copy


def _last_pair(node: Obj, key: str | int) -> int:
    """The pair a parser reads for ``key`` (the last one when it is written twice)."""
    return max(n for n, (k, _) in enumerate(node.pairs) if k == key)


def replace(node: Any, path: Path, value: Any) -> Any:
    last = path[-1]

    def put(parent: Any) -> Any:
        if isinstance(parent, Obj):
            at = _last_pair(parent, last)
            return Obj(tuple((k, value if n == at else v) for n, (k, v) in enumerate(parent.pairs)))
        copy = list(parent)
        copy[last] = value  # type: ignore[index]
        return copy

    return update(node, path, put)


def delete(node: Any, path: Path) -> Any:
    last = path[-1]

    def drop(parent: Any) -> Any:
        if isinstance(parent, Obj):
            return Obj(tuple((k, v) for k, v in parent.pairs if k != last))
        return [v for i, v in enumerate(parent) if i != last]

    return update(node, path, drop)


def short(value: Any, limit: int = 60) -> str:
    """A value for a test's description: huge strings and deep nesting abbreviated."""
    if isinstance(value, Nested):
        return f"<{'objects' if value.as_object else 'lists'} nested {value.depth} deep>"
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}...<{len(value):,} chars>"
    text = repr(value) if not isinstance(value, Obj | list) else dumps(value)
    return text if len(text) <= limit else f"{text[:limit]}...<{len(text):,} chars>"


# --- hostile scalars ------------------------------------------------------------------------

TRICKY_TEXTS = (
    "",
    " ",
    "\t\r\n",
    "\x00",
    "nul\x00inside",
    "\ud800",  # a lone high surrogate: valid as a JSON escape, not as UTF-8
    "lone low \udfff",
    "\u202eevil\u202c",  # right-to-left override
    "שלום עולם",
    "e\u0301\u0301\u0301\u0301",  # combining marks
    "👩\u200d👩\u200d👧\u200d👦",  # a ZWJ emoji sequence
    "\ufeffbom",
    "\u2028\u2029",
    "\x85\x0b\x0c",
    "\U0010ffff\ufffe\uffff",  # non-characters
    "zero\u200bwidth",
    "\uff26\uff35\uff2c\uff2c\uff37\uff29\uff24\uff34\uff28",  # full-width letters
    "null",
    "[]",
    "{}",
    "-0",
    "1e999",
    "NaN",
    "<script>alert(1)</script>",
    "'; DROP TABLE messages; --",
    "%s%n%x",
    "\\",
    '"',
    "#",
    "../../etc/passwd",
)

HUGE_NUMBERS = (0, -1, 1, 2**31, 2**63, -(2**63) - 1, 10**40, 10**300, 1.5, -0.0, 1e308, 5e-324)
SPECIAL_FLOATS = (math.inf, -math.inf, math.nan)


def hostile_texts(max_size: int = 30) -> st.SearchStrategy[str]:
    """Short strings that trip parsers, encoders and displays (surrogates and control characters included)."""
    return st.one_of(
        st.sampled_from(TRICKY_TEXTS),
        st.text(st.characters(exclude_categories=()), max_size=max_size),
    )


def hostile_numbers() -> st.SearchStrategy[int | float]:
    return st.one_of(
        st.sampled_from(HUGE_NUMBERS + SPECIAL_FLOATS),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
    )


def json_values(max_leaves: int = 6) -> st.SearchStrategy[Any]:
    """Any small JSON value (as a document)."""
    scalars = st.one_of(st.none(), st.booleans(), hostile_numbers(), hostile_texts(10))
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.lists(st.tuples(hostile_texts(8), children), max_size=3).map(lambda kv: Obj(tuple(kv))),
        ),
        max_leaves=max_leaves,
    )


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | Nested):
        return "list"
    if isinstance(value, Obj):
        return "object"
    return "null"


def retyped(value: Any) -> st.SearchStrategy[Any]:
    """``value`` as another JSON type: a string as a number, a list as an object, anything as null..."""
    text = value if isinstance(value, str) else dumps(value)
    forms: dict[str, st.SearchStrategy[Any]] = {
        "string": st.sampled_from([text, "", "null", "0"]),
        "number": st.one_of(st.sampled_from([0, 1, -1, 1714564800000, 1.5]), hostile_numbers()),
        "bool": st.booleans(),
        "null": st.none(),
        "list": st.sampled_from([[], [value], [[value]]]),
        "object": st.sampled_from([Obj(()), Obj((("value", value),)), Obj((("", None),))]),
    }
    others = [strategy for kind, strategy in forms.items() if kind != _kind(value)]
    return st.one_of(*others)


# --- large and deep values ------------------------------------------------------------------

# What an enlarged string is made of: each one costs a different encoder something.
FILLERS = ("x", "é", '"', "\\", "\x00", "💥", "a\u0301", "\ud800", "ab c", "<", "\u202e")
# Up to what SNS carries (256 KiB per message), in bytes of the UTF-8 JSON text.
HUGE_SIZES = (1_100, 20_000, 120_000, 240_000)


def json_bytes(text: str) -> int:
    """The size of ``text`` as a string in UTF-8 JSON (quotes, escapes and multi-byte characters counted)."""
    return len(json.dumps(text, ensure_ascii=False).encode("utf-8", "surrogatepass")) - 2


def huge_text(prefix: str = "") -> st.SearchStrategy[str]:
    """``prefix`` followed by a filler repeated to one of :data:`HUGE_SIZES` bytes of JSON text."""

    def build(filler: str, size: int) -> str:
        return prefix + filler * max(1, (size - json_bytes(prefix)) // json_bytes(filler))

    return st.builds(build, st.sampled_from(FILLERS), st.sampled_from(HUGE_SIZES))


def enlarged(value: Any) -> st.SearchStrategy[Any]:
    """``value`` made big: a huge string, a long list, a wide object or a deep nesting of it."""
    if isinstance(value, Nested):
        return st.just(Nested(value.depth * 2, value.inner, value.as_object))
    options: list[st.SearchStrategy[Any]] = [
        st.builds(Nested, st.sampled_from([64, 600, 3_000]), st.just(value), st.booleans()),
    ]
    if isinstance(value, str):
        options.insert(0, huge_text(value))
    elif isinstance(value, list):
        items = value or [None]
        options.insert(0, st.sampled_from([500, 5_000]).map(lambda n: (items * n)[:n]))
    elif isinstance(value, Obj):
        options.insert(
            0,
            st.sampled_from([1_000, 8_000]).map(
                lambda n: Obj(value.pairs + tuple((f"extra{i}", i) for i in range(n)))
            ),
        )
    else:
        options.append(st.just([value] * 5_000))
    return st.one_of(*options)


# --- timestamps and addresses ---------------------------------------------------------------

EXTREME_TIMESTAMPS = (
    "0001-01-01T00:00:00.000Z",
    "0001-01-01T00:00:00+01:00",  # before year 1 once in UTC
    "9999-12-31T23:59:59.999Z",
    "9999-12-31T23:59:59-01:00",  # after year 9999 once in UTC
    "9999-12-31T23:59:59.999999+00:00",
    "9999-01-01T00:00:00Z",
    "9000-01-01T00:00:00Z",
    "2999-12-31T23:59:59Z",
    "2038-01-19T03:14:08Z",
    "1970-01-01T00:00:00Z",
    "1969-12-31T23:59:59.999Z",
    "1900-01-01T00:00:00Z",
    "2024-05-01T12:00:00+14:00",
    "2024-05-01T12:00:00-12:00",
    "2024-05-01T12:00:00+23:59",
    "2024-05-01 12:00:00",
    "2024-05-01T12:00:00",
    "2024-05-01",
    "2024-05-01T12:00:00.123456789Z",
    "2018-10-08T14:05:45 +0000",
    "20240501T120000Z",
    "2016-12-31T23:59:60Z",  # a leap second
    "2024-02-30T00:00:00Z",
    "2024-13-01T00:00:00Z",
    "2024-05-01T24:00:00Z",
    "2024-05-01T12:00:00ZZ",
    "+2024-05-01T12:00:00Z",
    "-0001-01-01T00:00:00Z",
    "2024-05-01T12:00:00\x00Z",
    "\u0662\u0660\u0662\u0664-\u0660\u0665-\u0660\u0661T12:00:00Z",  # Arabic-Indic digits
    "yesterday",
    "",
    " ",
    "1714564800000",
)


def _offsets() -> st.SearchStrategy[timezone | None]:
    return st.one_of(
        st.none(),
        st.just(UTC),
        st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda minutes: timezone(timedelta(minutes=minutes))),
    )


def hostile_timestamps() -> st.SearchStrategy[Any]:
    """Timestamps at and past the ends of the calendar, with odd offsets, or not timestamps at all."""
    anywhen = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59))
    return st.one_of(
        st.sampled_from(EXTREME_TIMESTAMPS),
        st.one_of(
            st.builds(lambda when, zone: when.replace(tzinfo=zone).isoformat(), anywhen, _offsets()),
            hostile_numbers(),
            hostile_texts(),
            st.none(),
        ),
    )


HOSTILE_ADDRESSES = (
    "",
    " ",
    "   ",
    "\t\n",
    "<>",
    "@",
    "person0@",
    "@example.com",
    "person0",
    "person0@@example.com",
    "person0@example..com",
    "person0@example.com, person1@example.com",
    "undisclosed-recipients:;",
    '"Person, Zero" <person0@example.com>',
    "=?utf-8?b?UGVyc29uIDA=?= <person0@example.com>",
    "PERSON0@EXAMPLE.COM",
    " person0@example.com ",
    "person0@example.com\x00",
    "\u202eperson0@example.com",
    "person0\u200b@example.com",
    "\uff50\uff45\uff52\uff53\uff4f\uff4e0@example.com",  # full-width letters
    "pérson0@exämple.com",
    "person0@xn--bcher-kva.ch",
    "\ud800@example.com",
    "a" * 65 + "@example.com",
    "a" * 300 + "@" + "b" * 300 + ".com",
)


def hostile_addresses() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(HOSTILE_ADDRESSES), st.emails(), hostile_texts())


# What SQS refuses in a message body: anything outside XML 1.0's characters (raw NUL, surrogates...).
_SQS_UNSAFE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def sqs_safe(text: str) -> bool:
    """Whether SQS accepts ``text`` as a message body."""
    return _SQS_UNSAFE.search(text) is None


def sqs_escaped(text: str) -> str:
    """What a sender that escapes puts on SQS in place of the characters SQS refuses (inside a JSON
    string, where a document's odd characters are, the escape reads back as the same character)."""
    return _SQS_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
