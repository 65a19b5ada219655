"""Numbers and booleans as SES records have always been read: written as strings too.

The SES models took ``"546"`` for a number and ``"true"`` or ``"yes"`` for a boolean before they were
msgspec models; msgspec's own lax mode takes other spellings (``"1e3"``, not ``"yes"``), so the few
such fields are read by these rules instead, in the models' ``__post_init__``. A refusal names the
field after ``@`` (tracker.models.ses.errors puts it in the path). Not kept: what pydantic-core read
by accident (``"0-1"`` as -1, ``"0__0"`` as 0: a sign or a run of underscores after leading zeros).
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

_INTEGER = re.compile(r"[+-]?[0-9]+(?:_[0-9]+)*(?:\.0+)?")
_LARGEST = 2**63  # integral floats beyond a 64-bit integer were refused
# Unicode's White_Space characters (what str.strip() strips, less the separators U+001C-U+001F).
_WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})

if TYPE_CHECKING:
    LaxInt = int
    LaxBool = bool
else:
    # msgspec passes the value on as it came; __post_init__ reads it with lax_int / lax_bool.
    LaxInt = LaxBool = Any


def _refused(name: str, what: str) -> ValueError:
    return ValueError(f"@{name}: Input should be a valid {what}")


def lax_int(value: Any, name: str) -> int | None:
    if value is None or type(value) is int:
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < _LARGEST:
            return int(value)
        raise _refused(name, "integer")
    if isinstance(value, str):
        text = value.strip(_WHITE_SPACE)
        if _INTEGER.fullmatch(text):
            return int(text.partition(".")[0])
    raise _refused(name, "integer")


def lax_bool(value: Any, name: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        lowered = value.lower()
        if lowered in _TRUE or lowered in _FALSE:
            return lowered in _TRUE
    raise _refused(name, "boolean")
