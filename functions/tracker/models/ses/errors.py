"""msgspec's validation errors as quarantine details: ``<dotted path>: <what is wrong>``.

msgspec writes ``Expected `str`, got `int` - at `$.bounce.bouncedRecipients[0].emailAddress```;
a detail reads ``bounce.bouncedRecipients.0.emailAddress: Expected `str`, got `int```, the path in
the spelling the surrogate check and the operations guide use. A missing field is named in the
path (msgspec names it in the message, at its object), so is a field a model's ``__post_init__``
refused, and a map's key in place of msgspec's
``[...]`` (it does not say which entry was wrong).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

_AT = " - at `$"
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]*)`$")
_OWN = re.compile(r"^@(?P<field>[^:]+): (?P<message>.*)$", re.DOTALL)
_STEP = re.compile(r"\.(?P<name>[^.\[]+)|\[(?P<index>\d+)\]|\[(?P<entry>\.\.\.)\]")


def _well_formed(value: Any) -> bool:
    """What every map of the SES models holds as a value: a list of strings."""
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _steps(path: str, document: Any) -> list[str]:
    """The steps of msgspec's ``path`` (after ``$``), each ``[...]`` replaced by the key of the
    first entry there that is not a list of strings (msgspec stops at the first wrong one)."""
    steps: list[str] = []
    node = document
    for match in _STEP.finditer(path):
        if match["name"] is not None:
            step: str = match["name"]
            node = node.get(step) if isinstance(node, dict) else None
        elif match["index"] is not None:
            step = match["index"]
            index = int(step)
            node = node[index] if isinstance(node, list) and index < len(node) else None
        else:
            wrong = (
                [key for key, value in node.items() if not _well_formed(value)]
                if isinstance(node, dict)
                else []
            )
            step = str(wrong[0]) if wrong else "..."
            node = node.get(step) if isinstance(node, dict) else None
        steps.append(step)
    return steps


def error_detail(error: msgspec.ValidationError, document: Any) -> str:
    """``<path>: <message>`` for ``error``, raised validating ``document``; ``<root>`` for the
    document itself."""
    text = str(error)
    message, at, path = text.rpartition(_AT) if _AT in text else (text, "", "")
    steps = _steps(path.removesuffix("`"), document) if at else []
    own = _OWN.match(message)  # a field a model's __post_init__ refused (tracker.models.ses.lax)
    if own is not None:
        steps.append(own["field"])
        message = own["message"]
    missing = _MISSING.match(message)
    if missing is not None:
        steps.append(missing["field"])
        message = "Field required"
    return f"{'.'.join(steps) or '<root>'}: {message}"
