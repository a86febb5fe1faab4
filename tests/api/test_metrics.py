"""GET /metrics: requests, batches, the model and the sentence cache as Prometheus sees them."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.conftest import metric, unique_sentences


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
