"""The keys in force: unique names and keys, re-reading the file while serving (in-process and in a real
`claimsift serve`), a broken file keeping the keys, and SIGHUP."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from app.api.keyring import KeyRing
from app.keys import Limits, digest
from app.settings import Settings
from bench.serving import wait_ready
from tests.conftest import REPO, free_port

OLD = "old-key-3f9a1c7e5b2d8046"
NEW = "new-key-8d2b6f0a4c1e9357"
HEAVY = "heavy-key-1b7e3a9d5c2f6048"
ENV = "env-key-6c0e2a8f4b1d7395"
EXTRACT = {"text": "The council voted 7-2 on Monday."}


def test_a_reload_applies_a_good_file_and_keeps_the_keys_on_a_bad_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "keys"
    path.write_text(f"old:{OLD}:10:\n", encoding="utf-8")
    ring = KeyRing(Settings(api_keys=SecretStr(ENV), api_keys_file=path))
    old = ring.match(digest(OLD))
    assert old is not None and ring.match(digest(ENV)) is not None and ring.match(digest(NEW)) is None

    path.write_text(f"old:{OLD}:5:\nnew:{NEW}::\n", encoding="utf-8")
    assert ring.reload("test")
    assert ring.match(digest(OLD)) is old and old.limits == Limits(5, None, None)  # same bucket, new rate
    assert ring.match(digest(NEW)) is not None

    caplog.set_level(logging.INFO, logger="app.api.keyring")
    for broken in (f"new:{NEW}:fast:\n", "# nothing\n", None):
        if broken is None:
            path.unlink()
        else:
            path.write_text(broken, encoding="utf-8")
        assert not ring.reload("test")
        assert ring.match(digest(OLD)) is old and ring.match(digest(NEW)) is not None
    messages = [record.getMessage() for record in caplog.records]
    assert any(
        "keys file not reloaded (test); the 3 keys in force stay" in m and "RATE" in m for m in messages
    )
    assert any("contains no key" in m for m in messages)
    assert any("cannot be read: FileNotFoundError" in m for m in messages)
    assert ring.reloads == {"ok": 1, "failed": 3}
    assert not any(key in message for message in messages for key in (OLD, NEW, ENV))


async def test_the_watcher_applies_a_change_within_2_seconds(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text(f"{OLD}\n", encoding="utf-8")
    ring = KeyRing(Settings(api_keys_file=path))
    ring.start()
    try:
        path.write_text(f"{NEW}\n", encoding="utf-8")
        changed = time.monotonic()
        while ring.match(digest(NEW)) is None:
            assert time.monotonic() - changed < 2, "the keys file change was not applied within 2 s"
            await asyncio.sleep(0.05)
        assert ring.match(digest(OLD)) is None
    finally:
        await ring.stop()


# --- A real `claimsift serve`: keys rotated while it runs --------------------------------------------


class Server:
    """`claimsift serve` with a keys file; its log goes to a file the test can read while it runs."""

    def __init__(self, keys: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {**os.environ, "CLAIMSIFT_API_KEYS_FILE": str(keys), "CLAIMSIFT_LOG_FORMAT": "text"}
        command = [sys.executable, "-m", "app", "serve", "--port", str(self.port)]
        with log.open("wb") as sink:
            self.process = subprocess.Popen(command, cwd=REPO, env=env, stdout=sink, stderr=sink)

    def status(self, key: str) -> int:
        response = httpx.post(f"{self.url}/v1/extract", json=EXTRACT, headers={"X-API-Key": key}, timeout=30)
        return response.status_code

    def stop(self) -> str:
        self.process.terminate()
        self.process.wait(timeout=60)
        return self.log.read_text(encoding="utf-8")


@pytest.fixture
def rotating(tmp_path: Path) -> Iterator[tuple[Server, Path]]:
    keys = tmp_path / "keys"
    keys.write_text(f"# first key\nold:{OLD}::\n", encoding="utf-8")
    server = Server(keys, tmp_path / "serve.log")
    try:
        wait_ready(server.url, server.process)
        yield server, keys
    finally:
        server.stop()


def wait_for(condition_met: object, what: str, within_s: float = 2.0) -> float:
    """Seconds until ``condition_met()`` is true; fails after ``within_s``."""
    started = time.monotonic()
    while not condition_met():  # type: ignore[operator]
        assert time.monotonic() - started < within_s, f"{what} not within {within_s} s"
        time.sleep(0.05)
    return time.monotonic() - started


@pytest.mark.slow
def test_keys_rotate_in_a_running_server(rotating: tuple[Server, Path]) -> None:
    server, keys = rotating
    assert (server.status(OLD), server.status(NEW)) == (200, 401)

    keys.write_text(f"old:{OLD}::\nnew:{NEW}::\n", encoding="utf-8")
    took = wait_for(lambda: server.status(NEW) == 200, "the added key working")
    print(f"added key accepted {took:.2f} s after the file changed")

    # A long request with the old key is in flight when the old key is removed: it finishes with 200,
    # while the old key's next request is refused.
    sentences = [f"Item {i}: the committee met for the {i}th time and adjourned." for i in range(1500)]
    in_flight: dict[str, int] = {}

    def long_request() -> None:
        response = httpx.post(
            f"{server.url}/v1/classify", json={"sentences": sentences}, headers={"X-API-Key": OLD}, timeout=60
        )
        in_flight["status"] = response.status_code

    worker = threading.Thread(target=long_request)
    worker.start()
    time.sleep(0.3)
    keys.write_text(f"new:{NEW}::\n", encoding="utf-8")
    took = wait_for(lambda: server.status(OLD) == 401, "the removed key refused")
    print(f"removed key refused {took:.2f} s after the file changed")
    assert worker.is_alive(), "the long request ended before the key was removed: the test proves nothing"
    worker.join(60)
    assert in_flight == {"status": 200}
    assert server.status(NEW) == 200

    # A broken file keeps the keys in force and the log says why.
    keys.write_text(f"new:{NEW}:fast:\n", encoding="utf-8")
    time.sleep(1.5)
    assert (server.status(NEW), server.status(OLD)) == (200, 401)

    # SIGHUP re-reads at once. The file changes without changing its size, inode or time, so only the
    # signal can make the server see it.
    keys.write_text(f"new:{NEW}::\n", encoding="utf-8")
    time.sleep(1.5)
    before = os.stat(keys)
    swapped = OLD.replace("old", "own")
    keys.write_text(f"own:{swapped}::\n", encoding="utf-8")
    os.utime(keys, ns=(before.st_atime_ns, before.st_mtime_ns))
    time.sleep(1.2)
    assert (server.status(swapped), server.status(NEW)) == (401, 200)  # the watcher did not see it
    server.process.send_signal(signal.SIGHUP)
    wait_for(lambda: server.status(swapped) == 200, "the key read on SIGHUP", within_s=1.0)
    assert server.status(NEW) == 401
    assert server.process.poll() is None  # SIGHUP no longer ends the process

    log = server.stop()
    assert "keys file reloaded (file changed): 2 keys; added new; removed none" in log
    assert "keys file reloaded (file changed): 1 keys; added none; removed old" in log
    assert "keys file not reloaded (file changed); the 1 keys in force stay" in log
    assert "line 1: RATE must be a positive number or empty" in log
    assert "keys file reloaded (SIGHUP): 1 keys; added own; removed new" in log
    for key in (OLD, NEW, swapped):
        assert key not in log
