"""What each sentence is on the page: body text, a headline, a caption, a byline, a dateline, a pull quote,
or page furniture (share and navigation lines, comment counters, lone dates) that is no claim at all.

HTML says it with elements and classes (`h1`–`h6`, `figcaption`, `blockquote`, `class="byline"`); plain
text only with layout, so the rules below read each line on its own: how long it is, whether it ends
like a sentence, where it stands, whether the page repeats it, and which words it is made of. Furniture
rules are kept narrow on purpose: a body sentence taken for furniture would go unlabelled.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from selectolax.lexbor import LexborHTMLParser, LexborNode

from app.text.html import ExtractedHtml
from app.text.segment import Span

Role = Literal["body", "headline", "caption", "byline", "dateline", "quote", "furniture"]
ROLES: tuple[Role, ...] = ("body", "headline", "caption", "byline", "dateline", "quote", "furniture")

HEADLINE_MAX_WORDS = 25
SUBHEADING_MAX_WORDS = 12
BYLINE_MAX_WORDS = 6
FURNITURE_MAX_WORDS = 8
NAVIGATION_TARGET_MAX_WORDS = 20


@dataclass(frozen=True, slots=True)
class ElementHint:
    """The element a stretch of extracted HTML came from: its and its ancestors' tags and classes."""

    tags: frozenset[str]
    classes: frozenset[str]


def html_hints(markup: str, extracted: ExtractedHtml) -> dict[str, ElementHint]:
    """A hint for every element path of ``extracted`` (its regions), read from a second parse."""
    root = LexborHTMLParser(markup)
    hints: dict[str, ElementHint] = {}
    for region in extracted.regions:
        if region.path not in hints:
            hints[region.path] = _hint(root.css_first(region.path))
    return hints


def _hint(node: LexborNode | None) -> ElementHint:
    tags: set[str] = set()
    classes: set[str] = set()
    while node is not None and node.tag not in (None, "html", "-undef"):
        tags.add(node.tag or "")
        classes.update(
            ((node.attributes.get("class") or "") + " " + (node.attributes.get("id") or "")).lower().split()
        )
        node = node.parent
    return ElementHint(frozenset(tags), frozenset(classes))


# --- HTML ---------------------------------------------------------------------------------------------

_HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "hgroup"})
_LIST_TAGS = frozenset({"li", "td", "th", "dd", "dt"})
_CLASS_ROLES: tuple[tuple[Role, frozenset[str]], ...] = (
    (
        "caption",
        frozenset(
            {"caption", "wp-caption-text", "wp-element-caption", "figcaption", "credit", "photo-credit"}
        ),
    ),
    ("quote", frozenset({"pullquote", "pull-quote", "wp-block-pullquote", "blockquote"})),
    ("byline", frozenset({"byline", "author", "author-name", "byline-name", "article-author"})),
    ("dateline", frozenset({"dateline"})),
    (
        "headline",
        frozenset({"headline", "title", "entry-title", "article-title", "deck", "standfirst", "subtitle"}),
    ),
)


def _html_role(hint: ElementHint) -> Role | None:
    if hint.tags & {"figcaption", "caption"}:
        return "caption"
    if hint.tags & _HEADING_TAGS:
        return "headline"
    if "blockquote" in hint.tags:
        return "quote"
    if "address" in hint.tags:
        return "byline"
    for role, tokens in _CLASS_ROLES:
        if hint.classes & tokens:
            return role
    return None


# --- plain-text layout ----------------------------------------------------------------------------------

