"""Code-point offsets (Python string indices) to UTF-16 code units (JavaScript string indices).

They differ only after characters outside the Basic Multilingual Plane (emoji, some CJK), which are one
code point but two UTF-16 code units. A lone surrogate (legal in JSON) is one unit in both.
"""

from __future__ import annotations

from collections.abc import Sequence


def utf16_length(text: str) -> int:
    """How many UTF-16 code units `text` has, i.e. its JavaScript `.length`."""
    # encode() runs in C; "surrogatepass" lets a lone surrogate through as the one unit it is in JS.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def utf16_offsets(text: str, positions: Sequence[int]) -> list[int]:
    """The UTF-16 offset of every code-point position in `positions`, in the same order.

    Positions are visited in sorted order and only the stretch between neighbours is measured, so the
    whole call reads `text` once: linear in ``len(text)`` plus the sort of the positions.
    """
    converted = [0] * len(positions)
    code_point, code_unit = 0, 0
    for i in sorted(range(len(positions)), key=positions.__getitem__):
        position = positions[i]
        if not 0 <= position <= len(text):
            raise ValueError(f"position {position} is outside the text (length {len(text)})")
        code_unit += utf16_length(text[code_point:position])
        code_point = position
        converted[i] = code_unit
    return converted
