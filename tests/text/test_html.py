"""HTML → text: boilerplate dropped, one region per block element, paths that a CSS engine resolves."""

from __future__ import annotations

import re

import pytest
from selectolax.lexbor import LexborHTMLParser

from app.text.html import MAX_PATH_DEPTH, ExtractedHtml, html_to_text
from app.text.segment import split_sentences

PAGE = """<!doctype html>
<html><head><title>Page title</title><style>p { color: red }</style>
<script>var tracking = "Track me.";</script></head>
<body>
  <header><nav><a href="/">Home</a> | <a href="/world">World</a></nav><div>Daily Paper</div></header>
  <div class="cookie-banner">We use cookies. Accept?</div>
  <main>
    <article>
      <header><h1>Bridge  closes after
        vote</h1><p class="byline">By A. Writer</p></header>
      <p>The council voted 7-2 on <em>Monday</em>. The decision &amp; the vote<br>Were a mistake,
      critics said.</p>
      <p class="share-price">Shares fell 3% on Tuesday.</p>
      <div class="share">Share on X</div>
      <noscript>Enable JavaScript.</noscript>
      <template><p>Template text.</p></template>
      <p hidden>Hidden text.</p><p aria-hidden="true">Decorative text.</p>
      <div role="navigation">Next story</div>
      <ul><li>First point.</li><li>Second <b>bold</b> point.</li></ul>
      <pre>line one
   line   two</pre>
      <form><label>Email</label><input name="e"><button>Subscribe</button></form>
      <footer>Reporting by B. Reporter.</footer>
    </article>
    <aside>Related: other news.</aside>
  </main>
  <footer>Copyright 2026 Daily Paper.</footer>
</body></html>"""


def regions_text(extracted: ExtractedHtml) -> list[tuple[str, str]]:
    return [(extracted.text[r.start : r.end], r.path) for r in extracted.regions]


def collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_page_keeps_the_article_and_drops_the_furniture() -> None:
    assert regions_text(html_to_text(PAGE)) == [
        ("Bridge closes after vote", "html>body>main>article>header>h1"),
        ("By A. Writer", "html>body>main>article>header>p"),
        (
            "The council voted 7-2 on Monday. The decision & the vote\nWere a mistake, critics said.",
            "html>body>main>article>p:nth-of-type(1)",
        ),
        ("Shares fell 3% on Tuesday.", "html>body>main>article>p:nth-of-type(2)"),
        ("First point.", "html>body>main>article>ul>li:nth-of-type(1)"),
        ("Second bold point.", "html>body>main>article>ul>li:nth-of-type(2)"),
        ("line one\nline two", "html>body>main>article>pre"),
        ("Reporting by B. Reporter.", "html>body>main>article>footer"),
    ]


def test_blocks_are_separated_by_a_blank_line_and_regions_are_exact() -> None:
    extracted = html_to_text(PAGE)
    for before, after in zip(extracted.regions, extracted.regions[1:], strict=False):
        assert extracted.text[before.end : after.start] == "\n\n"
    assert extracted.text.startswith("Bridge closes") and extracted.text.endswith("Reporter.")


def test_every_path_resolves_to_an_element_holding_the_text() -> None:
    document = LexborHTMLParser(PAGE)
    extracted = html_to_text(PAGE)
    for region in extracted.regions:
        element = document.css_first(region.path)
        assert element is not None, region.path
        words = extracted.text[region.start : region.end].split()
        assert all(word in collapse(element.text()) for word in words), region.path


def test_sentences_never_span_two_elements() -> None:
    extracted = html_to_text(PAGE)
    spans = split_sentences(extracted.text)
    assert [span.text for span in spans][:5] == [
        "Bridge closes after vote",
        "By A. Writer",
        "The council voted 7-2 on Monday.",
        "The decision & the vote",  # a <br> before a capital starts a line of its own
        "Were a mistake, critics said.",
    ]
    for span in spans:
        region = next(r for r in extracted.regions if r.start <= span.start < r.end)
        assert span.end <= region.end
        assert extracted.path_at(span.start) == region.path


def test_text_beside_nested_blocks_belongs_to_the_outer_element() -> None:
    extracted = html_to_text("<div>Before the list. <p>Inside.</p> After it.</div>")
    assert regions_text(extracted) == [
        ("Before the list.", "html>body>div"),
        ("Inside.", "html>body>div>p"),
        ("After it.", "html>body>div"),
    ]


def test_a_fragment_gets_paths_under_html_body() -> None:
    extracted = html_to_text("Loose words <p>One.</p><p>Two &eacute;t&eacute;.</p>")
    assert regions_text(extracted) == [
        ("Loose words", "html>body"),
        ("One.", "html>body>p:nth-of-type(1)"),
        ("Two été.", "html>body>p:nth-of-type(2)"),
    ]


def test_banner_header_goes_but_article_header_stays() -> None:
    extracted = html_to_text(
        "<header>Site banner</header><section><header><h2>Section headline</h2></header></section>"
    )
    assert extracted.text == "Section headline"


def test_odd_tag_names_are_escaped_into_valid_selectors() -> None:
    markup = "<div><p:x>Odd tag text.</p:x></div><my-widget><p>Custom element text.</p></my-widget>"
    document = LexborHTMLParser(markup)
    extracted = html_to_text(markup)
    assert [path for _, path in regions_text(extracted)] == ["html>body>div", "html>body>my-widget>p"]
    for region in extracted.regions:
        assert document.css_first(region.path) is not None


def test_nothing_readable_gives_empty_text() -> None:
    extracted = html_to_text("<script>alert(1)</script><nav>Menu</nav><style>p{}</style><!-- note -->")
    assert extracted.text == ""
    assert extracted.regions == ()


@pytest.mark.parametrize("tag", ["div", "span", "blockquote", "b"])
def test_ten_thousand_levels_of_nesting(tag: str) -> None:
    extracted = html_to_text(f"<{tag}>" * 10_000 + "Deep text." + f"</{tag}>" * 10_000)
    assert extracted.text == "Deep text."
    path = extracted.regions[0].path
    assert path.count(">") + 1 <= MAX_PATH_DEPTH
    assert LexborHTMLParser("<div>" * 300 + "x").css_first(">".join(["html", "body", *["div"] * 254]))


def test_a_two_megabyte_page_is_extracted_whole() -> None:
    paragraph = "<p class='c'>Paragraph {i} has <a href='#'>a link</a> and <em>some</em> text.</p><hr>"
    markup = "<html><body>" + "".join(paragraph.format(i=i) for i in range(25_000)) + "</body></html>"
    assert len(markup) > 2_000_000
    extracted = html_to_text(markup)
    assert len(extracted.regions) == 25_000
    assert extracted.text.endswith("Paragraph 24999 has a link and some text.")
    assert extracted.regions[-1].path == "html>body>p:nth-of-type(25000)"
