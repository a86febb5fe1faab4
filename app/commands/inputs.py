"""Reading JSON Lines input, shared by `claimsift classify` (articles) and `claimsift eval` (labelled rows).

One JSON object per non-blank line, with a string ``text``; each line says where it came from
(``file:line``), so a command can report a bad line precisely or turn it into a failed record.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Line:
    """One non-blank line: its fields, or ``problem`` when it is not an object with a string ``text``."""

    where: str  # "source:number"
    fields: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None

    @property
    def text(self) -> str:
        text = self.fields.get("text")
        return text if isinstance(text, str) else ""


def jsonl_lines(lines: Iterable[str], source: str) -> Iterator[Line]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Line(where, problem=f"not valid JSON ({exc.msg})")
            continue
        yield row_line(row, where)


def row_line(row: object, where: str) -> Line:
    """A parsed line or a table row (`claimsift backfill` reads Parquet), checked the one way."""
    if not isinstance(row, dict):
        return Line(where, problem="expected a JSON object")
    if not isinstance(row.get("text"), str):
        return Line(where, row, "missing or non-string `text`")
    return Line(where, row)
