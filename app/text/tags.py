"""HTML element categories shared by the extractor (``html``) and the parse-cost guard (``parse_cost``)."""

from __future__ import annotations


def words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Each starts a paragraph of its own in the extracted text (and closes an open <p> while parsing).
BLOCK_TAGS = words(
    "html body address article aside blockquote center details dialog dd dir div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr legend li listing main menu nav ol "
    "p plaintext pre section summary table caption thead tbody tfoot tr td th ul xmp"
)
