"""`claimsift report DIR` opened in Debian's Chromium: the charts render, offline, with the labels' colours.

The output folder is made by the backfill stages run in this process (real segmentation, the real
model in a `Labeller`, real part commits) without starting Ray, which test_backfill.py covers.
"""

from __future__ import annotations

import base64
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pyarrow as pa
import pytest
from playwright.async_api import Browser, Page, async_playwright

from app.backfill import stages
from app.backfill.source import plan_shards
from app.backfill.store import OutputDir
from app.settings import Settings
from bench.archive import synthetic_archive, write_jsonl
from tests.api.test_web import CHROMIUM_ARGS, chromium_binary
from tests.conftest import REPO

pytestmark = pytest.mark.slow

SCREENSHOT = Path("/tmp/claimsift-report.png")
TONES = {"fact": (30, 64, 175), "assessment": (180, 83, 9), "prescription": (22, 101, 52)}
# Pixels of one colour (within a tolerance) in a PNG, decoded by the browser's own decoder.
COUNT_PIXELS = """async ([png, colours]) => {
    const image = new Image();
    image.src = 'data:image/png;base64,' + png;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = image.width; canvas.height = image.height;
    const context = canvas.getContext('2d');
    context.drawImage(image, 0, 0);
    const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
    const counts = colours.map(() => 0);
    for (let i = 0; i < data.length; i += 4) {
        colours.forEach(([r, g, b], k) => {
            const near = (value, target) => Math.abs(value - target) < 12;
            if (near(data[i], r) && near(data[i + 1], g) && near(data[i + 2], b)) {
                counts[k] += 1;
            }
        });
    }
    return counts;
}"""


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A backfill output of 120 synthetic articles, labelled by the real model through the stages."""
    folder = tmp_path_factory.mktemp("report")
    write_jsonl(synthetic_archive(120, seed=5, shared=None), folder / "archive.jsonl")
    out = OutputDir(folder / "out")
    out.recover()
    settings = Settings()
    labeller = stages.Labeller(settings)
    shards = pa.Table.from_pylist([shard.to_row() for shard in plan_shards(folder / "archive.jsonl")])
    for block in stages.read_shards(shards, frozenset()):
        labelled_block = labeller(stages.segment(block, settings))
        stages.write_part(labelled_block, out, "20261130T000000Z", list(TONES))
    return out.root


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    executable = chromium_binary()
    if executable is None:
        pytest.skip(
            "no Chromium binary (/usr/bin/chromium): run scripts/install-browser.sh to test the report"
        )
    async with async_playwright() as playwright:
        yield await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)


def write_report(folder: Path) -> Path:
    done = subprocess.run(
        [sys.executable, "-m", "app", "report", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    assert "(120 documents)" in done.stdout
    return folder / "report.html"


async def open_offline(browser: Browser, report: Path) -> tuple[Page, list[str]]:
    """The page, with every request that is not the file itself recorded and refused."""
    page = await browser.new_page(viewport={"width": 1100, "height": 900})
    fetched: list[str] = []

    async def refuse(route: object) -> None:
        request = route.request  # type: ignore[attr-defined]
        if request.url == report.as_uri():
            await route.continue_()  # type: ignore[attr-defined]
        else:
            fetched.append(request.url)
            await route.abort()  # type: ignore[attr-defined]

    await page.route("**/*", refuse)
    await page.goto(report.as_uri())
    return page, fetched


async def test_the_report_is_one_offline_file_whose_charts_render(labelled: Path, browser: Browser) -> None:
    report = write_report(labelled)
    markup = report.read_text(encoding="utf-8")
    assert "<script" not in markup and " src=" not in markup and "@import" not in markup

    page, fetched = await open_offline(browser, report)
    await page.screenshot(path=str(SCREENSHOT), full_page=True)

    assert fetched == []  # nothing from a CDN or anywhere else
    charts = page.locator("svg.chart")
    assert await charts.count() == 3
    for index in range(3):
        box = await charts.nth(index).bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100
        sizes = (
            await charts.nth(index)
            .locator("rect.seg")
            .evaluate_all("rects => rects.map(r => r.getBoundingClientRect()).map(b => b.width * b.height)")
        )
        assert sizes and min(sizes) > 0
    years = await charts.nth(0).locator("text").evaluate_all("nodes => nodes.map(n => n.textContent)")
    assert {str(year) for year in range(2015, 2025)} <= set(years)
    png = base64.b64encode(await charts.nth(0).screenshot()).decode()
    counts = await page.evaluate(COUNT_PIXELS, [png, list(TONES.values())])
    assert all(count > 200 for count in counts), dict(zip(TONES, counts, strict=True))


async def test_the_report_lists_the_heaviest_articles_with_links_and_the_shares(
    labelled: Path, browser: Browser
) -> None:
    report = write_report(labelled)
    page, _ = await open_offline(browser, report)

    headings = await page.locator("h2").all_inner_texts()
    assert "Most assessment-heavy articles" in headings and "Most prescription-heavy articles" in headings
    links = await page.locator("table a").evaluate_all("links => links.map(a => a.href)")
    assert links and all(link.startswith("https://archive.example.org/a") for link in links)
    documents = OutputDir(labelled).read("documents")
    assert documents is not None
    counts = {label: sum(documents.column(f"n_{label}").to_pylist()) for label in TONES}
    total = sum(counts.values())
    cards = dict(
        zip(
            await page.locator(".card").evaluate_all("cards => cards.map(c => c.lastChild.textContent)"),
            await page.locator(".card b").all_inner_texts(),
            strict=True,
        )
    )
    assert cards["sentences"] == f"{total:,}"
    assert cards["assessment"] == f"{100 * counts['assessment'] / total:.1f}%"
    tip = await page.locator("svg.chart rect.seg title").first.text_content()
    assert tip is not None and "sentences)" in tip


def test_report_of_a_folder_without_output_says_so(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "app", "report", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert done.returncode == 2
    assert "holds no backfill output" in done.stderr
    assert list(tmp_path.iterdir()) == []
