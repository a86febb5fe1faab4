"""Who is quoted: a name next to a speech verb just before or just after a quotation.

Only names count (a run of capitalised words, optionally with a title, `of`/`for` connectors and an
appositive: `Enoh T. Ebong, Director of the U.S. Trade and Development Agency, said:`) or a short role
phrase (`the company's chair`); a pronoun (`she said`) names nobody, so it gives no speaker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.text.quotes import SPEECH_VERBS

_WORD = r"[A-Z][\w.’'\-]*"
_CONNECTOR = r"(?:of|for|and|the|de|da|del|der|van|von|bin|al|la|le|on|to)"
_PROPER = rf"{_WORD}(?:\s+(?:{_CONNECTOR}\s+)*{_WORD}){{0,11}}"
_ROLE = (
    r"(?:[Tt]he|[Aa]n?)\s+(?:[\w’'\-]+\s+){0,3}?(?:spokes(?:person|man|woman)|officials?|chair(?:man|woman)?|"
    r"minister|president|director|mayor|governor|ambassador|secretary|statement|report|company|agency|"
    r"ministry|department|police|union|court|judge|prosecutors?|lawyers?|witness(?:es)?)"
)


def _name(group: str) -> str:
    return rf"(?P<{group}>{_PROPER}|{_ROLE})"


_VERB = rf"(?:{SPEECH_VERBS})"
_APPOSITIVE = r"(?:,[^,“”\"«»]{1,120},)?"
_ADVERBIAL = (
    r"(?:\s+(?:in a statement|in an interview|on \w+|today|yesterday|last week|then|also|later|that))*"
)
# Text before an opening mark, in the same sentence: `Kerry said: “`, `McCarthy: “`, `according to X, “`.
_LEAD_IN = re.compile(
    rf"(?:\b(?:Statement|Remarks|Message) (?:from|of|by) {_name('n4')}|"
    rf"{_name('n1')}{_APPOSITIVE}\s+(?:has\s+|had\s+)?{_VERB}{_ADVERBIAL}|(?:^|[.;]\s+|\n){_name('n2')}|"
    rf"\b[Aa]ccording to {_name('n3')})\s*[:,]?\s*$"
)
# Text after a closing mark: `,” said Eliot Kang.` or `,” Kang said.`
_LOWERCASE_TITLE = r"(?:[a-z][\w’'-]*\s+){0,3}"  # `said union president Ray Curry`
_TRAILER = re.compile(
    rf"^[\s,]*(?:{_VERB}\s+{_LOWERCASE_TITLE}{_name('n1')}|{_name('n2')}{_APPOSITIVE}\s+{_VERB})\b"
)
# Capitalised only because they open a sentence or a clause: never the start of a name.
_LEADING_NOISE = re.compile(
    r"^(?:(?:Today|Yesterday|Tonight|On|In|At|But|And|Then|Later|Also|Meanwhile|However|Earlier|There|"
    r"Here|Now|So|Still|Instead|Afterwards|Separately|Finally|When|After|Before|As|While|With|"
    r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Last|This|That|The)\b[\s,]*)+"
)
_LOOK_BEHIND = 300


@dataclass(frozen=True, slots=True)
class Speaker:
    """``text[start:end]`` names who is quoted."""

    start: int
    end: int
    text: str


def speaker_before(text: str, start: int, end: int) -> Speaker | None:
    """A speaker introduced in ``text[start:end]``, the stretch that ends right before a quotation."""
    start = max(start, end - _LOOK_BEHIND)
    match = _LEAD_IN.search(text[start:end])  # a slice, so that `^` is the stretch's start
    if match is None:
        return None
    found_start, found_end = _name_span(match)
    return _speaker_at(text, start + found_start, start + found_end)


def speaker_after(text: str, start: int, end: int) -> Speaker | None:
    """A speaker named in ``text[start:end]``, the stretch that follows a closing mark."""
    match = _TRAILER.match(text[start:end])
    if match is None:
        return None
    found_start, found_end = _name_span(match)
    return _speaker_at(text, start + found_start, start + found_end)


def _speaker_at(text: str, start: int, end: int) -> Speaker | None:
    noise = _LEADING_NOISE.match(text, start, end)
    if noise is not None and noise.end() < end and text[noise.end()].isupper():
        start = noise.end()
    while end > start and text[end - 1] in ",.;: ":
        end -= 1
    if end <= start or text[start:end].lower() in _NOT_NAMES:
        return None
    return Speaker(start, end, text[start:end])


_NOT_NAMES = frozenset({"i", "we", "he", "she", "they", "it", "you", "the", "a", "an"})


def _name_span(match: re.Match[str]) -> tuple[int, int]:
    group = next(name for name, value in match.groupdict().items() if value is not None)
    return match.span(group)
