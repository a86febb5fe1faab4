"""The page at `/` and the API page at `/docs` in a real browser: Debian's Chromium driven by Playwright,
against `claimsift serve`, with every request that leaves the machine blocked (and counted: none may be
tried, so both pages work without internet).

Playwright's own browser download is blocked here, so the test launches the system Chromium
(`scripts/install-browser.sh` installs it) and skips, saying so, only when no Chromium binary exists.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, Route, async_playwright

from tests.conftest import shared_file

pytestmark = pytest.mark.slow

SCREENSHOT = Path("/tmp/claimsift-page.png")
DOCS_SCREENSHOT = Path("/tmp/claimsift-docs.png")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# What each highlighted sentence shows: its label, its text (without the superscript), its marker.
READ_SENTENCES = """nodes => nodes.map(node => ({
    label: node.dataset.label,
    classes: Array.from(node.classList),
    text: node.querySelector('.text').textContent,
    tag: node.querySelector('.tag').textContent,
}))"""


def chromium_binary() -> str | None:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


# The async API, on the suite's one event loop: the sync API runs a loop of its own, which would refuse
# every async fixture set up while the browser is open.
@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    executable = chromium_binary()
    if executable is None:
        pytest.skip("no Chromium binary (/usr/bin/chromium): run scripts/install-browser.sh to test the page")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        await launched.close()


@pytest.fixture
async def offline(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A browser context cut off from everything but this machine; fails if any page tried to go out."""
    context = await browser.new_context(viewport={"width": 1100, "height": 900})
    outside: list[str] = []

    async def loopback_only(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort("internetdisconnected")

    await context.route("**/*", loopback_only)
    yield context
    await context.close()
    assert outside == [], f"the page tried to load from outside: {outside}"


@pytest.fixture
async def page(offline: BrowserContext, live_server: str) -> AsyncIterator[Page]:
    opened = await offline.new_page()
    await opened.goto(f"{live_server}/")
    yield opened


async def api_extract(live_server: str, body: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=120) as http:
        response = await http.post(f"{live_server}/v1/extract", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def submit(page: Page, text: str, input_format: str = "text") -> None:
    await page.check(f"input[name=format][value={input_format}]")
    await page.fill("#source", text)
    await page.click("#analyse")
    await page.wait_for_selector("#results:not([hidden])")
    await page.wait_for_function("() => !document.getElementById('analyse').disabled")


async def assert_highlights_match(page: Page, expected: list[dict[str, Any]]) -> None:
    shown = await page.eval_on_selector_all("#document .sentence", READ_SENTENCES)
    assert len(shown) == len(expected)
    for sentence, want in zip(shown, expected, strict=True):
        assert sentence["label"] == want["label"]
        assert f"label-{want['label']}" in sentence["classes"]
        assert sentence["text"] == want["text"]
        assert sentence["tag"] == want["label"][0].upper() + ("?" if want["uncertain"] else "")
        assert ("uncertain" in sentence["classes"]) == want["uncertain"]


async def test_example_article_is_highlighted_with_the_api_labels_and_counts(
    page: Page, live_server: str
) -> None:
    text = shared_file("example_article.txt").read_text(encoding="utf-8")
    expected = await api_extract(live_server, {"text": text})

    await submit(page, text)

    await assert_highlights_match(page, expected["sentences"])
    for label, count in expected["counts"].items():
        assert await page.text_content(f'#legend [data-count-for="{label}"]') == str(count)
    uncertain = sum(sentence["uncertain"] for sentence in expected["sentences"])
    assert await page.text_content('#legend [data-count-for="uncertain"]') == str(uncertain)
    # Nothing of the article is lost or reordered: the highlighted view reads as the pasted text.
    assert await page.eval_on_selector("#document", "node => node.innerText.length") > 0.9 * len(text)


async def test_keyboard_focus_on_a_sentence_reveals_its_scores(page: Page, live_server: str) -> None:
    text = shared_file("example_article.txt").read_text(encoding="utf-8")
    expected = (await api_extract(live_server, {"text": text}))["sentences"]
    await submit(page, text)
    assert await page.is_hidden("#tip")

    await page.mouse.move(0, 0)  # out of the way: scrolling to a focused sentence must not hover another
    await page.focus("#sample")
    await page.keyboard.press("Tab")  # the next stop after the form's last button is the first sentence
    await page.keyboard.press("Tab")  # and then the second

    focused = await page.evaluate("() => document.activeElement.dataset.index")
    assert focused == "1"
    assert await page.is_visible("#tip")
    tip = await page.text_content("#tip") or ""
    for label, score in expected[1]["scores"].items():
        assert label in tip
        assert f"{score:.2f}" in tip
    ring = await page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert ring == "solid"

    await page.keyboard.press("Escape")
    assert await page.is_hidden("#tip")
    await page.keyboard.press("Enter")  # pins the scores open, as a click does
    assert await page.is_visible("#tip")
    await page.screenshot(path=str(SCREENSHOT))


async def test_quoted_speech_is_marked_and_furniture_greyed_but_not_counted(
    page: Page, live_server: str
) -> None:
    text = (
        "Bridge Closes\n\nThe company's chair apologised on Monday. "
        '"What happened at the site should never have happened. We will change how we work."\n\n'
        "Share and Like this post\n"
    )
    expected = await api_extract(live_server, {"text": text})
    await submit(page, text)

    await assert_highlights_match(page, expected["sentences"])
    quoted = await page.eval_on_selector_all(
        "#document .sentence.quoted .text", "ns => ns.map(n => n.textContent)"
    )
    assert quoted == [s["text"] for s in expected["sentences"] if s["quoted"] == "full"] and len(quoted) == 2
    assert await page.text_content('#document .sentence[data-role="headline"] .role-badge') == "headline"
    furniture = await page.eval_on_selector_all(
        "#document .furniture", "ns => ns.map(n => n.firstChild.data)"
    )
    assert furniture == ["Share and Like this post"]
    assert await page.eval_on_selector(
        "#document .furniture", "n => getComputedStyle(n).color"
    ) != await page.eval_on_selector("#document .sentence .text", "n => getComputedStyle(n).color")
    total = 0
    for label in expected["labels"]:
        total += int(await page.text_content(f'#legend [data-count-for="{label}"]') or 0)
    assert total == len(expected["sentences"]) == 4
    await page.focus("#document .sentence.quoted")
    assert "Quoted speech" in (await page.text_content("#tip") or "")


async def test_emoji_and_markup_are_shown_as_text_at_the_right_place(page: Page, live_server: str) -> None:
    text = (
        'Le café 😀 a fermé <img src=x onerror="window.pwned=1"> lundi. 😀😀 The council should act now.\n\n'
        "<script>window.pwned = 2</script> The decision was a mistake 🤦🏽‍♀️. Prices rose 4% in May."
    )
    expected = await api_extract(live_server, {"text": text})

    await submit(page, text)

    await assert_highlights_match(page, expected["sentences"])
    assert await page.locator("#document img, #document script").count() == 0
    assert await page.evaluate("() => window.pwned") is None


async def test_html_input_is_shown_as_the_extracted_text(page: Page, live_server: str) -> None:
    html = (
        "<nav>Home | World | Sport</nav><article><h1>Bridge closes</h1>"
        "<p>The council voted 7-2 on Monday. The decision was a mistake.</p>"
        "<script>track()</script><p>The city should reopen it.</p></article>"
    )
    expected = await api_extract(live_server, {"text": html, "format": "html"})

    await submit(page, html, "html")

    await assert_highlights_match(page, expected["sentences"])
    shown = await page.text_content("#document") or ""
    assert "track()" not in shown
    assert "Home | World" not in shown


async def test_an_api_error_is_shown_in_the_page(page: Page) -> None:
    await page.fill("#source", "   ")
    await page.click("#analyse")
    assert await page.is_visible("#error")
    await page.fill("#source", "x" * 100_001)  # over CLAIMSIFT_MAX_CHARS: the service's 413 message
    await page.click("#analyse")
    await page.wait_for_function("() => document.getElementById('error').textContent.includes('413')")


async def test_page_and_assets_are_served_with_a_strict_content_security_policy(
    client: httpx.AsyncClient,
) -> None:
    served = await client.get("/")
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in served.headers["content-security-policy"]
    assert '<script src="/web/app.js" defer></script>' in served.text
    script = await client.get("/web/app.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert (await client.get("/web/style.css")).headers["content-type"].startswith("text/css")
    for missing in ("/web/index.html", "/web/..%2Fapi%2Fweb.py", "/web/nope.js"):
        refused = await client.get(missing)
        assert refused.status_code == 404, missing
        assert refused.json()["error"]["code"] == "not_found"


async def test_docs_render_every_operation_offline(offline: BrowserContext, live_server: str) -> None:
    page = await offline.new_page()
    problems: list[str] = []  # script errors and Content-Security-Policy refusals
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    async with httpx.AsyncClient(timeout=60) as http:
        schema = (await http.get(f"{live_server}/openapi.json")).json()
    expected = sorted((method.upper(), path) for path, item in schema["paths"].items() for method in item)

    await page.goto(f"{live_server}/docs")
    await page.wait_for_selector(".opblock-summary-path")

    shown = await page.eval_on_selector_all(
        ".opblock",
        """blocks => blocks.map(block => [
            block.querySelector('.opblock-summary-method').textContent,
            block.querySelector('.opblock-summary-path').dataset.path,
        ])""",
    )
    assert sorted(tuple(operation) for operation in shown) == expected
    assert ("POST", "/v1/extract") in expected
    title = await page.text_content(".info .title") or ""
    assert title.startswith("claimsift")
    await page.screenshot(path=str(DOCS_SCREENSHOT), full_page=False)
    assert problems == []


async def test_docs_assets_come_from_the_installed_package_under_a_strict_policy(
    client: httpx.AsyncClient,
) -> None:
    served = await client.get("/docs")
    assert served.status_code == 200
    policy = served.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self';" in policy
    assert "http" not in served.text  # no absolute URL: nothing is loaded from outside
    for name, kind in (("swagger-ui-bundle.js", "text/javascript"), ("swagger-ui.css", "text/css")):
        asset = await client.get(f"/docs/{name}")
        assert asset.status_code == 200, name
        assert asset.headers["content-type"].startswith(kind)
        assert len(asset.content) > 100_000  # the real Swagger UI build, not a stand-in
    for gone in ("/redoc", "/docs/oauth2-redirect", "/docs/..%2Fswagger-initializer.js", "/docs/index.html"):
        refused = await client.get(gone)
        assert refused.status_code == 404, gone
