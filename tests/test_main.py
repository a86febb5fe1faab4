"""The app factory and its lifespan (the Engine): a model that cannot load keeps the service unready and
says why, in /readyz, in the log and in /metrics; the client's readiness wait gives up at once."""

from __future__ import annotations

import logging
import time

import httpx
import pytest
from asgi_lifespan import LifespanManager
from claimsift_client import AsyncClaimsiftClient, ServiceBusy

from app.main import create_app
from app.settings import Settings
from tests.conftest import metric


async def test_a_model_that_cannot_load_keeps_readyz_503_and_says_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="app.main")
    app = create_app(Settings(model="/nonexistent/model"))
    async with LifespanManager(app, startup_timeout=60) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with AsyncClaimsiftClient("http://t", transport=transport) as claims:
            started = time.monotonic()
            with pytest.raises(ServiceBusy) as waited:
                await claims.wait_ready(timeout_s=100, interval_s=0.05)
            assert time.monotonic() - started < 60, "the wait should end once the load has failed"
        assert "not a model directory" in waited.value.message
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            ready = await client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["reason"].startswith(
                "model failed to load: ModelLoadError: /nonexistent/model"
            )
            refused = await client.post("/v1/extract", json={"text": "Hi."})
            assert (refused.status_code, refused.json()["error"]["code"]) == (503, "not_ready")
            assert metric((await client.get("/metrics")).text, "claimsift_model_ready") == 0
    logged = [r for r in caplog.records if "not a model directory" in r.getMessage()]
    assert logged and logged[0].levelname == "ERROR"
