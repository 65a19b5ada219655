"""Plain-text tables and the goal lines of the bench's output."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

PASS = "✔"
FAIL = "✘"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str = "", indent: int = 2) -> str:
    """Columns aligned; ``align`` has one letter per column, ``l`` or ``r`` (default: first left,
    the rest right)."""
    columns = len(headers)
    align = align or "l" + "r" * (columns - 1)
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(columns)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            str(cell).ljust(width) if a == "l" else str(cell).rjust(width)
            for cell, width, a in zip(cells, widths, align, strict=True)
        ]
        return " " * indent + "  ".join(parts).rstrip()

    rule = " " * indent + "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


def heading(number: str, title: str) -> str:
    text = f"{number}. {title}" if number else title
    return f"\n{text}\n{'=' * len(text)}"


def ratio(naive: float, ours: float) -> str:
    if ours == 0:
        return "-" if naive == 0 else "∞"
    return f"{naive / ours:,.1f}x"


@dataclass(frozen=True)
class Goal:
    text: str
    met: bool | None  # None: could not be measured in this run
    measured: str
    why: str = ""

    def render(self) -> str:
        mark = PASS if self.met else (FAIL if self.met is not None else "?")
        out = f"  {mark} {self.text}\n      measured: {self.measured}"
        if self.why and not self.met:
            out += "\n      " + self.why.replace("\n", "\n      ")
        return out
