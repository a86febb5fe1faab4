from __future__ import annotations

import pytest

from app.text.segment import split_sentences
from tests.conftest import shared_file


def texts(source: str) -> list[str]:
    return [span.text for span in split_sentences(source)]


def assert_exact(source: str) -> None:
    previous_end = 0
    for span in split_sentences(source):
        assert previous_end <= span.start < span.end <= len(source)
        assert source[span.start : span.end] == span.text == span.text.strip()
        previous_end = span.end


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "The U.S. economy grew. Mr. Smith met Dr. Jones on Feb. 28 in Washington. It rained.",
            ["The U.S. economy grew.", "Mr. Smith met Dr. Jones on Feb. 28 in Washington.", "It rained."],
        ),
        ("The Korea-U.S. summit ended. Talks go on.", ["The Korea-U.S. summit ended.", "Talks go on."]),
        (
            "“Is this real?” she asked. “Yes,” he said... Nobody knew.",
            ["“Is this real?” she asked.", "“Yes,” he said...", "Nobody knew."],
        ),
        (
            "Council Rejects Bridge Plan\nThe council voted 7-2 on Monday.",
            ["Council Rejects Bridge Plan", "The council voted 7-2 on Monday."],
        ),
        (
            "What we learned:\n- Prices rose 3%\n- Wages did not\n\nNew paragraph here.",
            ["What we learned:", "- Prices rose 3%", "- Wages did not", "New paragraph here."],
        ),
        (
            "A sentence wrapped at the\nend of a line stays whole. Next.",
            ["A sentence wrapped at the\nend of a line stays whole.", "Next."],
        ),
        ("One.\n\n. .\n\n***\n\nTwo.", ["One.", "Two."]),
    ],
)
def test_splits_news_layout(source: str, expected: list[str]) -> None:
    assert texts(source) == expected
    assert_exact(source)


def test_offsets_are_code_points() -> None:
    source = "Café 😀 opened. Ünïcode works — fine."
    spans = split_sentences(source)
    assert [(s.start, s.end) for s in spans] == [(0, 14), (15, len(source))]
    assert_exact(source)


@pytest.mark.parametrize(
    "source",
    [
        "",
        "   \n\n ",
        "x" * 50_000,
        "no punctuation " * 3000,
        "a\x00b. c\x07d",
        "مرحبا بالعالم. שלום.",
        "!!! ??? ...",
    ],
)
def test_odd_input_never_breaks_offsets(source: str) -> None:
    assert_exact(source)


def test_example_article_boilerplate() -> None:
    source = shared_file("example_article.txt").read_text(encoding="utf-8")
    found = texts(source)
    assert_exact(source)
    assert found[0] == "Summit fails but not all progress is lost"
    assert "REUTERS/Leah Millis" in found
    assert "Related Posts" in found
    assert ". ." not in found
    assert any(t.startswith("Mr Trump told reporters") for t in found)
    assert 35 <= len(found) <= 45
