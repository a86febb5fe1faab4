"""Capabilities and nonces on every route and action: a subscriber and a logged-out request get 403 from
both REST routes, a request without the REST nonce counts as logged out, the bulk action needs the
bulk-posts nonce and edit_posts and queues only posts the user may edit, and the API key is never printed
back, neither by the settings page nor by the REST settings endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import REPORT
from playwright.sync_api import APIResponse, Browser, BrowserContext
from wordpress_site import Site, create_post, create_user, login, rest_nonce, user_id

ANALYZE_BODY = {"blocks": [{"id": "b1", "text": "The council voted 7-2 on Monday."}]}


@pytest.fixture(scope="module")
def admin_post(site: Site) -> int:
    return create_post(site, "Permissions", "<p>The bridge closed on Monday.</p>")


@pytest.fixture(scope="module")
def user_session(browser: Browser, site: Site) -> Iterator[Any]:
    """Opens a logged-in session for a new user: session(role) -> (login, BrowserContext)."""
    contexts: list[BrowserContext] = []

    def session(role: str) -> tuple[str, BrowserContext]:
        name, password = create_user(site, role)
        context = browser.new_context()
        contexts.append(context)
        login(context, site, name, password)
        return name, context

    yield session
    for context in contexts:
        context.close()


def rest(context: BrowserContext, site: Site, method: str, route: str, nonce: str | None) -> APIResponse:
    headers = {"X-WP-Nonce": nonce} if nonce else {}
    address = f"{site.url}/wp-json/claimsift/v1/{route}"
    if method == "GET":
        return context.request.get(address, headers=headers)
    return context.request.post(address, data=ANALYZE_BODY, headers=headers)


def bulk_check(context: BrowserContext, site: Site, post_ids: list[int], nonce: str) -> APIResponse:
    form = {"action": "claimsift_check", "_wpnonce": nonce, "_wp_http_referer": "/wp-admin/edit.php"}
    body = "&".join([*(f"{key}={value}" for key, value in form.items()), *(f"post[]={i}" for i in post_ids)])
    return context.request.post(
        f"{site.url}/wp-admin/edit.php",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        max_redirects=0,
    )


def taken(site: Site, post_id: int) -> bool:
    """Queued, or already checked: any PHP that loads WordPress may start WP-Cron, which may be quicker."""
    state = site.php_json(f"claimsift_post_state( get_post( {post_id} ) )")
    return bool(state["queued"] or state["result"] or state["error"])


def test_subscribers_logged_out_requests_and_missing_nonces_are_refused(
    browser: Browser, admin: BrowserContext, site: Site, admin_post: int, user_session: Any
) -> None:
    _, subscriber = user_session("subscriber")
    subscriber_nonce = rest_nonce(subscriber, site)
    anonymous = browser.new_context()
    refused: list[tuple[str, int]] = []

    def expect_refused(what: str, response: APIResponse, status: int = 403) -> None:
        assert response.status == status, f"{what}: {response.status} {response.text()[:300]}"
        refused.append((what, response.status))

    for method, route in (("POST", "analyze"), ("GET", f"posts/{admin_post}")):
        expect_refused(
            f"subscriber {method} {route}", rest(subscriber, site, method, route, subscriber_nonce)
        )
        expect_refused(f"logged out {method} {route}", rest(anonymous, site, method, route, None))
        # A logged-in cookie without the REST nonce counts as logged out (WordPress's CSRF check).
        expect_refused(f"admin without nonce {method} {route}", rest(admin, site, method, route, None))
    assert rest(admin, site, "GET", f"posts/{admin_post}", rest_nonce(admin, site)).status == 200

    expect_refused("subscriber bulk action", bulk_check(subscriber, site, [admin_post], subscriber_nonce))
    expect_refused(
        "admin bulk action with a wrong nonce", bulk_check(admin, site, [admin_post], "0123456789")
    )
    # wp-admin sends a logged-out request to the login form instead of answering 403.
    to_login = bulk_check(anonymous, site, [admin_post], "0123456789")
    expect_refused("logged out bulk action", to_login, status=302)
    assert "wp-login.php" in to_login.headers["location"]
    expect_refused(
        "subscriber settings page",
        subscriber.request.get(f"{site.url}/wp-admin/options-general.php?page=claimsift"),
    )
    anonymous.close()

    assert not taken(site, admin_post)
    REPORT["forbidden_requests_refused"] = len(refused)
    REPORT["forbidden_requests"] = [
        f"{what}: {status}" + (" to wp-login.php" if status == 302 else "") for what, status in refused
    ]


def test_the_bulk_action_queues_only_posts_the_user_may_edit(
    site: Site, admin_post: int, user_session: Any
) -> None:
    name, author = user_session("author")
    own = create_post(site, "Author post", "<p>Rain fell.</p>", author=user_id(site, name))
    listing = author.request.get(f"{site.url}/wp-admin/edit.php").text()
    nonce = listing.split('id="_wpnonce" name="_wpnonce" value="', 1)[1].split('"', 1)[0]

    response = bulk_check(author, site, [own, admin_post], nonce)
    assert response.status == 302, response.text()[:300]
    assert "claimsift_queued=1" in response.headers["location"]
    assert "claimsift_skipped=1" in response.headers["location"]
    assert taken(site, own)
    assert not taken(site, admin_post)


def test_the_api_key_is_never_printed_back(page: Any, admin: BrowserContext, site: Site) -> None:
    page.goto(f"{site.url}/wp-admin/options-general.php?page=claimsift")
    html = page.content()
    assert site.service_url in html
    assert site.service_key not in html
    key_field = page.locator("input[name='claimsift_settings[api_key]']")
    assert key_field.get_attribute("value") == ""
    # Saving the form with the key field left blank keeps the stored key.
    page.click("#submit")
    page.locator("#setting-error-settings_updated").wait_for()
    assert site.service_key not in page.content()
    assert site.php_json("claimsift_settings()")["api_key"] == site.service_key
    settings = admin.request.get(
        f"{site.url}/wp-json/wp/v2/settings", headers={"X-WP-Nonce": rest_nonce(admin, site)}
    )
    assert settings.status == 200
    assert site.service_key not in settings.text()
