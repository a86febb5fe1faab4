"""The JSON log lines: one access-log entry per request with its id; article text only when asked."""

from __future__ import annotations

import json
import logging
import uuid

import httpx
import pytest

from app.obs.logs import JsonFormatter
from tests.conftest import start
from tests.faulty import FaultyBackend


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
