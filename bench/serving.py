"""Waiting for a server process to be ready (the benchmark, the load test, the tests that start
`claimsift serve`): the client's one readiness wait, told to stop if the process exits first."""

from __future__ import annotations

import subprocess
from typing import Any

from claimsift_client import ClaimsiftClient


def wait_ready(
    url: str, process: subprocess.Popen[Any], timeout_s: float = 120.0, interval_s: float = 0.2
) -> None:
    """Poll ``url``/readyz until it answers 200; ``claimsift_client.ClientError`` if ``process`` exits first,
    the model fails to load, or ``timeout_s`` passes."""
    with ClaimsiftClient(url, timeout_s=2) as client:
        client.wait_ready(timeout_s, interval_s=interval_s, alive=lambda: process.poll() is None)
