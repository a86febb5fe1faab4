"""Per-key quotas: 429 quota_exceeded with the bucket's Retry-After, the concurrency cap, metrics by name,
and, against a real server, a heavy key throttled while a light key keeps its latency."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from app.main import create_app
from app.settings import Settings
from bench.serving import wait_ready
from tests.api.test_errors import assert_error
from tests.conftest import REPO, free_port, started_client

TIGHT = "tight-key-5e1a9c3f7b2d4086"
BIG = "big-key-0d6b2f8a4e1c9573"
CAPPED = "capped-key-7a3e9d1b5f2c6048"
FREE = "free-key-2c8f4a0e6b3d9157"
KEYS_FILE = f"""# name:key:rate:burst[:concurrency]
tight:{TIGHT}:5:10
big:{BIG}:5:10
capped:{CAPPED}:::1
{FREE}
"""
FREE_NAME = "key-" + hashlib.sha256(FREE.encode()).hexdigest()[:8]


def sentences(count: int, tag: str) -> dict[str, list[str]]:
    return {"sentences": [f"Report {tag}-{i} was filed on Monday." for i in range(count)]}


@pytest.fixture(scope="module")
async def quota_client(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    keys = tmp_path_factory.mktemp("quota") / "keys"
    keys.write_text(KEYS_FILE, encoding="utf-8")
    async for started in started_client(create_app(settings.model_copy(update={"api_keys_file": keys}))):
        yield started


async def test_over_the_rate_is_429_quota_exceeded_and_other_keys_pass(
    quota_client: httpx.AsyncClient,
) -> None:
    tight = {"X-API-Key": TIGHT}
    assert (
        await quota_client.post("/v1/classify", json=sentences(10, "a"), headers=tight)
    ).status_code == 200
    refused = await quota_client.post("/v1/classify", json=sentences(3, "b"), headers=tight)
    assert_error(
        refused, 429, "quota_exceeded", "API key 'tight' is over its quota of 5 sentences/s (burst 10)"
    )
    assert refused.headers["retry-after"] == "1"
    assert refused.headers["x-request-id"] and refused.json()["error"]["request_id"]
    free = await quota_client.post("/v1/classify", json=sentences(500, "c"), headers={"X-API-Key": FREE})
    assert free.status_code == 200
    await asyncio.sleep(1.0)  # five sentences back in the bucket
    assert (await quota_client.post("/v1/classify", json=sentences(5, "d"), headers=tight)).status_code == 200


async def test_a_request_over_the_burst_passes_once_and_its_debt_sets_retry_after(
    quota_client: httpx.AsyncClient,
) -> None:
    big = {"X-API-Key": BIG}
    text = " ".join(f"The board met on day {i}." for i in range(30))
    first = await quota_client.post("/v1/extract", json={"text": text}, headers=big)
    assert first.status_code == 200 and len(first.json()["sentences"]) == 30
    refused = await quota_client.post("/v1/extract", json={"text": "It rained."}, headers=big)
    assert_error(refused, 429, "quota_exceeded", "used its sentences")
    # 30 sentences from a bucket of 10 leave a debt of 20: (20 + 1) / 5 per second = 4.2 s
    assert refused.headers["retry-after"] in {"4", "5"}


async def test_the_concurrency_cap_refuses_a_second_request_in_flight(
    quota_client: httpx.AsyncClient,
) -> None:
    capped = {"X-API-Key": CAPPED}
    first = asyncio.create_task(quota_client.post("/v1/classify", json=sentences(800, "e"), headers=capped))
    deadline = time.monotonic() + 10
    while (
        'claimsift_key_requests_in_flight{key="capped"} 1.0' not in (await quota_client.get("/metrics")).text
    ):
        assert time.monotonic() < deadline and not first.done()
        await asyncio.sleep(0.01)
    second = await quota_client.post("/v1/classify", json=sentences(1, "f"), headers=capped)
    assert_error(second, 429, "quota_exceeded", "1 requests of this key are in flight")
    assert second.headers["retry-after"] == "1"
    assert (await first).status_code == 200
    assert (
        await quota_client.post("/v1/classify", json=sentences(1, "g"), headers=capped)
    ).status_code == 200


async def test_metrics_count_per_key_name_and_never_show_a_key(quota_client: httpx.AsyncClient) -> None:
    await quota_client.post("/v1/extract", json={"text": "One. Two. Three."}, headers={"X-API-Key": FREE})
    exposition = (await quota_client.get("/metrics")).text
    values = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in exposition.splitlines()
        if line.startswith("claimsift_key") or line.startswith("claimsift_api_keys")
    }
    assert values['claimsift_key_requests_total{key="tight",status="200"}'] >= 2
    assert values['claimsift_key_requests_total{key="tight",status="429"}'] >= 1
    assert values['claimsift_key_throttled_total{key="tight",limit="rate"}'] >= 1
    assert values['claimsift_key_throttled_total{key="capped",limit="concurrency"}'] >= 1
    assert values[f'claimsift_key_sentences_total{{key="{FREE_NAME}"}}'] >= 503  # 500 + the three here
    assert values['claimsift_key_requests_in_flight{key="tight"}'] == 0
    assert values["claimsift_api_keys"] == 4
    for key in (TIGHT, BIG, CAPPED, FREE):
        assert key not in exposition and key[:12] not in exposition


async def test_without_keys_there_are_no_key_metrics(client: httpx.AsyncClient) -> None:
    assert "claimsift_key_" not in (await client.get("/metrics")).text


# --- Against a real server: a heavy key is throttled, a light key keeps its latency --------------------

HEAVY = "heavy-key-9f3b7d1e5a2c8064"
LIGHT = "light-key-4d8a2e6c0f1b7395"
BULK = "bulk-key-6e0c4a8f2d1b9573"
HEAVY_RATE, HEAVY_BURST = 20, 40


@pytest.fixture(scope="module")
def fair_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    keys = tmp_path_factory.mktemp("fair") / "keys"
    keys.write_text(
        f"heavy:{HEAVY}:{HEAVY_RATE}:{HEAVY_BURST}\nlight:{LIGHT}::\nbulk:{BULK}::\n", encoding="utf-8"
    )
    port = free_port()
    env = {**os.environ, "CLAIMSIFT_API_KEYS_FILE": str(keys), "CLAIMSIFT_LOG_LEVEL": "warning"}
    process = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port)], cwd=REPO, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=60)


class Load:
    """What the heavy clients got: answers by status and error code, sentences answered."""

    def __init__(self) -> None:
        self.answers: Counter[str] = Counter()
        self.sentences = 0
        self.retry_after: set[str] = set()


async def heavy_client(
    http: httpx.AsyncClient, key: str, number: int, stop: asyncio.Event, load: Load
) -> None:
    """Sends 30-sentence articles back to back; after a 429 it waits the Retry-After (as claimsift_client)."""
    serial = 0
    while not stop.is_set():
        serial += 1
        text = " ".join(f"Heavy {key[:5]} {number}-{serial}-{i}: the index rose again." for i in range(30))
        response = await http.post("/v1/extract", json={"text": text}, headers={"X-API-Key": key})
        code = response.json()["error"]["code"] if response.status_code != 200 else ""
        load.answers[f"{response.status_code} {code}".strip()] += 1
        if response.status_code == 200:
            load.sentences += len(response.json()["sentences"])
        else:
            retry_after = response.headers.get("retry-after", "")
            load.retry_after.add(retry_after)
            with contextlib.suppress(TimeoutError):  # the wait ends early when the test stops the load
                await asyncio.wait_for(stop.wait(), float(retry_after or 1))


async def light_latencies(http: httpx.AsyncClient, requests: int, tag: str) -> list[float]:
    """One light client: 8-sentence articles, one at a time; every one must get a 200."""
    latencies = []
    for n in range(requests):
        text = " ".join(f"Light {tag}-{n}-{i}: the library opened at nine." for i in range(8))
        started = time.perf_counter()
        response = await http.post("/v1/extract", json={"text": text}, headers={"X-API-Key": LIGHT})
        latencies.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
    return latencies


async def light_under(url: str, heavy_key: str | None, requests: int, tag: str) -> tuple[float, Load, float]:
    """The light client's median latency while 8 heavy clients use ``heavy_key`` (None: no heavy load)."""
    load = Load()
    stop = asyncio.Event()
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=httpx.Limits(keepalive_expiry=2)) as http:
        heavy = (
            [asyncio.create_task(heavy_client(http, heavy_key, n, stop, load)) for n in range(8)]
            if heavy_key
            else []
        )
        started = time.monotonic()
        await asyncio.sleep(1.0 if heavy else 0)  # let the heavy load build up first
        latencies = await light_latencies(http, requests, tag)
        stop.set()
        await asyncio.gather(*heavy)
    return statistics.median(latencies), load, time.monotonic() - started


