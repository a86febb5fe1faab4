"""Fixtures for the tests inside a real WordPress. They run only under scripts/wordpress-e2e.sh, which
brings up WordPress, MariaDB and `claimsift serve` and passes their addresses in CLAIMSIFT_WP_* variables;
the main suite (testpaths = tests) never collects this folder."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, sync_playwright
from wordpress_site import Site, login

# What tests/artifacts/wordpress-e2e.json reports; the tests fill it in as they measure.
REPORT: dict[str, Any] = {
    "wordpress_version": None,
    "service_sentences": None,
    "highlighted_sentences": None,
    "bulk_checked_posts": None,
    "forbidden_requests_refused": None,
}
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def site() -> Site:
    found = Site.from_environment()
    if found is None:
        message = "no WordPress to test: run `bash scripts/wordpress-e2e.sh`, which brings one up"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    REPORT["wordpress_version"] = found.php("echo get_bloginfo( 'version' );")
    return found


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def admin(browser: Browser, site: Site) -> Iterator[BrowserContext]:
    """A browser session logged in as the site's administrator."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    login(context, site, "admin", site.admin_password)
    yield context
    context.close()


def refuse_dialogs(dialog: Dialog) -> None:
    # An alert() would mean text from a post or the service ran as script.
    dialog.dismiss()
    raise AssertionError(f"unexpected {dialog.type} dialog: {dialog.message}")


@pytest.fixture
def page(admin: BrowserContext) -> Iterator[Page]:
    """A tab in the administrator's session; any dialog fails the test, and so does a page error."""
    opened = admin.new_page()
    errors: list[str] = []
    opened.on("dialog", refuse_dialogs)
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    opened.close()
    assert errors == [], f"JavaScript errors in the page: {errors}"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    artifacts = os.environ.get("CLAIMSIFT_WP_ARTIFACTS")
    if artifacts:
        os.makedirs(artifacts, exist_ok=True)
        with open(os.path.join(artifacts, "wordpress-e2e.json"), "w", encoding="utf-8") as out:
            json.dump(REPORT, out, indent=2)
            out.write("\n")
