"""Waiting for a claimsift server process to be ready: the one loop the benchmark, the load test and the
tests that start `claimsift serve` share."""

from __future__ import annotations

import contextlib
import subprocess
import time
from typing import Any

import httpx


class ServerNotReady(RuntimeError):
    """The process exited, or /readyz did not answer 200 in time."""


def wait_ready(
    url: str, process: subprocess.Popen[Any], timeout_s: float = 120.0, interval_s: float = 0.2
) -> None:
    """Poll ``url``/readyz until it answers 200; fail at once if ``process`` exits first."""
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            raise ServerNotReady(f"the server for {url} exited with {process.returncode} before it was ready")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise ServerNotReady(f"{url} was not ready after {timeout_s:.0f} s")
        time.sleep(interval_s)
