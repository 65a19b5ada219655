"""What counts as a control character in text the tracker stores, sends or routes on.

Unicode general category ``Cc`` (C0 controls U+0000-U+001F with TAB, CR and LF; DEL; C1 controls
U+0080-U+009F with NEL U+0085) and the line and paragraph separators ``Zl`` (U+2028) and ``Zp``
(U+2029). Every one of them breaks a line somewhere (a header, a log line, a terminal, a JSON
consumer that treats U+2028 as a line end) or is invisible where a person reads it. Format
characters (``Cf``: zero-width joiners in emoji, the bidirectional marks right-to-left text needs,
soft hyphens) are text and stay allowed.
"""

from __future__ import annotations

import unicodedata

CONTROL_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})


def has_control_characters(value: str) -> bool:
    return any(unicodedata.category(character) in CONTROL_CATEGORIES for character in value)
