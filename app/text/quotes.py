"""Quotation marks followed across a document: where each quotation runs, and how far it may run.

News prose quotes in several sentences at a time (`“We must act now. The plan should pass,” she said.`),
continues a quote into the next paragraph by opening it again without closing it first, introduces
quotes with a colon (`Kerry said: “…”`, `Statement from the President:` on a line of its own) and mixes
typographic conventions: "straight", “curly”, ‘single’, «guillemets», „low-high“. The scanner walks the
text once with a small stack of open marks.

Bounds, so that a stray or unbalanced mark never makes the rest of an article a quotation:
- a quotation never crosses a paragraph (a layout unit from the segmenter) unless it is left open at the
  end of one and the next paragraph opens a quotation again (the news continuation convention); then it
  runs to the end of its own paragraph and no further;
- an opening mark that is never closed and not continued is `unclosed`: it only ever makes the one
  sentence it opens in partly quoted (the caller bounds it), never a full quotation; except right after
  a speech lead (`Statement from X: “…`, `X said: “…`), where the writer has said a quotation follows:
  then it runs to the end of its paragraph (the closing mark was left out) and no further, and no
  further than ``MAX_QUOTE_CHARS``;
- a closed quotation longer than ``MAX_QUOTE_CHARS`` is not trusted (it is treated as unclosed);
- the stack holds at most ``MAX_DEPTH`` open marks; deeper openers are ignored.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

MAX_QUOTE_CHARS = 3000
MAX_DEPTH = 3

# opening mark → the marks that close it
_CLOSERS: dict[str, str] = {
    "“": "”",
    "„": "“”",
    "«": "»",
    "‘": "’",
    "‚": "‘’",
    "‹": "›",
    '"': '"',
}
# Marks that open only when nothing of their kind is open and they stand at a word's start:
# Scandinavian ”…” and »…«, and the straight double quote, which looks the same at both ends.
_REVERSIBLE: dict[str, str] = {"”": "”", "»": "«", "’": "’"}
OPENING_MARKS = frozenset(_CLOSERS) | frozenset(_REVERSIBLE)
QUOTE_MARKS = frozenset('“”„«»‘’‚‹›"')
_BEFORE_OPENER = frozenset("([{—–-/:")


@dataclass(frozen=True, slots=True)
class Quote:
    """``text[start:end]`` is a quotation, marks included (``end`` is the unit end when unclosed)."""

    start: int
    end: int
    closed: bool  # False: never closed; the caller bounds it to the sentence it opens in
    continued: bool = False  # left open at a paragraph end and opened again in the next paragraph
    block: bool = False  # a paragraph without marks introduced by `X said:` on the line before
    led: bool = False  # never closed, but opened right after `X said:`: runs to the end of its paragraph

    @property
    def inner(self) -> tuple[int, int]:
        """The quoted words without the marks."""
        if self.block:
            return self.start, self.end
        return self.start + 1, self.end - 1 if self.closed else self.end


@dataclass(slots=True)
class _Open:
    mark: str
    closers: str
    start: int


def find_quotes(text: str, units: Sequence[tuple[int, int]]) -> list[Quote]:
    """Every quotation in ``text``, in document order, each inside one unit (paragraph or line)."""
    quotes: list[Quote] = []
    for start, end in units:
        following = _next_word(text, end)  # the next paragraph's first character, past blank lines
        quotes.extend(_unit_quotes(text, start, end, following))
    return quotes


def _next_word(text: str, position: int) -> int | None:
    while position < len(text) and text[position].isspace():
        position += 1
    return position if position < len(text) else None


def _unit_quotes(text: str, start: int, end: int, following: int | None) -> Iterator[Quote]:
    skip = _csv_field_marks(text, start, end)
    stack: list[_Open] = []
    position = start
    while position < end:
        char = text[position]
        if char not in QUOTE_MARKS or position in skip:
            position += 1
            continue
        closed = _close(stack, text, position, end)
        if closed is not None:
            yield from _closed_quote(closed, position + 1)
        elif len(stack) < MAX_DEPTH and _looks_like_opener(text, position, end, start):
            closers = _CLOSERS.get(char) or _REVERSIBLE.get(char, "")
            if closers:
                stack.append(_Open(char, closers, position))
        position += 1
    continues = following is not None and _opens_quote(text, following)
    for still_open in stack:
        # Only the outermost open quote can be the one the next paragraph continues, or a lead's.
        outermost = still_open is stack[0]
        led = outermost and not continues and _after_speech_lead(text, start, still_open.start, end)
        yield Quote(still_open.start, end, closed=False, continued=continues and outermost, led=led)


def _closed_quote(opened: _Open, end: int) -> Iterator[Quote]:
    if end - opened.start <= MAX_QUOTE_CHARS:
        yield Quote(opened.start, end, closed=True)
    else:
        yield Quote(opened.start, end, closed=False)


def _close(stack: list[_Open], text: str, position: int, unit_end: int) -> _Open | None:
    """Pop and return the open quote this mark closes, or None when it closes none."""
    char = text[position]
    for depth in range(len(stack) - 1, -1, -1):
        candidate = stack[depth]
        if char not in candidate.closers:
            continue
        if char in "’'" and _is_apostrophe(text, position, unit_end):
            return None
        glued_to_next_word = position > 0 and text[position - 1].isspace()
        if char == '"' and glued_to_next_word and _looks_like_opener(text, position, unit_end, 0):
            continue  # `"a" "b"`: a straight mark after a space, glued to the next word, opens
        del stack[depth:]
        return candidate
    return None


def _looks_like_opener(text: str, position: int, unit_end: int, unit_start: int) -> bool:
    char = text[position]
    after = text[position + 1] if position + 1 < unit_end else ""
    before = text[position - 1] if position > unit_start else ""
    if not after or after.isspace():
        return False
    if char in "‘’" and after.isdigit():
        return False  # ’90s, ‘20s: an elided year
    if char in _REVERSIBLE or char == '"':
        return not before or before.isspace() or before in _BEFORE_OPENER or before in QUOTE_MARKS
    return True


def _after_speech_lead(text: str, unit_start: int, mark: int, unit_end: int) -> bool:
    """Whether the mark at ``mark`` follows a lead such as `Statement from X:` or `X said:`."""
    lead = text[unit_start:mark].rstrip()
    return unit_end - mark <= MAX_QUOTE_CHARS and lead.endswith(":") and _INTRO_LINE.search(lead) is not None


def _is_apostrophe(text: str, position: int, unit_end: int) -> bool:
    after = text[position + 1] if position + 1 < unit_end else ""
    before = text[position - 1] if position > 0 else ""
    return before.isalnum() and after.isalnum()  # don’t, O’Brien


def _opens_quote(text: str, position: int) -> bool:
    return position < len(text) and text[position] in OPENING_MARKS


def _csv_field_marks(text: str, start: int, end: int) -> frozenset[int]:
    """A unit pasted from a CSV cell: `"He said ""no"" twice."`. Its outer marks quote the field, not
    speech, and each doubled `""` stands for one mark; returns the positions to ignore."""
    first, last = start, end
    while first < last and text[first].isspace():
        first += 1
    while last > first and text[last - 1].isspace():
        last -= 1
    if (
        last - first < 4
        or text[first] != '"'
        or text[last - 1] != '"'
        or '""' not in text[first + 1 : last - 1]
    ):
        return frozenset()
    skipped = {first, last - 1}
    for match in re.finditer('""', text[first + 1 : last - 1]):
        skipped.add(first + 1 + match.start() + 1)  # keep the first of the pair as the mark
    return frozenset(skipped)


# --- `X said:` on a line of its own ------------------------------------------------------------------

SPEECH_VERBS = (
    "said|says|say|told|tells|added|adds|stated|states|noted|notes|wrote|writes|explained|explains|"
    "declared|declares|announced|announces|insisted|insists|argued|argues|warned|warns|asked|asks|"
    "replied|continued|remarked|tweeted|posted|commented|recalled|concluded|acknowledged|emphasized|"
    "emphasised|stressed|testified|reiterated"
)
_INTRO_LINE = re.compile(
    rf"(?:\b(?:{SPEECH_VERBS})\b[^.!?:]{{0,60}}|^\s*(?:Statement|Remarks|Message)\s+(?:from|of|by)\s+[^:]{{2,120}}"
    r"|\bin a statement\b[^.!?:]{0,40}|\baccording to\s+[^:]{2,80}):\s*$",
    re.IGNORECASE,
)


def introduced_blocks(text: str, units: Sequence[tuple[int, int]], quotes: Sequence[Quote]) -> list[Quote]:
    """Paragraphs without quotation marks that a line ending in `X said:` introduces: one paragraph each."""
    marked = {unit for unit, (start, end) in enumerate(units) for q in quotes if start <= q.start < end}
    filled = [index for index, (start, end) in enumerate(units) if text[start:end].strip()]
    blocks = []
    for index, following in itertools.pairwise(filled):
        start, end = units[index]
        if following in marked or not _INTRO_LINE.search(text[start:end].rstrip()):
            continue
        block_start, block_end = _strip(text, *units[following])
        blocks.append(Quote(block_start, block_end, closed=True, block=True))
    return blocks


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
