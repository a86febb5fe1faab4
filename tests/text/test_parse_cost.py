"""The parse-cost guard refuses pathological nesting in linear time and lets real, sloppy pages through."""

from __future__ import annotations

import pytest

from app.text.html import html_to_text
from app.text.parse_cost import MAX_NESTING, HtmlTooComplex, check_parse_cost


@pytest.mark.parametrize(
    "markup",
    [
        "<div>" * 100_000,  # nesting beyond any browser's limit
        "<span>" * 11_000 + "</div>" * 100_000,  # unmatched end tags, each searching a deep stack
        "<span><div></span>" * 12_000,  # end tags the tree builder ignores, so the stack keeps growing
    ],
)
def test_pathological_nesting_is_refused_before_parsing(markup: str) -> None:
    with pytest.raises(HtmlTooComplex, match="nests"):
        check_parse_cost(markup)
    with pytest.raises(HtmlTooComplex, match="nests"):
        html_to_text(markup)  # the extractor runs the guard before the parser


def test_tags_inside_scripts_and_comments_do_not_count_as_nesting() -> None:
    markup = "<script>" + "'<div>' + " * 50_000 + "</script><!--" + "<div>" * 50_000 + "--><p>Kept.</p>"
    assert html_to_text(markup).text == "Kept."


def test_unclosed_paragraphs_of_a_sloppy_page_are_not_nesting() -> None:
    extracted = html_to_text("<p>Sloppy paragraph. " * 30_000)
    assert len(extracted.regions) == 30_000


def test_the_nesting_limit_is_exact() -> None:
    # 2,200 void tags at the bottom: enough tags that the scan runs (a handful is waved through unscanned),
    # few enough that the steps stay within their budget.
    bottom = "<br>" * 2_200
    check_parse_cost("<div>" * (MAX_NESTING - 1) + bottom)
    with pytest.raises(HtmlTooComplex, match=f"more than {MAX_NESTING} levels"):
        check_parse_cost("<div>" * (MAX_NESTING + 1) + bottom)
