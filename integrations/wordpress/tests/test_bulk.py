"""Existing posts checked without re-saving them: the "Check claims" bulk action queues them, WP-Cron works
through the queue a few at a time (and resumes after the service failed or hung), the results are stored
as post meta with the post content untouched, the Claims column shows and sorts them, the editor sidebar
shows the stored result until the post is checked again, and a post edited after its check is stale."""

from __future__ import annotations

import math
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import REPORT
from playwright.sync_api import Page
from wordpress_site import (
    SIDEBAR,
    Site,
    check_claims,
    create_posts,
    free_port,
    open_editor,
    open_sidebar,
    wait_until,
)


def block(name: str, html: str) -> str:
    return f"<!-- wp:{name} -->\n{html}\n<!-- /wp:{name} -->"


def paragraphs(*texts: str) -> str:
    return "\n\n".join(block("paragraph", f"<p>{text}</p>") for text in texts)


# title -> block content. Shares of opinion differ, so the column's sort order is visible; one post holds
# a backslash and quotes (stored exactly), one markup as text (shown as text), one nothing to check.
POSTS = {
    "Bulk: budget": paragraphs(
        "The council approved a budget of 3 million euros on Tuesday.",
        "Spending on roads rose 5% from last year.",
    ),
    "Bulk: opinion": paragraphs(
        "The plan is a disaster for the city.",
        "The council should withdraw it at once.",
        "Nobody asked for this.",
    ),
    "Bulk: mixed": paragraphs(
        "The mayor opened the new library on Friday.", "It is the best building the city has seen in decades."
    ),
    "Bulk: quotes": paragraphs(
        'The sign read "C:\\temp\\new" and nobody noticed for a week.', "The office said it was a test."
    ),
    "Bulk: markup": paragraphs(
        "The page showed &lt;script&gt;alert(1)&lt;/script&gt; as plain text.",
        "Editors should escape every title.",
    ),
    "Bulk: emoji": paragraphs("Cafés 😀 reopened on Friday after the floods.", "Visitors should book ahead."),
    "Bulk: sections": "\n\n".join(
        [
            block("heading", '<h2 class="wp-block-heading">Harbour report</h2>'),
            block(
                "list",
                '<ul class="wp-block-list">'
                + block("list-item", "<li>Ferries carried 40,000 people.</li>")
                + "</ul>",
            ),
            paragraphs("The port must hire more staff before summer."),
        ]
    ),
    "Bulk: empty": "",
}
# Everything the tests read about a post, in one PHP call.
POST_STATE = """array_map( function ( $id ) {
    $post = get_post( $id );
    return array( 'id' => $id, 'content' => $post->post_content, 'modified' => $post->post_modified_gmt,
        'state' => claimsift_post_state( $post ), 'share' => get_post_meta( $id, '_claimsift_share', true ) );
}, $data )"""


@pytest.fixture(scope="module")
def posts(site: Site) -> dict[str, int]:
    """The posts above, published by the administrator; title -> post ID. The administrator's posts list
    shows up to 200 rows (screen option), so a sort is seen whole."""
    site.php("update_user_meta( 1, 'edit_post_per_page', 200 );")
    ids = create_posts(site, [{"title": title, "content": content} for title, content in POSTS.items()])
    return dict(zip(POSTS, ids, strict=True))


def states(site: Site, ids: list[int]) -> dict[int, dict[str, Any]]:
    return {state["id"]: state for state in site.php_json(POST_STATE, ids)}


def queue_status(site: Site) -> dict[str, Any]:
    status: dict[str, Any] = site.php_json("claimsift_queue_status()")
    return status


def summary(counts: dict[str, int]) -> str:
    return " · ".join(f"{label[0].upper()} {count}" for label, count in counts.items())


def run_cron_until_done(site: Site, timeout_s: float) -> None:
    def drained() -> bool:
        site.run_cron()
        return int(site.php("echo claimsift_queue_length();")) == 0

    wait_until(drained, timeout_s, "the queue was not worked through", interval_s=0.2)


