"""The middleware around every request: the request id (echoed, generated, in error bodies), the deadline."""

from __future__ import annotations

import asyncio
import time

import httpx

from tests.conftest import start, unique_sentences
from tests.faulty import FaultyBackend


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
