"""HTML to plain text with a map back to the source: which element each stretch of text came from.

Parsed by Lexbor (an HTML5 parser, through `selectolax`), walked with an explicit stack so that any
nesting depth works. Scripts, styles, navigation and other page furniture are dropped; every block-level
element becomes a paragraph of its own, separated by a blank line, which the sentence segmenter always
treats as a boundary, so no sentence spans two elements. Markup is checked first by the parse-cost guard
(``parse_cost``), which refuses pathological nesting before the parser could spend minutes on it.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser, LexborNode

from app.text.parse_cost import check_parse_cost
from app.text.tags import BLOCK_TAGS, words

# Deeper elements are named by their ancestor at this depth; browsers flatten deeper trees anyway
# (Blink stops nesting at 512), and it bounds each path to a few kilobytes.
MAX_PATH_DEPTH = 256


_DROPPED_TAGS = words(
    "script style noscript template head nav aside form iframe frame frameset object embed svg math "
    "canvas audio video button select textarea dialog"
)
# Page banners, except inside content, where they hold a headline or byline (the ARIA banner rule).
_BANNER_TAGS = words("header footer")
_CONTENT_TAGS = words("article main section")
_BOILERPLATE_ROLES = words("navigation banner contentinfo complementary search dialog alertdialog")
# Whole class or id tokens only: "share" drops <div class="share">, never <p class="share-price">.
_BOILERPLATE_TOKENS = words(
    "ad ads advert adverts advertisement banner-ad breadcrumb breadcrumbs comments cookie cookies "
    "cookie-banner cookie-consent consent newsletter newsletter-signup paywall promo related "
    "related-articles share share-buttons sharing sidebar social social-share subscribe skip-link"
)
_NEVER_DROPPED = words("html body")
_PREFORMATTED_TAGS = words("pre listing plaintext xmp")
_HTML_WHITESPACE = re.compile(r"[ \t\n\r\f]+")
_CSS_SAFE = re.compile(r"[A-Za-z0-9_\-\u0080-\U0010ffff]")
_LINE_BREAK = None  # stands for <br> among the pending text pieces


@dataclass(frozen=True, slots=True)
class Region:
    """``text[start:end]`` of the extracted text came from the element that ``path`` selects."""

    start: int
    end: int
    path: str


@dataclass(frozen=True, slots=True)
class ExtractedHtml:
    text: str
    regions: tuple[Region, ...]

    def path_at(self, offset: int) -> str:
        """The path of the region holding code-point `offset` of `text`."""
        index = bisect.bisect_right(self.regions, offset, key=lambda region: region.start) - 1
        if index < 0 or offset >= self.regions[index].end:
            raise ValueError(f"offset {offset} is between regions of the extracted text")
        return self.regions[index].path


def html_to_text(markup: str) -> ExtractedHtml:
    """The readable text of an HTML page or fragment; a fragment's paths start with ``html>body>``.

    Raises HtmlTooComplex for markup that nests too deeply to parse in bounded time.
    """
    check_parse_cost(markup)
    root = LexborHTMLParser(markup).root
    builder = _TextBuilder()
    if root is not None:
        _walk(root, builder)
    return ExtractedHtml("".join(builder.parts), tuple(builder.regions))


class _Path:
    """A node of the element path; the string is built only for elements that own text."""

    __slots__ = ("_rendered", "depth", "nth", "parent", "tag")

    def __init__(self, parent: _Path | None, tag: str, nth: int) -> None:
        self.parent = parent
        self.tag = tag
        self.nth = nth  # 0: the only child with this tag, so no :nth-of-type() is needed
        self.depth: int = 1 if parent is None else parent.depth + 1
        self._rendered: str | None = None

    def child(self, tag: str, nth: int) -> _Path:
        return self if self.depth >= MAX_PATH_DEPTH else _Path(self, tag, nth)

    def render(self) -> str:
        if self._rendered is None:
            steps: list[str] = []
            node: _Path | None = self
            while node is not None:
                step = _css_ident(node.tag)
                steps.append(f"{step}:nth-of-type({node.nth})" if node.nth else step)
                node = node.parent
            self._rendered = ">".join(reversed(steps))
        return self._rendered


# The walk's stack holds (node, path, inside article/main/section, inside <pre>) to enter a node,
# or None to close the innermost block element.
_Frame = tuple[LexborNode, _Path, bool, bool]


def _walk(root: LexborNode, builder: _TextBuilder) -> None:
    stack: list[_Frame | None] = [(root, _Path(None, root.tag or "html", 0), False, False)]
    while stack:
        frame = stack.pop()
        if frame is None:
            builder.close_block()
            continue
        node, path, in_content, in_pre = frame
        tag = node.tag or ""
        if tag == "-text":
            builder.add_text(node.text_content or "", in_pre)
            continue
        if tag.startswith("-"):  # comments, doctype
            continue
        if tag == "br":
            builder.add_line_break()
            continue
        if _is_dropped(node, tag, in_content):
            if tag in BLOCK_TAGS:
                builder.flush()  # the text before and after it are separate paragraphs
            continue
        if tag in BLOCK_TAGS:
            builder.open_block(path)
            stack.append(None)
        in_content = in_content or tag in _CONTENT_TAGS
        in_pre = in_pre or tag in _PREFORMATTED_TAGS
        children = [(child, path.child(tag, nth), in_content, in_pre) for child, tag, nth in _children(node)]
        stack.extend(reversed(children))


def _children(node: LexborNode) -> list[tuple[LexborNode, str, int]]:
    """Each child with its tag and its position among same-tag siblings (0 when it has none)."""
    children: list[tuple[LexborNode, str]] = []
    totals: dict[str, int] = {}
    child = node.child
    while child is not None:
        tag = child.tag or ""
        children.append((child, tag))
        totals[tag] = totals.get(tag, 0) + 1
        child = child.next
    seen: dict[str, int] = {}
    numbered = []
    for child, tag in children:
        if totals[tag] == 1:
            numbered.append((child, tag, 0))
        else:
            seen[tag] = seen.get(tag, 0) + 1
            numbered.append((child, tag, seen[tag]))
    return numbered


def _is_dropped(node: LexborNode, tag: str, in_content: bool) -> bool:
    if tag in _NEVER_DROPPED:
        return False
    if tag in _DROPPED_TAGS or (tag in _BANNER_TAGS and not in_content):
        return True
    attributes = node.attributes
    if "hidden" in attributes or (attributes.get("aria-hidden") or "").strip().lower() == "true":
        return True
    if _tokens(attributes.get("role")) & _BOILERPLATE_ROLES:
        return True
    return bool((_tokens(attributes.get("class")) | _tokens(attributes.get("id"))) & _BOILERPLATE_TOKENS)


def _tokens(value: str | None) -> set[str]:
    return set(value.lower().split()) if value else set()


@functools.cache
def _css_ident(name: str) -> str:
    """Escape a tag name for a CSS selector (the HTML tokenizer allows e.g. ``p:x`` as a tag name)."""
    return "".join(char if _CSS_SAFE.match(char) else f"\\{ord(char):x} " for char in name)


class _TextBuilder:
    """Collects text pieces of the current block and writes each finished block as one region."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.regions: list[Region] = []
        self._length = 0
        self._pending: list[str | None] = []
        self._owners: list[_Path] = []

    def add_text(self, text: str, preformatted: bool) -> None:
        if not preformatted:
            self._pending.append(text)
            return
        for i, line in enumerate(text.split("\n")):
            if i:
                self._pending.append(_LINE_BREAK)
            self._pending.append(line)

    def add_line_break(self) -> None:
        self._pending.append(_LINE_BREAK)

    def open_block(self, path: _Path) -> None:
        self.flush()
        self._owners.append(path)

    def close_block(self) -> None:
        self.flush()
        self._owners.pop()

    def flush(self) -> None:
        """Write the pending text as a paragraph owned by the innermost open block."""
        text = _render_lines(self._pending)
        self._pending.clear()
        if not text or not self._owners:
            return
        if self._length:
            self.parts.append("\n\n")
            self._length += 2
        self.parts.append(text)
        self.regions.append(Region(self._length, self._length + len(text), self._owners[-1].render()))
        self._length += len(text)


def _render_lines(pieces: list[str | None]) -> str:
    """Collapse whitespace as a browser renders it; each <br> starts a new line; blank lines go."""
    lines: list[list[str]] = [[]]
    for piece in pieces:
        if piece is _LINE_BREAK:
            lines.append([])
        else:
            lines[-1].append(piece)
    rendered = (_HTML_WHITESPACE.sub(" ", "".join(line)).strip(" ") for line in lines)
    return "\n".join(line for line in rendered if line.strip())