def test_bulk_action_queues_posts_and_wp_cron_checks_them_a_few_at_a_time(
    page: Page, site: Site, posts: dict[str, int]
) -> None:
    ids = list(posts.values())
    before = states(site, ids)
    started = int(site.php("echo time();"))
    batch = int(site.php("echo CLAIMSIFT_BATCH_SIZE;"))

    page.goto(f"{site.url}/wp-admin/edit.php")
    for post_id in ids:
        page.check(f"#cb-select-{post_id}")
    page.select_option("#bulk-action-selector-top", "claimsift_check")
    page.click("#doaction")
    notice = page.locator(".claimsift-notice").inner_text()
    assert f"{len(ids)} posts queued for a claims check" in notice
    assert f"{batch} at a time" in notice

    run_cron_until_done(site, timeout_s=180)

    after = states(site, ids)
    runs = [run for run in queue_status(site)["runs"] if run["at"] >= started]
    assert len(runs) >= math.ceil(len(ids) / batch)
    assert all(run["checked"] + run["failed"] <= batch for run in runs)
    assert sum(run["checked"] for run in runs) == len(ids) - 1
    assert after[posts["Bulk: empty"]]["state"]["error"] == "The post has no text to check."
    checked = 0
    for title, post_id in posts.items():
        # Never touched: the same content, not even a new modification time.
        assert after[post_id]["content"] == before[post_id]["content"] == POSTS[title]
        assert after[post_id]["modified"] == before[post_id]["modified"]
        state = after[post_id]["state"]
        assert not state["queued"]
        if title == "Bulk: empty":
            assert state["result"] is None
            continue
        direct = site.extract({"text": POSTS[title], "format": "html"})
        stored = state["result"]
        assert stored["counts"] == direct["counts"]
        assert stored["model"] == {"name": direct["model"]["name"], "version": direct["model"]["version"]}
        assert [(s["text"], s["label"]) for s in stored["sentences"]] == [
            (s["text"], s["label"]) for s in direct["sentences"]
        ]
        assert stored["checked_at"].endswith("Z")
        assert state["stale"] is False
        checked += 1
    quoted = after[posts["Bulk: quotes"]]["state"]["result"]["sentences"][0]["text"]
    assert quoted == 'The sign read "C:\\temp\\new" and nobody noticed for a week.'
    REPORT["bulk_checked_posts"] = checked


def test_claims_column_shows_the_counts_and_sorts_by_share_of_opinion(
    page: Page, site: Site, posts: dict[str, int]
) -> None:
    stored = states(site, list(posts.values()))
    for order in ("desc", "asc"):
        page.goto(f"{site.url}/wp-admin/edit.php?orderby=claimsift_share&order={order}")
        rows = page.locator("#the-list tr[id^='post-']")
        shown: list[tuple[int, str | None]] = []
        for i in range(rows.count()):
            row = rows.nth(i)
            post_id = int(str(row.get_attribute("id")).removeprefix("post-"))
            counts = row.locator(".claimsift-column-counts")
            shown.append((post_id, counts.inner_text() if counts.count() else None))
        ours = [(post_id, text) for post_id, text in shown if post_id in stored]
        assert len(ours) == len(posts)
        for post_id, text in ours:
            result = stored[post_id]["state"]["result"]
            assert text == (summary(result["counts"]) if result else None)
        # Never-checked posts sort as the lowest share: last when descending, first when ascending.
        shares = [float(stored[p]["share"]) if stored[p]["share"] != "" else -1.0 for p, _ in ours]
        assert shares == sorted(shares, reverse=order == "desc")
    assert page.locator("th#claimsift a[href*='orderby=claimsift_share']").count() == 1


def test_sidebar_shows_the_stored_result_until_the_post_is_checked_again(
    page: Page, site: Site, posts: dict[str, int]
) -> None:
    post_id = posts["Bulk: markup"]
    stored = states(site, [post_id])[post_id]["state"]["result"]
    open_editor(page, site, post_id)
    open_sidebar(page)
    panel = page.locator(f"{SIDEBAR} .claimsift-stored")
    panel.wait_for()
    assert stored["model"]["version"] in panel.locator(".claimsift-stored-meta").inner_text()
    labels = panel.locator(".claimsift-count")
    assert {
        str(labels.nth(i).get_attribute("data-label")): int(labels.nth(i).locator("strong").inner_text())
        for i in range(labels.count())
    } == stored["counts"]
    shown = panel.locator(".claimsift-stored-sentence")
    assert [shown.nth(i).inner_text().split(" ", 1)[1] for i in range(shown.count())] == [
        s["text"] for s in stored["sentences"]
    ]
    assert "<script>alert(1)</script>" in shown.nth(0).inner_text()  # text, never markup
    assert page.locator(f"{SIDEBAR} script").count() == 0
    assert panel.locator(".claimsift-stale").count() == 0

    check_claims(page)
    panel.wait_for(state="detached")
    assert page.locator(f"{SIDEBAR} .claimsift-live").count() == 1


