"""`claimsift serve` as a real process, spoken to over real HTTP."""

from __future__ import annotations

import subprocess
import sys

import httpx

from tests.conftest import shared_file


def test_serve_process_labels_the_example_article(live_server: str) -> None:
    text = shared_file("example_article.txt").read_text(encoding="utf-8")
    response = httpx.post(f"{live_server}/v1/extract", json={"text": text}, timeout=60)
    assert response.status_code == 200
    body = response.json()
    assert len(body["sentences"]) + len(body["skipped"]) >= 35  # furniture comes back in `skipped`
    assert sum(body["counts"].values()) == len(body["sentences"])
    assert httpx.get(f"{live_server}/healthz").status_code == 200
    bad = httpx.post(f"{live_server}/v1/extract", content=b"{", headers={"content-type": "application/json"})
    assert bad.status_code == 422


def test_invalid_settings_exit_with_a_message() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app", "serve", "--backend", "nli"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode != 0
    assert "CLAIMSIFT_MODEL" in result.stderr
