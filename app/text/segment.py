"""Sentence segmentation with exact code-point offsets, built on the `sentencex` segmenter.

Layout comes first: every line that does not continue a wrapped line (it starts with a lowercase
letter) begins a new unit, so headlines, captions, bullets and lines without final punctuation stay
sentences of their own. `sentencex` then finds the sentence boundaries inside each unit. It never splits
inside a balanced quotation, so the sentences of a closed multi-sentence quotation are split afterwards
(`app.text.quotes` finds the quotations), and an opening mark it leaves at the end of a sentence (an
unclosed quotation) moves to the sentence it opens.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import sentencex

from app.text.quotes import OPENING_MARKS, Quote, find_quotes

_LINE = re.compile(r"[^\n]*\n?")
_INITIAL_END = re.compile(r"(?:^|[^\w.])\w\.$")
_INITIAL_START = re.compile(r"^[A-Z]\.(?:\s|$)")


@dataclass(frozen=True, slots=True)
class Span:
    """One sentence: ``source[start:end] == text``, offsets in code points, end exclusive."""

    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Segmentation:
    """The sentences of a text with the paragraphs (layout units) and quotations they were cut by."""

    spans: list[Span]
    units: list[tuple[int, int]]
    quotes: list[Quote]


def split_sentences(source: str, language: str = "en") -> list[Span]:
    """Split ``source`` into sentences in document order, non-overlapping.

    Surrounding whitespace is trimmed from each span. Segments with no letter or digit (separator lines
    such as ". ." or "***") are not sentences and are left out.
    """
    return segment(source, language).spans


def segment(source: str, language: str = "en") -> Segmentation:
    units = list(layout_units(source))
    quotes = find_quotes(source, units)
    spans: list[Span] = []
    closed = [quote for quote in quotes if quote.closed and not quote.block]
    first = 0  # the first closed quotation that does not end before the current span
    for unit_start, unit_end in units:
        for start, end in _segment_unit(source, unit_start, unit_end, language):
            while first < len(closed) and closed[first].end <= start:
                first += 1
            for piece_start, piece_end in _split_inside_quotes(source, start, end, closed, first, language):
                if spans and _splits_an_initialism(spans[-1].text, source[piece_start:piece_end]):
                    piece_start = spans.pop().start
                spans.append(Span(piece_start, piece_end, source[piece_start:piece_end]))
    return Segmentation(spans, units, quotes)


def layout_units(source: str) -> Iterator[tuple[int, int]]:
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
    carried: int | None = None  # where an opening mark left at the previous sentence's end sits
    for boundary in sentencex.get_sentence_boundaries(language, unit):
        # Clamp so a segmenter quirk can never yield overlapping or out-of-order spans.
        start = max(int(boundary["start_index"]), previous_end)
        end = min(max(int(boundary["end_index"]), start), len(unit))
        if carried is not None:
            start, carried = carried, None
        start, end = _trim(unit, start, end)
        mark = _dangling_opening_mark(unit, start, end)
        if mark is not None:
            carried, end = mark, _trim(unit, start, mark)[1]
        if start < end and any(char.isalnum() for char in unit[start:end]):
            previous_end = end if carried is None else carried
            yield unit_start + start, unit_start + end


def _dangling_opening_mark(unit: str, start: int, end: int) -> int | None:
    """`…she said. “` (a quotation left open): the position of the mark the next sentence should get."""
    mark = end
    while mark > start and unit[mark - 1] in OPENING_MARKS:
        mark -= 1
    if mark in (end, start) or not unit[mark - 1].isspace():
        return None
    return mark


def _split_inside_quotes(
    source: str, start: int, end: int, quotes: Sequence[Quote], first: int, language: str
) -> Iterator[tuple[int, int]]:
    """Cut a span at the sentence boundaries inside the closed quotations it holds (from ``first`` on)."""
    cuts: list[int] = []
    for index in range(first, len(quotes)):
        quote = quotes[index]
        if quote.start >= end:
            break
        inner_start, inner_end = max(quote.inner[0], start), min(quote.inner[1], end)
        if inner_end - inner_start > 1:
            inner = source[inner_start:inner_end]
            for boundary in sentencex.get_sentence_boundaries(language, inner)[1:]:
                cuts.append(inner_start + int(boundary["start_index"]))
    piece_start = start
    for cut in sorted(set(cuts)):
        left = _trim(source, piece_start, cut)
        if _has_word(source, *left) and _has_word(source, cut, end):
            yield left
            piece_start = _trim(source, cut, end)[0]
    yield piece_start, end


def _has_word(text: str, start: int, end: int) -> bool:
    return any(char.isalnum() for char in text[start:end])


def _splits_an_initialism(previous: str, current: str) -> bool:
    # sentencex breaks "Korea-U.S. summit" after "U."; an initial followed by an initial is one word.
    return bool(_INITIAL_END.search(previous) and _INITIAL_START.match(current))


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