def test_a_post_edited_after_its_check_is_marked_stale(page: Page, site: Site, posts: dict[str, int]) -> None:
    edited = posts["Bulk: mixed"]
    canvas = open_editor(page, site, edited)
    open_sidebar(page)
    page.locator(f"{SIDEBAR} .claimsift-stored").wait_for()
    assert page.locator(f"{SIDEBAR} .claimsift-stale").count() == 0
    first = page.evaluate("wp.data.select('core/block-editor').getBlocks()[0].clientId")
    canvas.click(f"[data-block='{first}']")
    page.keyboard.press("End")
    page.keyboard.type(" Hundreds came.")
    page.evaluate("wp.data.dispatch('core/editor').savePost()")
    page.wait_for_function(
        "!wp.data.select('core/editor').isSavingPost() && !wp.data.select('core/editor').isEditedPostDirty()"
    )
    # The sidebar reads the stored state again after the save.
    page.locator(f"{SIDEBAR} .claimsift-stale").wait_for()

    page.goto(f"{site.url}/wp-admin/edit.php")
    for title, post_id in posts.items():
        stale = page.locator(f"#post-{post_id} .claimsift-column-stale").count()
        assert stale == (1 if post_id == edited else 0), title
    assert states(site, [edited])[edited]["state"]["stale"] is True


@pytest.fixture
def hanging_service() -> Iterator[str]:
    """A port that accepts connections and never answers (the kernel completes the handshake)."""
    with socket.create_server(("127.0.0.1", 0), backlog=16) as server:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


def cron_until(site: Site, condition: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """Requests wp-cron.php until the queue's status meets ``condition``. Any page load (and any PHP that
    loads WordPress) may start a run of its own, so the tests wait for outcomes, not for one request."""
    status: dict[str, Any] = {}

    def met() -> bool:
        site.run_cron()
        status.update(queue_status(site))
        return condition(status)

    try:
        wait_until(met, 120, "the queue's status did not change")
    except AssertionError as error:
        raise AssertionError(f"{error}; the last status: {status}") from None
    return status


def test_the_queue_keeps_its_posts_and_resumes_after_the_service_failed_or_hung(
    page: Page, site: Site, posts: dict[str, int], hanging_service: str
) -> None:
    ids = [posts["Bulk: budget"], posts["Bulk: emoji"]]
    before = states(site, ids)
    delay, longest = site.php_json("array( CLAIMSIFT_RETRY_DELAY, CLAIMSIFT_RETRY_MAX_DELAY )")

    # The settings go from unreachable to hung without passing through the working URL: a cron run that
    # page loads start on their own in between would otherwise check the posts and empty the queue.
    with site.plugin_settings(url=f"http://127.0.0.1:{free_port()}"):
        site.php("claimsift_enqueue_posts( $data );", ids)
        status = cron_until(
            site, lambda status: "Could not reach the claimsift service" in status["last_error"]
        )
        assert status["waiting"] == 2
        # Backs off: the first retry after CLAIMSIFT_RETRY_DELAY, doubling, up to CLAIMSIFT_RETRY_MAX_DELAY.
        assert status["retry_delay"] == min(longest, delay * 2 ** (status["failures"] - 1))
        page.goto(f"{site.url}/wp-admin/edit.php")
        assert "2 posts wait" in page.locator(".claimsift-queue-error").inner_text()
        assert page.locator(f"#post-{ids[0]} .claimsift-column-queued").count() == 1
        page.goto("about:blank")  # an open admin page polls WordPress, and every load may start a cron run

        with site.plugin_settings(url=hanging_service, timeout=2):
            # cURL's "Operation timed out after 200x milliseconds": the run waited for the hung service.
            status = cron_until(site, lambda status: "timed out after" in status["last_error"])
            assert status["waiting"] == 2
            assert status["failures"] >= 2
            assert states(site, ids) == before | {
                post_id: {**before[post_id], "state": {**before[post_id]["state"], "queued": True}}
                for post_id in ids
            }

    run_cron_until_done(site, timeout_s=120)
    after = states(site, ids)
    for post_id in ids:
        assert (
            after[post_id]["state"]["result"]["checked_at"] > before[post_id]["state"]["result"]["checked_at"]
        )
        assert after[post_id]["state"]["result"]["counts"] == before[post_id]["state"]["result"]["counts"]
    status = queue_status(site)
    assert (status["failures"], status["last_error"], status["waiting"]) == (0, "", 0)