_WORDS = re.compile(r"[\w’'-]+")
_NAVIGATION_WORDS = frozenset(
    [
        "share",
        "shares",
        "and",
        "like",
        "this",
        "post",
        "posts",
        "article",
        "articles",
        "story",
        "stories",
        "page",
        "tweet",
        "email",
        "e-mail",
        "print",
        "facebook",
        "twitter",
        "x",
        "linkedin",
        "whatsapp",
        "reddit",
        "pinterest",
        "telegram",
        "copy",
        "link",
        "follow",
        "us",
        "on",
        "subscribe",
        "related",
        "previous",
        "next",
        "prev",
        "older",
        "newer",
        "read",
        "more",
        "also",
        "see",
        "comments",
        "comment",
        "no",
        "leave",
        "a",
        "reply",
        "the",
        "newsletter",
        "sign",
        "up",
        "log",
        "in",
        "skip",
        "to",
        "content",
        "back",
        "top",
        "advertisement",
        "ad",
        "ads",
        "sponsored",
        "recommended",
        "popular",
        "most",
        "trending",
        "menu",
        "search",
        "home",
        "tags",
        "tag",
        "filed",
        "under",
        "view",
        "all",
        "gallery",
        "photos",
        "video",
        "watch",
        "listen",
        "close",
        "save",
        "bookmark",
        "navigation",
        "you",
        "may",
        "might",
        "from",
        "around",
        "web",
        "cookies",
        "accept",
    ]
)
# A furniture line needs one of these: a line of ordinary small words is not furniture.
_NAVIGATION_MARKERS = frozenset(
    [
        "share",
        "tweet",
        "subscribe",
        "related",
        "previous",
        "next",
        "prev",
        "comments",
        "comment",
        "advertisement",
        "sponsored",
        "newsletter",
        "recommended",
        "trending",
        "tags",
        "filed",
        "bookmark",
        "navigation",
        "reply",
        "skip",
    ]
)
_NAVIGATION_HEADS = frozenset(
    {
        "related posts",
        "related articles",
        "related stories",
        "related",
        "previous article",
        "next article",
        "previous post",
        "next post",
        "read more",
        "read also",
        "see also",
        "more from",
        "recommended",
        "you may also like",
        "you might also like",
        "most popular",
        "trending",
        "more stories",
    }
)
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|"
    r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_LONE_DATE = re.compile(
    rf"^(?:(?:updated|published|posted|last updated|first published)(?: on)?:?\s*)?"
    rf"(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day,?\s*)?"
    rf"(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{1,2}}\s+{_MONTH},?\s+\d{{4}}|"
    rf"\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}[/.]\d{{1,2}}[/.]\d{{2,4}}|\d+\s+(?:minutes?|hours?|days?)\s+ago)"
    rf"(?:[\s,|at-]*\d{{1,2}}[:.]\d{{2}}\s*(?:[ap]\.?m\.?)?\s*(?:[A-Z]{{2,4}})?)?\W*$",
    re.IGNORECASE,
)
_LONE_TIME = re.compile(r"^\d{1,2}[:.]\d{2}\s*[AaPp]\.?\s?[Mm]\.?(?:\s+[A-Z]{2,4})?$")  # 4:11 P.M. EDT
_CREDIT = re.compile(
    r"\bphoto(?:graph)?s?\s+(?:by|courtesy)\b|\b(?:photo|image|picture|illustration)s?(?:\s+credit)?\s*:|"
    r"^FILE\s*[-–—]",
    re.IGNORECASE,
)
# Case matters here: "Reuters" in prose is a source; "REUTERS/Name" under a picture is a credit.
_AGENCY_CREDIT = re.compile(
    r"\bREUTERS\b|\b(?:Reuters|AFP|EPA|Xinhua)/|\bAP Photo\b|\bGetty Images\b|\bShutterstock\b"
)
_LIST_LABEL = re.compile(r"^(?:tags?|filed under|categories|topics)\s*:", re.IGNORECASE)
_BYLINE = re.compile(r"^(?:By|Written by|Reported by|Story by)\s+[A-Z][\w.’'-]*(?:\s+[\w.’'&,-]+){0,8}$")
_DATELINE = re.compile(
    r"^[A-Z][A-Z .’'-]{2,40}(?:,\s*[A-Z][\w. ]{1,30})?(?:\s*\([\w .]{1,20}\))?\s*[—–-]+\s*$"
)
_SENTENCE_END = re.compile(r"[.!;:,…]['’\"”»)\]]*$")
_BULLET = re.compile(r"^(?:[-*•·▪–—]|\d+[.)])\s")


@dataclass(frozen=True, slots=True)
class _Line:
    """A layout unit (a line, or a paragraph of wrapped lines) and what its words look like."""

    text: str
    words: list[str]

    @property
    def short_unpunctuated(self) -> bool:
        return not _SENTENCE_END.search(self.text) and not _BULLET.match(self.text)


def sentence_roles(
    source: str,
    spans: Sequence[Span],
    units: Sequence[tuple[int, int]],
    quoted: Sequence[str],
    hints: Sequence[ElementHint | None] | None = None,
) -> list[Role]:
    """One role per span. ``quoted`` is each span's quotation level; ``hints`` its HTML element."""
    unit_of = _unit_index(spans, units)
    lines = [_line(source[start:end]) for start, end in units]
    repeats = Counter(line.text.lower() for line in lines if line.text)
    line_roles = _line_roles(lines, repeats)
    roles: list[Role] = []
    for i, span in enumerate(spans):
        line_index = unit_of[i]
        alone = lines[line_index].text == span.text
        hint = hints[i] if hints is not None else None
        roles.append(_role(span, alone, line_roles[line_index], quoted[i], hint, source))
    return roles


