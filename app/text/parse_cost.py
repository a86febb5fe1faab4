"""The parse-cost guard: refuse HTML whose tree building would take minutes, before parsing it.

An HTML5 tree builder checks "is there a <p> (or the element being closed) in scope?" by walking its
stack of open elements, so every tag costs up to the current nesting depth: 100,000 nested <div>s take
Lexbor about a minute. Before parsing, a linear scan replays the tags on an approximate stack (it
follows the spec's end-tag rules and closes optional-end elements, so sloppy real pages stay shallow)
and sums the depth each tag would meet. Markup over the budget is refused, not parsed.
"""

from __future__ import annotations

import re

from app.text.tags import BLOCK_TAGS, words


class HtmlTooComplex(ValueError):
    """The markup would make the parser's tree building quadratic (pathological nesting)."""


MAX_NESTING = 12_000
MAX_SCOPE_STEPS = 100_000_000
_TOKEN = re.compile(r"<(?:!--|[!?]|(/?)([A-Za-z][^\s/>]*))")
_RAW_TEXT = words("script style textarea title xmp iframe noembed noframes noscript")
_VOID = words("area base basefont bgsound br col embed hr img input keygen link meta param source track wbr")
_SPECIAL = words(
    "address applet area article aside base basefont bgsound blockquote body br button caption center col "
    "colgroup dd details dir div dl dt embed fieldset figcaption figure footer form frame frameset h1 h2 "
    "h3 h4 h5 h6 head header hgroup hr html iframe img input keygen li link listing main marquee menu "
    "meta nav noembed noframes noscript object ol p param plaintext pre script search section select "
    "source style summary table tbody td template textarea tfoot th thead title tr track ul wbr xmp"
)
_SCOPE_BOUNDARY = words("applet caption html table td th marquee object template")
_CLOSES_P = BLOCK_TAGS | words("search menu")
_OPTIONAL_END = words("p li dt dd option optgroup tr td th tbody thead tfoot rb rt rp rtc")


def check_parse_cost(markup: str) -> None:
    """Raise HtmlTooComplex for markup whose tree building would exceed the nesting or step budget."""
    if markup.count("<") ** 2 // 2 <= MAX_SCOPE_STEPS:
        return  # so few tags that even nesting them all stays within the budget
    stack = _OpenElements()
    steps = 0
    position = 0
    while (match := _TOKEN.search(markup, position)) is not None:
        position = _after_token(markup, match)
        name = (match.group(2) or "").lower()
        if not name:
            continue
        steps += len(stack.names)
        if steps > MAX_SCOPE_STEPS:
            raise HtmlTooComplex("the HTML nests too many elements too deeply to parse in reasonable time")
        if match.group(1):
            stack.end_tag(name)
            continue
        stack.start_tag(name)
        if len(stack.names) > MAX_NESTING:
            raise HtmlTooComplex(f"the HTML nests elements more than {MAX_NESTING} levels deep")
        if name == "plaintext":
            return
        if name in _RAW_TEXT:
            position = _after_raw_text(markup, name, position)


def _after_token(markup: str, match: re.Match[str]) -> int:
    if match.group() == "<!--":
        end = markup.find("-->", match.end())
        return len(markup) if end < 0 else end + 3
    end = markup.find(">", match.end())
    return len(markup) if end < 0 else end + 1


def _after_raw_text(markup: str, name: str, position: int) -> int:
    """Skip a script's or style's content: tags inside it are text, not elements."""
    closing = re.compile(rf"</{re.escape(name)}[\s/>]", re.IGNORECASE).search(markup, position)
    return len(markup) if closing is None else closing.start()


class _OpenElements:
    """An approximate stack of open elements; each operation is amortised O(1)."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self._positions: dict[str, list[int]] = {}
        self._specials: list[int] = []
        self._boundaries: list[int] = []

    def start_tag(self, name: str) -> None:
        top = self.names[-1] if self.names else ""
        if top in _OPTIONAL_END and (top == name or (top == "p" and name in _CLOSES_P)):
            self._pop_to(len(self.names) - 1)
        if name in _VOID:
            return
        index = len(self.names)
        self.names.append(name)
        self._positions.setdefault(name, []).append(index)
        if name in _SPECIAL:
            self._specials.append(index)
        if name in _SCOPE_BOUNDARY:
            self._boundaries.append(index)

    def end_tag(self, name: str) -> None:
        """Pop through `name` as the spec's end-tag steps would, or ignore the tag as they do."""
        positions = self._positions.get(name)
        if not positions:
            return
        # A special element closes only within its scope; any other only if no special one is above it.
        barrier = self._boundaries if name in _SPECIAL else self._specials
        above = barrier[-1] if barrier else -1
        if positions[-1] >= above:
            self._pop_to(positions[-1])

    def _pop_to(self, index: int) -> None:
        while len(self.names) > index:
            name = self.names.pop()
            self._positions[name].pop()
            if self._specials and self._specials[-1] == len(self.names):
                self._specials.pop()
            if self._boundaries and self._boundaries[-1] == len(self.names):
                self._boundaries.pop()
