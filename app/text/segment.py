"""Sentence segmentation with exact code-point offsets, built on the `sentencex` segmenter.

Layout comes first: every line that does not continue a wrapped line (it starts with a lowercase
letter) begins a new unit, so headlines, captions, bullets and lines without final punctuation stay
sentences of their own. `sentencex` then finds the sentence boundaries inside each unit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import sentencex

_LINE = re.compile(r"[^\n]*\n?")
_INITIAL_END = re.compile(r"(?:^|[^\w.])\w\.$")
_INITIAL_START = re.compile(r"^[A-Z]\.(?:\s|$)")


@dataclass(frozen=True, slots=True)
class Span:
    """One sentence: ``source[start:end] == text``, offsets in code points, end exclusive."""

    start: int
    end: int
    text: str


def split_sentences(source: str, language: str = "en") -> list[Span]:
    """Split ``source`` into sentences in document order, non-overlapping.

    Surrounding whitespace is trimmed from each span. Segments with no letter or digit (separator lines
    such as ". ." or "***") are not sentences and are left out.
    """
    spans: list[Span] = []
    for unit_start, unit_end in _layout_units(source):
        for start, end in _segment_unit(source, unit_start, unit_end, language):
            if spans and _splits_an_initialism(spans[-1].text, source[start:end]):
                start = spans.pop().start
            spans.append(Span(start, end, source[start:end]))
    return spans


def _layout_units(source: str) -> Iterator[tuple[int, int]]:
    """Runs of lines that belong together: a wrapped line continues when the next starts lowercase."""
    unit_start, unit_end = 0, 0
    for match in _LINE.finditer(source):
        line = match.group()
        if not line:
            break
        stripped = line.lstrip()
        continues = bool(stripped) and stripped[0].islower() and unit_end > unit_start
        if not continues and unit_end > unit_start:
            yield unit_start, unit_end
            unit_start = match.start()
        unit_end = match.end()
        if not stripped.strip():
            # A blank line closes the paragraph.
            yield unit_start, unit_end
            unit_start = unit_end
    if unit_end > unit_start:
        yield unit_start, unit_end


def _segment_unit(source: str, unit_start: int, unit_end: int, language: str) -> Iterator[tuple[int, int]]:
    unit = source[unit_start:unit_end]
    if not any(char.isalnum() for char in unit):
        return
    previous_end = 0
    for boundary in sentencex.get_sentence_boundaries(language, unit):
        # Clamp so a segmenter quirk can never yield overlapping or out-of-order spans.
        start = max(int(boundary["start_index"]), previous_end)
        end = min(max(int(boundary["end_index"]), start), len(unit))
        start, end = _trim(unit, start, end)
        if start < end and any(char.isalnum() for char in unit[start:end]):
            previous_end = end
            yield unit_start + start, unit_start + end


def _splits_an_initialism(previous: str, current: str) -> bool:
    # sentencex breaks "Korea-U.S. summit" after "U."; an initial followed by an initial is one word.
    return bool(_INITIAL_END.search(previous) and _INITIAL_START.match(current))


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
