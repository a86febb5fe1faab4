"""Faults, limits, deadlines, hostile input and what an operator sees: the real model, real lifespan.

Faults that cannot be caused from outside (a batch that fails, a model that is slow) come from
``tests.faulty.FaultyBackend``, which wraps the real model and is injected through ``create_app``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

import httpx
import pytest
from asgi_lifespan import LifespanManager
from prometheus_client.parser import text_string_to_metric_families

from app.main import create_app
from app.model.loader import load_backend
from app.model.types import Backend
from app.obs.logs import JsonFormatter
from app.schemas import ExtractRequest
from app.settings import Settings
from bench.serving import wait_ready
from tests.conftest import REPO, free_port, started_client
from tests.faulty import FaultyBackend


@pytest.fixture(scope="module")
def real_backend() -> Backend:
    """The default model, loaded once for every app this module builds."""
    return load_backend(Settings())


@pytest.fixture
def faulty(real_backend: Backend) -> FaultyBackend:
    return FaultyBackend(real_backend)


async def start(faulty: FaultyBackend, **settings: object) -> AsyncIterator[httpx.AsyncClient]:
    async for client in started_client(create_app(Settings(**settings), faulty.loader)):  # type: ignore[arg-type]
        yield client


def unique_sentences(count: int) -> list[str]:
    """Sentences no cache has seen, so each one really reaches the model."""
    run = uuid.uuid4().hex[:8]
    return [f"Report {run} number {i} says the council voted on Monday." for i in range(count)]


def metric(exposition: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    raise AssertionError(f"{name} {labels} not in /metrics")


# --- request ids, errors, metrics, logs -------------------------------------------------------


async def test_request_id_is_echoed_or_generated(client: httpx.AsyncClient) -> None:
    echoed = await client.get("/healthz", headers={"X-Request-ID": "cms-42.a:b"})
    assert echoed.headers["x-request-id"] == "cms-42.a:b"
    generated = await client.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 32
    # An id that could forge log lines or bloat them is replaced, not echoed.
    forged = await client.get("/healthz", headers={"X-Request-ID": b"x\r\xe2\x80\xa8y " + b"z" * 200})
    assert len(forged.headers["x-request-id"]) == 32


async def test_error_bodies_carry_the_request_id(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/extract", json={"text": ""}, headers={"X-Request-ID": "req-7"})
    assert response.status_code == 422
    assert response.json()["error"]["request_id"] == "req-7"
    guarded = await client.post("/v1/extract", content=b"x", headers={"content-type": "text/plain"})
    assert guarded.status_code == 415
    assert guarded.json()["error"]["request_id"] == guarded.headers["x-request-id"]


async def test_metrics_count_requests_batches_and_the_model(client: httpx.AsyncClient) -> None:
    sentences = unique_sentences(3)
    assert (await client.post("/v1/extract", json={"text": " ".join(sentences)})).status_code == 200
    unknown = "/no/such/path/" + uuid.uuid4().hex
    await client.get(unknown)
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert metric(text, "claimsift_requests_total", route="/v1/extract", method="POST", status="200") >= 1
    assert metric(text, "claimsift_requests_total", route="unmatched", method="GET", status="404") >= 1
    assert metric(text, "claimsift_request_duration_seconds_count", route="/v1/extract") >= 1
    assert metric(text, "claimsift_sentences_classified_total") >= 3
    assert metric(text, "claimsift_batch_size_count") >= 1
    assert metric(text, "claimsift_model_load_seconds") > 0
    assert metric(text, "claimsift_model_ready") == 1
    assert metric(text, "claimsift_queue_depth") == 0
    assert 0 <= metric(text, "claimsift_cache_hit_ratio") <= 1
    assert unknown not in text  # raw unknown paths never become label values


async def test_cache_metrics_follow_a_resubmitted_article(client: httpx.AsyncClient) -> None:
    before = (await client.get("/metrics")).text
    text = " ".join(unique_sentences(4))
    for _ in range(2):  # the second time every sentence comes from the cache
        assert (await client.post("/v1/extract", json={"text": text})).status_code == 200
    after = (await client.get("/metrics")).text
    hits = metric(after, "claimsift_cache_lookups_total", result="hit")
    assert hits - metric(before, "claimsift_cache_lookups_total", result="hit") == 4
    misses = metric(after, "claimsift_cache_lookups_total", result="miss")
    assert metric(after, "claimsift_cache_hit_ratio") == pytest.approx(hits / (hits + misses))
    assert metric(after, "claimsift_cache_entries") >= 4


async def test_access_log_is_json_with_the_id_and_never_the_text(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="claimsift.access")
    secret = f"Confidential source {uuid.uuid4().hex} says the minister will resign."
    response = await client.post("/v1/extract", json={"text": secret}, headers={"X-Request-ID": "log-1"})
    assert response.status_code == 200
    lines = [JsonFormatter().format(record) for record in caplog.records]
    entry = json.loads(next(line for line in lines if '"log-1"' in line))
    assert entry["route"] == "/v1/extract"
    assert entry["status"] == 200
    assert entry["duration_ms"] > 0
    assert all(secret not in line and "minister" not in line for line in lines)


async def test_request_text_is_logged_only_when_enabled(
    faulty: FaultyBackend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="claimsift.access")
    async for client in start(faulty, log_request_text=True):
        await client.post("/v1/extract", json={"text": "The minister resigned on Friday."})
    logged = [JsonFormatter().format(record) for record in caplog.records]
    assert any("The minister resigned on Friday." in line for line in logged)


# --- faults -----------------------------------------------------------------------------------


async def test_a_failed_batch_fails_only_its_requests(faulty: FaultyBackend) -> None:
    faulty.poison = "POISON"
    async for client in start(faulty, batch_size=1):  # one sentence per batch: batches never mix
        poisoned = client.post(
            "/v1/classify", json={"sentences": ["POISON pill."]}, headers={"X-Request-ID": "bad-1"}
        )
        clean = [client.post("/v1/classify", json={"sentences": [s]}) for s in unique_sentences(4)]
        failed, *served = await asyncio.gather(poisoned, *clean)
        assert failed.status_code == 500
        assert failed.json()["error"] == {
            "code": "inference_failed",
            "message": "inference failed: RuntimeError",
            "request_id": "bad-1",
        }
        assert failed.headers["x-request-id"] == "bad-1"
        assert [r.status_code for r in served] == [200] * 4
        after = await client.post("/v1/extract", json={"text": " ".join(unique_sentences(5))})
        assert after.status_code == 200
        assert metric((await client.get("/metrics")).text, "claimsift_inference_failures_total") == 1


async def test_model_that_cannot_load_keeps_readyz_503_and_logs_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken_loader(settings: Settings) -> Backend:
        raise OSError("weights file is truncated")

    app = create_app(Settings(), broken_loader)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for _ in range(100):
                response = await client.get("/readyz")
                if "failed" in response.text:
                    break
                await asyncio.sleep(0.02)
            assert response.status_code == 503
            assert "weights file is truncated" in response.json()["reason"]
            refused = await client.post("/v1/extract", json={"text": "Hi."})
            assert refused.status_code == 503
            assert metric((await client.get("/metrics")).text, "claimsift_model_ready") == 0
    logged = [r for r in caplog.records if "weights file is truncated" in r.getMessage()]
    assert logged and logged[0].levelname == "ERROR"


async def test_deadline_answers_504_and_drops_the_queued_sentences(faulty: FaultyBackend) -> None:
    async for client in start(faulty, request_timeout_s=0.5, batch_size=4, batch_wait_ms=0):
        faulty.delay_s = 0.1  # 200 sentences would take 5 s
        started = time.perf_counter()
        response = await client.post("/v1/classify", json={"sentences": unique_sentences(200)})
        assert response.status_code == 504
        assert time.perf_counter() - started < 3
        error = response.json()["error"]
        assert error["code"] == "deadline_exceeded"
        assert "0.5 s" in error["message"] and "CLAIMSIFT_REQUEST_TIMEOUT_S" in error["message"]
        await asyncio.sleep(0.5)  # at most the batch already running finishes
        computed = faulty.computed
        await asyncio.sleep(0.5)
        assert faulty.computed == computed < 40, "a timed-out request's queued sentences were computed"
        faulty.delay_s = 0.0
        assert (await client.post("/v1/classify", json={"sentences": ["It rained."]})).status_code == 200


async def test_a_full_queue_answers_429_with_retry_after(faulty: FaultyBackend) -> None:
    async for client in start(faulty, max_queued_sentences=300, batch_size=8, batch_wait_ms=0):
        faulty.delay_s = 0.02
        first = asyncio.create_task(client.post("/v1/classify", json={"sentences": unique_sentences(250)}))
        async with asyncio.timeout(30):
            while faulty.computed == 0:  # the first request is admitted and being served
                await asyncio.sleep(0.01)
        refused = await client.post("/v1/classify", json={"sentences": unique_sentences(250)})
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "overloaded"
        assert int(refused.headers["retry-after"]) >= 1
        assert (await first).status_code == 200  # the admitted request is answered in full
        assert len((await first).json()["results"]) == 250


# --- limits -----------------------------------------------------------------------------------


async def test_every_limit_follows_its_setting(faulty: FaultyBackend) -> None:
    limits = {
        "max_body_bytes": 4096,
        "max_chars": 100,
        "max_sentences": 256,
        "max_labels": 2,
        "max_blocks": 2,
    }
    async for client in start(faulty, **limits):
        body = await client.post("/v1/extract", json={"text": "a" * 5000})
        assert (body.status_code, body.json()["error"]["code"]) == (413, "payload_too_large")
        chars = await client.post("/v1/extract", json={"text": "a" * 101})
        assert chars.status_code == 413 and "100" in chars.json()["error"]["message"]
        sentences = await client.post("/v1/classify", json={"sentences": ["Hi."] * 257})
        assert sentences.status_code == 413 and "256" in sentences.json()["error"]["message"]
        labels = [{"name": f"l{i}", "description": f"label {i}"} for i in range(3)]
        too_many = await client.post("/v1/extract", json={"text": "Hi.", "labels": labels})
        assert too_many.status_code == 422 and "limit is 2" in too_many.json()["error"]["message"]
        blocks = [{"id": f"b{i}", "text": "Hi."} for i in range(3)]
        too_many_blocks = await client.post("/v1/extract", json={"blocks": blocks})
        assert (
            too_many_blocks.status_code == 413 and "limit is 2" in too_many_blocks.json()["error"]["message"]
        )
        assert (await client.post("/v1/extract", json={"text": "Hi there."})).status_code == 200


# --- hostile input ----------------------------------------------------------------------------

HOSTILE_TEXTS = {
    "50k characters, no punctuation": "word " * 10_000,
    "control characters": "The vote\x07 passed\x1b[31m on\x0b Monday.\x08 It\x7f was close.",
    "NUL bytes": "The council\x00 voted.\x00\x00 It was\x00 a mistake.",
    "mixed scripts": "Der Rat stimmte zu. 议会投票通过。 Совет проголосовал. The vote was 7-2.",
    "right-to-left": "صوّت المجلس يوم الاثنين. \u202eThe vote was 7-2.\u202c הממשלה צריכה להתפטר.",
    "emoji": "The vote passed 🎉🎉. Families 👨‍👩‍👧‍👦 should 🙏 get help! 🇺🇦🏳️‍🌈",
    "only symbols": "!!! ??? ... *** ---",
    "combining marks": "Z̷̢̛a̸l̵g̶o̴ " * 500 + "text.",
}


@pytest.mark.parametrize("text", HOSTILE_TEXTS.values(), ids=HOSTILE_TEXTS.keys())
async def test_hostile_text_gets_labels_or_a_clear_4xx(client: httpx.AsyncClient, text: str) -> None:
    response = await client.post("/v1/extract", json={"text": text}, timeout=60)
    assert response.status_code == 200, response.text
    for sentence in response.json()["sentences"]:
        assert text[sentence["start"] : sentence["end"]] == sentence["text"]
        assert sentence["label"] in {"fact", "assessment", "prescription"}


async def test_lone_surrogates_get_a_clear_answer(client: httpx.AsyncClient) -> None:
    # JSON may spell a lone surrogate (\ud800) that is not valid Unicode; the model cannot encode it.
    body = b'{"text": "The council voted \\ud800 on Monday. It was \\udfff close."}'
    response = await client.post("/v1/extract", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert "surrogate" in response.json()["error"]["message"]
    assert (await client.get("/healthz")).status_code == 200


@pytest.mark.parametrize(("depth", "statuses"), [(8_000, {200}), (20_000, {413, 422})])
async def test_deeply_nested_html_gets_labels_or_a_clear_4xx(
    client: httpx.AsyncClient, depth: int, statuses: set[int]
) -> None:
    if "format" not in ExtractRequest.model_fields:
        pytest.skip("HTML input (`format: html`, app/text/html.py) is not in this build yet")
    html = "<div>" * depth + "<p>The council voted on Monday. It was a mistake.</p>" + "</div>" * depth
    response = await client.post("/v1/extract", json={"text": html, "format": "html"}, timeout=60)
    assert response.status_code in statuses, response.text
    if response.status_code == 200:
        assert len(response.json()["sentences"]) == 2
    else:
        assert response.json()["error"]["message"]
    assert (await client.get("/healthz")).status_code == 200


# --- a real process: graceful shutdown, JSON logs ---------------------------------------------


def serve(port: int, log: IO[bytes]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CLAIMSIFT_LOG_LEVEL": "info", "CLAIMSIFT_LOG_FORMAT": "json"}
    command = [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=log)


@pytest.mark.slow
def test_sigterm_lets_the_request_in_flight_finish(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    sentences = unique_sentences(2000)  # seconds of inference on 2 cores
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = serve(port, log)
    try:
        wait_ready(url, process)

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
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    logged = log_path.read_text(encoding="utf-8")
    entries = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
    access = [e for e in entries if e["logger"] == "claimsift.access" and e.get("request_id") == "slow-1"]
    assert [e["status"] for e in access] == [200]
    assert not any(sentence in logged for sentence in sentences), "article text reached the log"
