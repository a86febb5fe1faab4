"""The Claimsift sidebar in the block editor, in Debian's Chromium: every sentence the service returns is
highlighted in its block over exactly its text in its label's style, the sidebar counts are the service's,
an edit is re-checked with the unchanged sentences from the service's cache, Clear removes every
highlight, and a service that is down or refuses the key shows an error and no highlight."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import REPORT, refuse_dialogs
from playwright.sync_api import BrowserContext, Frame, Page
from wordpress_site import (
    SIDEBAR,
    Site,
    all_marks,
    check_claims,
    free_port,
    open_editor,
    open_sidebar,
    read_highlights,
    sidebar_counts,
)

# Several paragraphs, a heading, a list, a quote, inline formatting and a sentence with an emoji.
POST_HTML = """
<!-- wp:heading --><h2 class="wp-block-heading">Elm Street bridge closes for repairs</h2><!-- /wp:heading -->
<!-- wp:paragraph --><p>The council voted 7-2 on Monday to close the Elm Street bridge. The decision is a \
<strong>serious mistake</strong> for the east side.</p><!-- /wp:paragraph -->
<!-- wp:paragraph --><p>Repairs will cost 4.2 million euros, according to the city's engineers. The mayor \
should publish the full inspection report.</p><!-- /wp:paragraph -->
<!-- wp:list --><ul class="wp-block-list"><!-- wp:list-item --><li>Traffic on the ring road rose 12% in the \
first week.</li><!-- /wp:list-item --><!-- wp:list-item --><li>Shops near the bridge should get a rent \
break.</li><!-- /wp:list-item --></ul><!-- /wp:list -->
<!-- wp:quote --><blockquote class="wp-block-quote"><!-- wp:paragraph --><p>We were never consulted, and the \
city must reopen the footpath.</p><!-- /wp:paragraph --></blockquote><!-- /wp:quote -->
<!-- wp:paragraph --><p>Local cafés 😀 stayed open all weekend. Residents should plan longer trips until \
June.</p><!-- /wp:paragraph -->
"""
# What the editor must send: the plain text of every text block, in order (the list and quote hold theirs
# in inner blocks).
BLOCK_TEXTS = [
    "Elm Street bridge closes for repairs",
    "The council voted 7-2 on Monday to close the Elm Street bridge. The decision is a serious mistake for "
    "the east side.",
    "Repairs will cost 4.2 million euros, according to the city's engineers. The mayor should publish the "
    "full inspection report.",
    "Traffic on the ring road rose 12% in the first week.",
    "Shops near the bridge should get a rent break.",
    "We were never consulted, and the city must reopen the footpath.",
    "Local cafés 😀 stayed open all weekend. Residents should plan longer trips until June.",
]
# assets/highlights.css: each label's background and underline style.
STYLES = {
    "fact": ("rgb(219, 234, 254)", "solid"),
    "assessment": ("rgb(254, 243, 199)", "dotted"),
    "prescription": ("rgb(220, 252, 231)", "double"),
}


@pytest.fixture(scope="module")
def editor(admin: BrowserContext, site: Site) -> Iterator[tuple[Page, Frame]]:
    """One new post in the block editor with the Claimsift sidebar open, shared by this module's tests."""
    page = admin.new_page()
    errors: list[str] = []
    page.on("dialog", refuse_dialogs)
    page.on("pageerror", lambda error: errors.append(str(error)))
    canvas = open_editor(page, site)
    canvas.click(".editor-post-title__input")
    page.keyboard.type("Elm Street bridge")
    page.evaluate(
        "html => wp.data.dispatch('core/block-editor').resetBlocks(wp.blocks.parse(html))", POST_HTML
    )
    open_sidebar(page)
    yield page, canvas
    page.close()
    assert errors == [], f"JavaScript errors in the editor: {errors}"


def sources(sentence: dict[str, Any]) -> str:
    return f"annotation-text-claimsift-{sentence['label']}" + ("-uncertain" if sentence["uncertain"] else "")


def assert_highlights_match(canvas: Frame, result: dict[str, Any]) -> int:
    """Every sentence of every block is one highlight over exactly its text, in its label's style."""
    shown = read_highlights(canvas, [block["id"] for block in result["blocks"]])
    highlighted = 0
    for block in result["blocks"]:
        runs = shown[block["id"]]["runs"]
        want = [(sources(s), s["start_utf16"], s["end_utf16"], s["text"]) for s in block["sentences"]]
        assert [(run["cls"], run["start"], run["end"], run["text"]) for run in runs] == want
        for run, sentence in zip(runs, block["sentences"], strict=True):
            assert (run["background"], run["decoration"]) == STYLES[sentence["label"]], sentence["text"]
            assert (run["outline"] == "dashed") == sentence["uncertain"], sentence["text"]
        highlighted += len(runs)
    return highlighted


