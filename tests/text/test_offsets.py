"""Code-point → UTF-16 offsets, checked against a count of astral characters (what JavaScript sees)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.text.offsets import utf16_length, utf16_offsets


def js_index(text: str, position: int) -> int:
    """The independent definition: characters above U+FFFF take two UTF-16 code units."""
    return sum(2 if ord(char) > 0xFFFF else 1 for char in text[:position])


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("plain ascii", 11),
        ("café", 4),  # precomposed é: one unit
        ("cafe\u0301", 5),  # e + combining acute: two code points, two units
        ("漢字かな", 4),  # CJK in the Basic Multilingual Plane
        ("𠀀", 2),  # CJK Extension B, outside the BMP
        ("😀", 2),
        ("👩\u200d👩\u200d👧", 8),  # a ZWJ family: three astral emoji and two joiners
        ("🇫🇷", 4),  # a flag is two regional indicators
        ("\ud800", 1),  # a lone surrogate (legal in JSON) is one unit, as in JavaScript
    ],
)
def test_utf16_length_counts_what_javascript_counts(text: str, length: int) -> None:
    assert utf16_length(text) == length


def test_offsets_after_emoji_shift_by_one_per_astral_character() -> None:
    text = "a😀b😀c"
    assert utf16_offsets(text, [0, 1, 2, 3, 4, 5]) == [0, 1, 3, 4, 6, 7]


def test_offsets_keep_input_order_and_allow_repeats() -> None:
    text = "x😀y😀z"
    assert utf16_offsets(text, [5, 0, 2, 2, 4]) == [7, 0, 3, 3, 6]
    assert utf16_offsets(text, []) == []


def test_position_outside_the_text_is_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        utf16_offsets("abc", [4])
    with pytest.raises(ValueError, match="outside"):
        utf16_offsets("abc", [-1])


@given(
    st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from("😀🇫🇷𠀀é\u0301\u200d"), max_size=80),
    st.data(),
)
def test_offsets_match_the_javascript_definition(text: str, data: st.DataObject) -> None:
    positions = data.draw(st.lists(st.integers(0, len(text)), max_size=12))
    assert utf16_offsets(text, positions) == [js_index(text, p) for p in positions]
