"""GET /healthz and /readyz: liveness always, readiness once the model is loaded."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
from asgi_lifespan import LifespanManager
from claimsift_client import AsyncClaimsiftClient

from app.main import create_app
from app.model.types import Backend
from app.settings import Settings


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["model"]["backend"] == "embedding"


async def test_readyz_is_503_until_the_model_loads(real_backend: Backend) -> None:
    loading = threading.Event()  # the model "loads" until the test releases it: no race with a fast load

    def slow_loader(settings: Settings) -> Backend:
        loading.wait(60)
        return real_backend

    app = create_app(Settings(), slow_loader)
    async with LifespanManager(app, startup_timeout=60) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            try:
                first = await client.get("/readyz")
                assert (first.status_code, first.json()["reason"]) == (503, "model loading")
                extract = await client.post("/v1/extract", json={"text": "Hi."})
                assert extract.status_code == 503
                assert extract.json()["error"]["code"] == "not_ready"
                assert extract.headers["Retry-After"] == "2"
                assert (await client.get("/healthz")).status_code == 200
            finally:
                loading.set()
            async with AsyncClaimsiftClient("http://t", transport=transport) as claims:
                await claims.wait_ready(timeout_s=60, interval_s=0.05)
            assert (await client.get("/readyz")).status_code == 200
            assert (await client.post("/v1/extract", json={"text": "Hi."})).status_code == 200


async def test_health_stays_fast_during_a_long_article(client: httpx.AsyncClient) -> None:
    text = " ".join(
        f"The committee approved measure number {i} after a long debate on Tuesday." for i in range(800)
    )
    long_request = asyncio.create_task(client.post("/v1/extract", json={"text": text}))
    await asyncio.sleep(0.3)
    started = time.perf_counter()
    assert (await client.get("/healthz")).status_code == 200
    health_seconds = time.perf_counter() - started
    response = await long_request
    assert response.status_code == 200
    assert len(response.json()["sentences"]) == 800
    assert health_seconds < 0.5, f"/healthz took {health_seconds:.2f} s while inference ran"
