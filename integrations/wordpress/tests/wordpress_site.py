"""The WordPress that scripts/wordpress-e2e.sh brought up, as the tests reach it: its address and files,
PHP with WordPress loaded (for fixtures and for reading the database), logins, REST calls and the editor."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
from playwright.sync_api import BrowserContext, Frame, Page, Response

PHP_DATA = "$data = json_decode( getenv( 'CLAIMSIFT_TEST_DATA' ), true );"
ENV = {
    "url": "CLAIMSIFT_WP_URL",
    "root": "CLAIMSIFT_WP_ROOT",
    "admin_password": "CLAIMSIFT_WP_ADMIN_PASSWORD",
    "service_url": "CLAIMSIFT_WP_SERVICE_URL",
    "service_key": "CLAIMSIFT_WP_SERVICE_KEY",
    "artifacts": "CLAIMSIFT_WP_ARTIFACTS",
}


@dataclass(frozen=True)
class Site:
    url: str
    root: Path
    admin_password: str
    service_url: str
    service_key: str
    artifacts: Path

    @classmethod
    def from_environment(cls) -> Site | None:
        values = {field: os.environ.get(name, "") for field, name in ENV.items()}
        if not all(values.values()):
            return None
        return cls(
            url=values["url"],
            root=Path(values["root"]),
            admin_password=values["admin_password"],
            service_url=values["service_url"],
            service_key=values["service_key"],
            artifacts=Path(values["artifacts"]),
        )

    def php(self, code: str, data: Any = None) -> str:
        """Runs PHP ``code`` with WordPress loaded (as the CLI, no user) and returns what it printed.
        ``data`` reaches the code as ``$data``, through JSON (no quoting inside PHP source)."""
        done = subprocess.run(
            [
                "php",
                "-d",
                "display_errors=stderr",
                "-r",
                f"require '{self.root}/wp-load.php'; {PHP_DATA} {code}",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "CLAIMSIFT_TEST_DATA": json.dumps(data)},
        )
        assert done.returncode == 0, f"php failed ({done.returncode}): {done.stderr}\n{code}"
        return done.stdout

    def php_json(self, expression: str, data: Any = None) -> Any:
        """The value of a PHP expression, through JSON."""
        return json.loads(self.php(f"echo wp_json_encode( {expression} );", data))

    def set_plugin_settings(self, **settings: Any) -> None:
        """Overwrites the plugin's stored settings (service URL, API key, timeout)."""
        self.php("update_option( 'claimsift_settings', $data );", settings)

    @contextlib.contextmanager
    def plugin_settings(self, **changes: Any) -> Iterator[None]:
        """The plugin's settings with ``changes`` applied, restored afterwards."""
        before = self.php_json("get_option( 'claimsift_settings' )")
        self.set_plugin_settings(**{**before, **changes})
        try:
            yield
        finally:
            self.set_plugin_settings(**before)

    def extract(self, body: dict[str, Any]) -> dict[str, Any]:
        """The service's own answer (with the site's key), to compare what WordPress shows with."""
        response = httpx.post(
            f"{self.service_url}/v1/extract", json=body, headers={"X-API-Key": self.service_key}, timeout=120
        )
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def run_cron(self) -> None:
        """What a visitor's page load (or a system cron) does: one request to wp-cron.php."""
        response = httpx.get(f"{self.url}/wp-cron.php", timeout=120)
        assert response.status_code == 200, response.text


def login(context: BrowserContext, site: Site, user: str, password: str) -> None:
    """Logs the context in through wp-login.php (the GET sets the test cookie the POST needs)."""
    context.request.get(f"{site.url}/wp-login.php")
    response = context.request.post(
        f"{site.url}/wp-login.php", form={"log": user, "pwd": password, "testcookie": "1"}, max_redirects=0
    )
    assert response.status == 302, f"login of {user} failed: {response.status}"


def rest_nonce(context: BrowserContext, site: Site) -> str:
    """The REST nonce of the context's logged-in user (what wp.apiFetch sends as X-WP-Nonce)."""
    response = context.request.get(f"{site.url}/wp-admin/admin-ajax.php?action=rest-nonce")
    assert response.status == 200, response.text()
    return response.text().strip()


def create_user(site: Site, role: str) -> tuple[str, str]:
    """A new user with ``role`` (editor preferences seeded: no welcome guide): (login, password)."""
    login_name = f"{role}{time.time_ns() % 10**9}"
    password = f"{login_name}-pass"
    site.php(
        f"$id = wp_insert_user( array( 'user_login' => '{login_name}', 'user_pass' => '{password}', "
        f"'user_email' => '{login_name}@example.invalid', 'role' => '{role}' ) );"
        "if ( is_wp_error( $id ) ) { fwrite( STDERR, $id->get_error_message() ); exit( 1 ); }"
        "update_user_meta( $id, $wpdb->get_blog_prefix() . 'persisted_preferences', "
        "array( 'core/edit-post' => array( 'welcomeGuide' => false ), '_modified' => gmdate( 'c' ) ) );"
    )
    return login_name, password