def _role(
    span: Span, alone: bool, line_role: Role, quoted: str, hint: ElementHint | None, source: str
) -> Role:
    from_html = _html_role(hint) if hint is not None else None
    if line_role == "furniture" and alone:
        return "furniture"
    if from_html is not None:
        return from_html
    if line_role == "caption":
        return "caption"  # a credit marks every sentence of its line
    if hint is not None and hint.tags & _LIST_TAGS:
        return "body"
    if not alone:
        return "body"
    if line_role in ("body", "headline") and quoted == "full" and _repeated_elsewhere(span, source):
        return "quote"  # a pull quote repeats words of the body
    return line_role


def _line(text: str) -> _Line:
    stripped = text.strip()
    return _Line(stripped, _WORDS.findall(stripped.lower()))


def _line_roles(lines: Sequence[_Line], repeats: Counter[str]) -> list[Role]:
    roles: list[Role] = []
    after_navigation = False
    seen_body = False
    previous: list[Role] = []  # the roles of the lines with words so far (blank lines do not count)
    first = _first_line(lines)
    for index, line in enumerate(lines):
        if not line.words:
            roles.append("body")
            continue
        role = _line_role(line, repeats, index == first, after_navigation, seen_body, previous)
        after_navigation = role == "furniture" and (
            line.text.lower().rstrip(":") in _NAVIGATION_HEADS or after_navigation
        )
        seen_body = seen_body or role == "body"
        roles.append(role)
        previous.append(role)
    return roles


def _line_role(
    line: _Line,
    repeats: Counter[str],
    first: bool,
    after_navigation: bool,
    seen_body: bool,
    before: list[Role],
) -> Role:
    if _is_furniture(line, after_navigation):
        return "furniture"
    if _CREDIT.search(line.text) or _AGENCY_CREDIT.search(line.text):
        return "caption"
    if _BYLINE.match(line.text):
        return "byline"
    if _DATELINE.match(line.text):
        return "dateline"
    if repeats[line.text.lower()] > 1 and len(line.words) <= FURNITURE_MAX_WORDS and line.short_unpunctuated:
        return "furniture"  # a site phrase the page repeats (its name, a section label)
    if first and len(line.words) <= HEADLINE_MAX_WORDS and not re.search(r"[.!;:,]$", line.text):
        return "headline"
    if not seen_body and before and before[-1] == "headline" and line.short_unpunctuated:
        if len(line.words) <= BYLINE_MAX_WORDS:
            return "byline"  # a short name line under the headline: the author or the issuing office
        if len(line.words) <= HEADLINE_MAX_WORDS + 10:
            return "headline"  # the deck
    if line.short_unpunctuated and len(line.words) <= SUBHEADING_MAX_WORDS and not line.text.endswith("?"):
        return "headline"
    return "body"


def _is_furniture(line: _Line, after_navigation: bool) -> bool:
    if _LONE_DATE.match(line.text) or _LONE_TIME.match(line.text) or _LIST_LABEL.match(line.text):
        return True
    if line.text.lower().rstrip(":") in _NAVIGATION_HEADS:
        return True
    if (
        after_navigation
        and len(line.words) <= NAVIGATION_TARGET_MAX_WORDS
        and not _SENTENCE_END.search(line.text)
    ):
        return True  # the title a "Next Article" or "Related Posts" line links to
    words = [word for word in line.words if not word.isdigit()]
    if not words or len(line.words) > FURNITURE_MAX_WORDS:
        return False
    navigation = sum(word in _NAVIGATION_WORDS for word in words)
    return navigation >= 0.6 * len(words) and any(word in _NAVIGATION_MARKERS for word in words)


def _first_line(lines: Sequence[_Line]) -> int:
    return next((i for i, line in enumerate(lines) if line.words), -1)


def _unit_index(spans: Sequence[Span], units: Sequence[tuple[int, int]]) -> list[int]:
    """For each span, the index of the unit that holds its start (both lists are in document order)."""
    found: list[int] = []
    unit = 0
    for span in spans:
        while unit + 1 < len(units) and units[unit][1] <= span.start:
            unit += 1
        found.append(unit)
    return found


def _repeated_elsewhere(span: Span, source: str) -> bool:
    words = span.text.strip('"“”‘’«»„ ')
    return len(words) >= 20 and source.lower().count(words.lower()) > 1
