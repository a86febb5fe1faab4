"""`claimsift serve`: a real process drains the request in flight on SIGTERM and logs JSON without text."""

from __future__ import annotations

import json
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, metric, serving, unique_sentences


@pytest.mark.slow
def test_sigterm_lets_the_request_in_flight_finish(tmp_path: Path) -> None:
    sentences = unique_sentences(2000)  # seconds of inference on 2 cores
    log_path = tmp_path / "serve.log"
    json_logs = {"CLAIMSIFT_LOG_LEVEL": "info", "CLAIMSIFT_LOG_FORMAT": "json"}
    with serving(json_logs, log_path) as (url, process):

        def slow_request() -> tuple[httpx.Response, float]:
            headers = {"X-Request-ID": "slow-1"}
            response = httpx.post(
                f"{url}/v1/classify", json={"sentences": sentences}, headers=headers, timeout=120
            )
            return response, time.monotonic()

        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(slow_request)
            # In flight: the slow request and this scrape.
            while (
                not pending.done()
                and metric(httpx.get(f"{url}/metrics").text, "claimsift_requests_in_flight") < 2
            ):
                time.sleep(0.02)
            process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            response, answered = pending.result(timeout=120)
        assert response.status_code == 200, response.text
        assert len(response.json()["results"]) == 2000
        assert answered > signalled, "the request finished before SIGTERM; the test proved nothing"
        # uvicorn re-raises the signal once it has drained, so the exit reads as "ended by SIGTERM".
        assert process.wait(timeout=60) in {0, -signal.SIGTERM}
    logged = log_path.read_text(encoding="utf-8")
    entries = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
    access = [e for e in entries if e["logger"] == "claimsift.access" and e.get("request_id") == "slow-1"]
    assert [e["status"] for e in access] == [200]
    assert not any(sentence in logged for sentence in sentences), "article text reached the log"


def test_serve_refuses_a_short_key_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.commands.cli import main

    monkeypatch.setenv("CLAIMSIFT_API_KEYS", "too-short")
    # serve would route the whole process's logging to stderr; keep pytest's handlers in place.
    monkeypatch.setattr("app.obs.logs.configure_logging", lambda level, log_format: None)
    with pytest.raises(SystemExit) as stopped:
        main(["serve", "--port", str(free_port())])
    assert str(stopped.value).startswith(
        "claimsift: invalid settings: API key 1 of 1 is shorter than 16 characters"
    )
    assert "too-short" not in str(stopped.value)