def create_posts(site: Site, posts: list[dict[str, Any]]) -> list[int]:
    """Posts written straight into the database (as an import would), in one PHP run; their IDs.
    Each post: {"title", "content", "author"?: user ID (1, the administrator), "status"?: "publish"}."""
    ids: list[int] = site.php_json(
        "array_map( function ( $post ) { return wp_insert_post( wp_slash( array( "
        "'post_title' => $post['title'], 'post_content' => $post['content'], "
        "'post_author' => $post['author'] ?? 1, 'post_status' => $post['status'] ?? 'publish' ) ) ); "
        "}, $data )",
        posts,
    )
    assert all(ids), ids
    return ids


def create_post(site: Site, title: str, content: str, **fields: Any) -> int:
    return create_posts(site, [{"title": title, "content": content, **fields}])[0]


def user_id(site: Site, login_name: str) -> int:
    return int(site.php("echo get_user_by( 'login', $data )->ID;", login_name))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the block editor ------------------------------------------------------------------------------------

EDITOR_READY = "window.wp && wp.data && wp.data.select('core/editor').getCurrentPostId()"
SIDEBAR = ".interface-complementary-area"
# Every highlight of the given blocks, read from the editor canvas: for each block, its rich text's plain
# text and the runs of text inside claimsift <mark>s as {cls, start, end, text, background, decoration,
# outline}, in UTF-16 offsets (JavaScript string indices). A sentence split by inline formatting
# (<strong> inside it) is one run: contiguous text nodes under marks of the same class.
READ_HIGHLIGHTS = """ids => ids.map(id => {
  const block = document.querySelector(`[data-block="${id}"]`);
  if (!block) return {id, missing: true};
  const rich = block.matches('[contenteditable]') ? block : Array.from(
    block.querySelectorAll('[contenteditable]')).find(node => node.closest('[data-block]') === block);
  const runs = [];
  let offset = 0;
  const walker = document.createTreeWalker(rich, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest('[data-block]') !== block) continue;
    const mark = node.parentElement.closest('mark');
    const length = node.data.length;
    if (mark && rich.contains(mark)) {
      const cls = Array.from(mark.classList).find(name => name.startsWith('annotation-text-claimsift-'));
      const last = runs[runs.length - 1];
      if (last && last.cls === cls && last.end === offset) {
        last.end += length;
        last.text += node.data;
      } else {
        const style = getComputedStyle(mark);
        runs.push({cls, start: offset, end: offset + length, text: node.data,
          background: style.backgroundColor, decoration: style.textDecorationStyle,
          outline: style.outlineStyle});
      }
    }
    offset += length;
  }
  return {id, text: rich.textContent, runs};
})"""


def open_editor(page: Page, site: Site, post_id: int | None = None) -> Frame:
    """Opens the block editor (a new post, or ``post_id``) and returns the content iframe's frame."""
    address = f"{site.url}/wp-admin/post-new.php"
    if post_id is not None:
        address = f"{site.url}/wp-admin/post.php?post={post_id}&action=edit"
    page.goto(address)
    page.wait_for_function(EDITOR_READY, timeout=60_000)
    page.wait_for_selector("iframe[name='editor-canvas']")
    canvas = page.frame(name="editor-canvas")
    assert canvas is not None
    canvas.wait_for_selector(".editor-post-title__input, .is-root-container", timeout=30_000)
    return canvas


def open_sidebar(page: Page) -> None:
    """Opens the Claimsift sidebar with its pinned button in the editor's top bar, as a user does."""
    page.click("button[aria-label='Claimsift']")
    page.wait_for_selector(f"{SIDEBAR} >> text=Check claims")


def is_analyze(response: Response) -> bool:
    # /wp-json/claimsift/v1/analyze, or ?rest_route=%2Fclaimsift%2Fv1%2Fanalyze with plain permalinks.
    return "claimsift/v1/analyze" in unquote(response.url) and response.request.method == "POST"


def check_claims(page: Page) -> Response:
    """Presses Check claims and returns WordPress's answer to the editor (the service's, passed on)."""
    with page.expect_response(is_analyze, timeout=120_000) as answer:
        page.click(f"{SIDEBAR} button:has-text('Check claims')")
    page.wait_for_selector(f"{SIDEBAR} button:has-text('Check claims'):not([disabled])")
    return answer.value


def read_highlights(canvas: Frame, block_ids: list[str]) -> dict[str, dict[str, Any]]:
    found: list[dict[str, Any]] = canvas.evaluate(READ_HIGHLIGHTS, block_ids)
    return {block["id"]: block for block in found}


def all_marks(canvas: Frame) -> int:
    count: int = canvas.evaluate("document.querySelectorAll('mark.annotation-text').length")
    return count


def sidebar_counts(page: Page, container: str) -> dict[str, int]:
    """The counts the sidebar shows inside ``container`` (.claimsift-live or .claimsift-stored)."""
    items = page.locator(f"{SIDEBAR} {container} .claimsift-count")
    return {
        str(items.nth(i).get_attribute("data-label")): int(items.nth(i).locator("strong").inner_text())
        for i in range(items.count())
    }


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str, interval_s: float = 0.5) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not after {timeout_s:.0f} s"
        time.sleep(interval_s)
