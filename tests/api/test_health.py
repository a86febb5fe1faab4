from __future__ import annotations

import asyncio
import time

import httpx
from asgi_lifespan import LifespanManager

from app.main import create_app
from app.settings import Settings


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["model"]["backend"] == "embedding"


async def test_readyz_is_503_until_the_model_loads() -> None:
    app = create_app(Settings())
    async with LifespanManager(app, startup_timeout=60) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            first = await client.get("/readyz")
            assert first.status_code == 503
            extract = await client.post("/v1/extract", json={"text": "Hi."})
            assert extract.status_code == 503
            assert extract.json()["error"]["code"] == "not_ready"
            assert "Retry-After" in extract.headers
            assert (await client.get("/healthz")).status_code == 200


async def test_model_that_cannot_load_keeps_readyz_503(tmp_path: object) -> None:
    app = create_app(Settings(model="/nonexistent/model"))
    async with LifespanManager(app, startup_timeout=60) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            deadline = time.monotonic() + 60  # a loaded machine imports the model libraries slowly
            while "failed" not in (response := await client.get("/readyz")).text:
                assert time.monotonic() < deadline, response.text
                await asyncio.sleep(0.05)
            assert response.status_code == 503
            assert "not a model directory" in response.json()["reason"]


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
