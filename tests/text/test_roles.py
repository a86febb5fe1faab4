"""Sentence roles from plain-text layout and from HTML structure."""

from __future__ import annotations

import pytest

from app.text.context import annotate
from app.text.html import html_to_text
from app.text.roles import html_hints
from app.text.segment import segment


def roles(text: str) -> list[tuple[str, str]]:
    segmentation = segment(text)
    return [(s.text, c.role) for s, c in zip(segmentation.spans, annotate(text, segmentation), strict=True)]


def html_roles(markup: str) -> list[tuple[str, str]]:
    extracted = html_to_text(markup)
    by_path = html_hints(markup, extracted)
    segmentation = segment(extracted.text)
    hints = [by_path[extracted.path_at(span.start)] for span in segmentation.spans]
    contexts = annotate(extracted.text, segmentation, hints)
    return [(s.text, c.role) for s, c in zip(segmentation.spans, contexts, strict=True)]


def test_plain_text_layout() -> None:
    text = (
        "Bridge Closes After Cracks Found\n\n"
        "By Jane Doe\n\n"
        "WASHINGTON —\n\n"
        "The council voted 7-2 on Monday to close the bridge. Engineers agreed.\n\n"
        "Workers inspect the bridge on Monday. (AP Photo/John Smith)\n\n"
        "What happens next\n\n"
        "Repairs start in June.\n\n"
        "February 28, 2019\n\n"
        "4:11 P.M. EDT\n\n"
        "12 Comments\n\n"
        "Tags: bridges, council\n\n"
        "Read more\n\n"
        "Another Story About Roads\n"
    )
    assert roles(text) == [
        ("Bridge Closes After Cracks Found", "headline"),
        ("By Jane Doe", "byline"),
        ("WASHINGTON —", "dateline"),
        ("The council voted 7-2 on Monday to close the bridge.", "body"),
        ("Engineers agreed.", "body"),
        ("Workers inspect the bridge on Monday.", "caption"),
        ("(AP Photo/John Smith)", "caption"),
        ("What happens next", "headline"),
        ("Repairs start in June.", "body"),
        ("February 28, 2019", "furniture"),
        ("4:11 P.M. EDT", "furniture"),
        ("12 Comments", "furniture"),
        ("Tags: bridges, council", "furniture"),
        ("Read more", "furniture"),
        ("Another Story About Roads", "furniture"),  # the story "Read more" links to
    ]


@pytest.mark.parametrize(
    "line",
    [
        "Next steps for the council",
        "Follow the money.",
        "Share prices fell 3% on Monday.",
        "Reuters reported the vote on Monday.",
        "Related costs rose by a third.",
    ],
)
def test_body_lines_that_merely_use_a_furniture_word_stay_labelled(line: str) -> None:
    assert roles(f"The council met.\n\n{line}\n\nIt voted.")[1][1] != "furniture"


def test_a_name_line_under_the_headline_is_the_byline_and_a_long_one_the_deck() -> None:
    text = "Nuclear Step in Europe\n\nOffice of the Spokesperson\n\nToday the United States committed funds."
    assert [role for _, role in roles(text)] == ["headline", "byline", "body"]
    deck = "Wind Opens\n\nWhite House Marshals Departments to Advance California Areas for Wind\n\nToday."
    assert [role for _, role in roles(deck)] == ["headline", "headline", "body"]


def test_a_pull_quote_repeats_the_body() -> None:
    text = (
        "The mayor spoke on Monday. She said “the bridge has carried this city for a century” and left.\n\n"
        "“The bridge has carried this city for a century”\n\nRepairs start in June."
    )
    assert roles(text)[2] == ("“The bridge has carried this city for a century”", "quote")


def test_html_structure() -> None:
    markup = (
        "<article><header><h1>Bridge closes</h1><p class='byline'>By Jane Doe</p></header>"
        "<figure><img src='x.jpg'><figcaption>The bridge on Monday.</figcaption></figure>"
        "<p>The council voted.</p><h2>What next</h2><blockquote><p>We will rebuild.</p></blockquote>"
        "<aside class='pullquote'><p>Gone.</p></aside>"
        "<ul><li>Cost: 3 million</li><li>Share</li></ul></article>"
    )
    assert html_roles(markup) == [
        ("Bridge closes", "headline"),
        ("By Jane Doe", "byline"),
        ("The bridge on Monday.", "caption"),
        ("The council voted.", "body"),
        ("What next", "headline"),
        ("We will rebuild.", "quote"),
        ("Cost: 3 million", "body"),
        ("Share", "furniture"),
    ]