def sentences_of(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [sentence for block in result["blocks"] for sentence in block["sentences"]]


def test_check_claims_highlights_every_sentence_in_its_label_style(
    editor: tuple[Page, Frame], site: Site
) -> None:
    page, canvas = editor
    answer = check_claims(page)
    assert answer.status == 200, answer.text()
    result = answer.json()
    sent = answer.request.post_data_json
    assert sent is not None
    assert [block["text"] for block in sent["blocks"]] == BLOCK_TEXTS

    # WordPress passed on the service's own answer for those blocks.
    direct = site.extract(sent)
    keys = ("text", "label", "start_utf16", "end_utf16", "uncertain")
    assert [[s[k] for k in keys] for s in sentences_of(result)] == [
        [s[k] for k in keys] for s in sentences_of(direct)
    ]
    assert len(sentences_of(result)) >= len(BLOCK_TEXTS) + 3  # three blocks hold two sentences

    highlighted = assert_highlights_match(canvas, result)
    assert highlighted == len(sentences_of(result))
    assert all_marks(canvas) >= highlighted
    assert sidebar_counts(page, ".claimsift-live") == result["counts"]
    assert sum(result["counts"].values()) == highlighted
    REPORT["service_sentences"] = len(sentences_of(result))
    REPORT["highlighted_sentences"] = highlighted


def test_an_edited_sentence_is_checked_again_and_the_others_come_from_the_cache(
    editor: tuple[Page, Frame], site: Site
) -> None:
    page, canvas = editor
    first = check_claims(page).json()
    paragraph = first["blocks"][1]
    offset = paragraph["sentences"][0]["text"].index(" to close")
    canvas.click(f"[data-block='{paragraph['id']}']")
    page.evaluate(
        "([id, at]) => wp.data.dispatch('core/block-editor').selectionChange(id, 'content', at, at)",
        [paragraph["id"], offset],
    )
    # A sentence the service has never seen, in every run against the same service.
    addition = f" evening after {time.time_ns() % 10**6} minutes of debate"
    page.keyboard.type(addition)

    answer = check_claims(page)
    assert answer.status == 200, answer.text()
    second = answer.json()
    before = {sentence["text"] for sentence in sentences_of(first)}
    edited = [s for s in sentences_of(second) if s["text"] not in before]
    assert [s["text"] for s in edited] == [
        f"The council voted 7-2 on Monday{addition} to close the Elm Street bridge."
    ]
    assert [s["cached"] for s in edited] == [False]
    unchanged = [s for s in sentences_of(second) if s["text"] in before]
    assert unchanged and all(s["cached"] for s in unchanged)
    assert second["cached_sentences"] == len(unchanged)

    assert assert_highlights_match(canvas, second) == len(sentences_of(second))
    cached_line = page.locator(f"{SIDEBAR} .claimsift-cached")
    assert cached_line.get_attribute("data-cached") == str(len(unchanged))
    assert cached_line.get_attribute("data-sentences") == str(len(sentences_of(second)))
    assert sidebar_counts(page, ".claimsift-live") == second["counts"]
    site.artifacts.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(site.artifacts / "wordpress-editor.png"))


def test_clear_removes_every_highlight(editor: tuple[Page, Frame]) -> None:
    page, canvas = editor
    check_claims(page)
    assert all_marks(canvas) > 0
    page.click(f"{SIDEBAR} button:has-text('Clear')")
    page.wait_for_selector(f"{SIDEBAR} .claimsift-live", state="detached")
    assert all_marks(canvas) == 0


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ({"url": "down"}, "Could not reach the claimsift service at http://127.0.0.1:"),
        (
            {"api_key": "a-key-the-service-does-not-know"},
            "The claimsift service refused this site's API key.",
        ),
    ],
    ids=["service-down", "key-refused"],
)
def test_a_failing_service_shows_an_error_and_no_highlight(
    editor: tuple[Page, Frame], site: Site, fault: dict[str, str], message: str
) -> None:
    page, canvas = editor
    check_claims(page)
    assert all_marks(canvas) > 0  # highlights of a good check, which the failed one must take away
    if fault.get("url") == "down":
        fault = {"url": f"http://127.0.0.1:{free_port()}"}  # nothing listens there: connection refused
    with site.plugin_settings(**fault):
        answer = check_claims(page)
    assert answer.status == 502, answer.text()
    error = page.locator(f"{SIDEBAR} .claimsift-error")
    assert message in error.inner_text()
    assert all_marks(canvas) == 0
    assert page.locator(f"{SIDEBAR} .claimsift-live").count() == 0
