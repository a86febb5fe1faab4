"""Each sentence in its context: its role on the page, how much of it is quoted, and who is speaking.

A sentence is quoted `full` when every letter and digit of it lies inside a quotation that is closed,
continued into the next paragraph, or a paragraph introduced by `X said:`, and it starts as a sentence
does (a quotation that starts in lowercase is a phrase lifted into the writer's own sentence, as in
`"notice is the hallmark of fairness."` cut from a longer one); `partial` when some do (an unclosed
quotation counts only here, and only in the sentence it opens in, unless a speech lead such as
`Statement from X: “` opens it: then it is trusted to its paragraph's end); else `none`. The speaker of a
quotation is named right before it (`Kerry said: “…`), right after it (`…,” said Kerry.`), on the
`X said:` line before its paragraph, or inherited from the quotation just before it when that one ends in
the same or the previous sentence (`“A,” said Kerry. “B.”`) or continues into it.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from app.text.quotes import Quote, introduced_blocks
from app.text.roles import ElementHint, Role, sentence_roles
from app.text.segment import Segmentation, Span
from app.text.speakers import Speaker, speaker_after, speaker_before

QuoteLevel = Literal["none", "partial", "full"]


@dataclass(frozen=True, slots=True)
class SentenceContext:
    role: Role
    quoted: QuoteLevel
    speaker: Speaker | None


@dataclass(frozen=True, slots=True)
class _Run:
    """A quotation as the sentences see it: where its words are and whether it may make one `full`."""

    start: int
    end: int
    trusted: bool
    speaker: Speaker | None


def annotate(
    source: str, segmentation: Segmentation, hints: Sequence[ElementHint | None] | None = None
) -> list[SentenceContext]:
    """One context per span of ``segmentation``, in order."""
    spans, units = segmentation.spans, segmentation.units
    quotes = sorted(
        [*segmentation.quotes, *introduced_blocks(source, units, segmentation.quotes)], key=lambda q: q.start
    )
    runs = _runs(source, spans, units, quotes)
    run_starts = [run.start for run in runs]
    unit_starts = [start for start, _ in units]
    levels: list[QuoteLevel] = []
    speakers: list[Speaker | None] = []
    for span in spans:
        # Every quotation lies inside one unit, so only those starting in the span's unit can cover it.
        unit_start = unit_starts[bisect.bisect_right(unit_starts, span.start) - 1] if unit_starts else 0
        nearby = runs[bisect.bisect_left(run_starts, unit_start) : bisect.bisect_left(run_starts, span.end)]
        level, speaker = _quoted(source, span, nearby)
        levels.append(level)
        speakers.append(speaker)
    roles = sentence_roles(source, spans, units, levels, hints)
    return [
        SentenceContext(role, level, speaker)
        for role, level, speaker in zip(roles, levels, speakers, strict=True)
    ]


def _runs(
    source: str, spans: Sequence[Span], units: Sequence[tuple[int, int]], quotes: Sequence[Quote]
) -> list[_Run]:
    starts = [span.start for span in spans]
    unit_starts = [start for start, _ in units]
    runs: list[_Run] = []
    previous: Quote | None = None
    for quote in quotes:
        opened_in = _span_at(spans, starts, quote.start)
        inner_start, inner_end = quote.inner
        trusted = quote.closed or quote.continued or quote.block or quote.led
        if not trusted and opened_in is not None:
            inner_end = min(inner_end, opened_in.end)  # an unclosed mark reaches no further than its sentence
        speaker = _speaker_of(source, spans, starts, units, unit_starts, quote, opened_in)
        if speaker is None and previous is not None and runs and _follows(spans, starts, previous, quote):
            speaker = runs[-1].speaker
        runs.append(_Run(inner_start, inner_end, trusted, speaker))
        previous = quote
    return runs


def _speaker_of(
    source: str,
    spans: Sequence[Span],
    starts: Sequence[int],
    units: Sequence[tuple[int, int]],
    unit_starts: Sequence[int],
    quote: Quote,
    opened_in: Span | None,
) -> Speaker | None:
    if opened_in is not None and opened_in.start < quote.start:
        found = speaker_before(source, opened_in.start, quote.start)
        if found is not None:
            return found
    closed_in = _span_at(spans, starts, quote.end - 1)
    if quote.closed and closed_in is not None and quote.end < closed_in.end:
        found = speaker_after(source, quote.end, closed_in.end)
        if found is not None:
            return found
    unit = bisect.bisect_right(unit_starts, quote.start) - 1
    opens_unit = unit >= 0 and not source[units[unit][0] : quote.start].strip()
    previous = unit - 1
    while previous >= 0 and not source[units[previous][0] : units[previous][1]].strip():
        previous -= 1  # blank lines between the `X said:` line and the quotation
    if opens_unit and previous >= 0:
        previous_start, previous_end = units[previous]
        intro = source[previous_start:previous_end].rstrip()
        if intro.endswith(":"):
            return speaker_before(source, previous_start, previous_start + len(intro))
    return None


def _follows(spans: Sequence[Span], starts: Sequence[int], previous: Quote, quote: Quote) -> bool:
    """Whether ``quote`` carries on ``previous``: continued into it, or opens in the same or next sentence."""
    if previous.continued:
        return True
    ended = bisect.bisect_right(starts, previous.end - 1) - 1
    opened = bisect.bisect_right(starts, quote.start) - 1
    return 0 <= opened - ended <= 1 and ended >= 0 and spans[ended].end >= previous.end - 1


def _span_at(spans: Sequence[Span], starts: Sequence[int], position: int) -> Span | None:
    index = bisect.bisect_right(starts, position) - 1
    if index < 0:
        return None
    span = spans[index]
    return span if position < span.end else None


def _quoted(source: str, span: Span, runs: Sequence[_Run]) -> tuple[QuoteLevel, Speaker | None]:
    words = [i for i in range(span.start, span.end) if source[i].isalnum()]
    if not words:
        return "none", None
    trusted_cover = 0
    any_cover = 0
    speaker: Speaker | None = None
    for run in runs:
        if run.end <= span.start or run.start >= span.end:
            continue
        inside = sum(1 for i in words if run.start <= i < run.end)
        if not inside:
            continue
        any_cover += inside
        trusted_cover += inside if run.trusted else 0
        speaker = speaker or run.speaker
    if trusted_cover >= len(words) and not source[words[0]].islower():
        return "full", speaker
    if any_cover:
        return "partial", speaker
    return "none", None