@pytest.mark.slow
async def test_a_heavy_key_is_throttled_while_a_light_key_keeps_its_latency(fair_server: str) -> None:
    await light_under(fair_server, None, 5, "warm")  # warm up the model and the connections
    before, _, _ = await light_under(fair_server, None, 20, "alone")
    throttled, heavy, seconds = await light_under(fair_server, HEAVY, 20, "throttled")
    after, _, _ = await light_under(fair_server, None, 20, "alone-again")
    unthrottled, bulk, _ = await light_under(fair_server, BULK, 10, "bulk")
    alone = max(before, after)  # the machine's own load drifts: the slower of two baselines
    print(
        f"\nlight p50: alone {1000 * alone:.0f} ms, beside the throttled heavy key {1000 * throttled:.0f} ms,"
    )
    print(f"  beside the same load on an unlimited key {1000 * unthrottled:.0f} ms")
    print(f"heavy: {dict(heavy.answers)}, {heavy.sentences} sentences in {seconds:.1f} s")
    print(f"bulk: {dict(bulk.answers)}")
    assert (
        heavy.answers["429 quota_exceeded"] > 0
        and "0" not in heavy.retry_after
        and "" not in heavy.retry_after
    )
    assert set(heavy.answers) <= {"200", "429 quota_exceeded"}
    # The heavy key got what its bucket allows (plus one request of debt), no more.
    assert heavy.sentences <= HEAVY_BURST + HEAVY_RATE * seconds + 30
    assert throttled <= max(2 * alone, alone + 0.1), "the light key lost its latency to the throttled one"
    # The same load without a quota does slow the light key: the quota is what kept its latency.
    assert unthrottled > 1.5 * throttled
