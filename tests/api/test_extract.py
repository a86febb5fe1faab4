"""POST /v1/extract, /v1/classify and GET /v1/labels against the real default model."""

from __future__ import annotations

import uuid

import httpx

from tests.conftest import shared_file

LABELS = ["fact", "assessment", "prescription"]


async def test_extract_example_article(client: httpx.AsyncClient) -> None:
    text = shared_file("example_article.txt").read_text(encoding="utf-8")
    response = await client.post("/v1/extract", json={"text": text})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["labels"] == LABELS
    assert set(body["model"]) == {"name", "backend", "version"}
    assert body["model"]["backend"] == "embedding"
    sentences = body["sentences"]
    assert len(sentences) + len(body["skipped"]) >= 35
    previous_end = 0
    for index, sentence in enumerate(sentences):
        assert sentence["index"] == index
        assert previous_end <= sentence["start"] < sentence["end"]
        assert text[sentence["start"] : sentence["end"]] == sentence["text"]
        assert sentence["label"] in LABELS
        assert set(sentence["scores"]) == set(LABELS)
        assert sentence["confidence"] == max(sentence["scores"].values())
        assert abs(sum(sentence["scores"].values()) - 1) < 1e-3
        previous_end = sentence["end"]
    assert sum(body["counts"].values()) == len(sentences)
    assert body["counts"] == {label: sum(s["label"] == label for s in sentences) for label in LABELS}
    assert body["truncated"] is False
    assert body["elapsed_ms"] > 0


async def test_truncation_is_reported(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/extract", json={"text": "word " * 2000})
    assert response.status_code == 200
    body = response.json()
    assert len(body["sentences"]) == 1
    assert body["truncated"] is True


async def test_classify_keeps_order_and_accepts_256(client: httpx.AsyncClient) -> None:
    sentences = [f"The council met on day {i} and voted to close bridge number {i}." for i in range(256)]
    sentences[7] = "The government should publish the full report."
    response = await client.post("/v1/classify", json={"sentences": sentences})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["text"] for r in results] == sentences


async def test_custom_labels_are_zero_shot(client: httpx.AsyncClient) -> None:
    labels = [
        {"name": "sport", "description": "sport: football, tennis, matches, athletes, goals"},
        {"name": "weather", "description": "weather: rain, storms, temperature, snow, forecast"},
    ]
    sentences = [
        "The striker scored twice as the team won the match.",
        "Heavy snow and storms hit the coast.",
    ]
    response = await client.post("/v1/classify", json={"sentences": sentences, "labels": labels})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["labels"] == ["sport", "weather"]
    assert [r["label"] for r in body["results"]] == ["sport", "weather"]


async def test_multi_label_scores_each_label_alone(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/classify",
        json={"sentences": ["Prices rose 3% in May."], "multi_label": True, "threshold": 0.99},
    )
    assert response.status_code == 200
    result = response.json()["results"][0]
    assert all(0 <= s <= 1 for s in result["scores"].values())
    assert result["uncertain"] is (result["confidence"] < 0.99)


async def test_threshold_marks_uncertain(client: httpx.AsyncClient) -> None:
    payload = {"sentences": ["It rained."], "threshold": 1.0}
    result = (await client.post("/v1/classify", json=payload)).json()["results"][0]
    assert result["uncertain"] is True
    payload["threshold"] = 0.0
    result = (await client.post("/v1/classify", json=payload)).json()["results"][0]
    assert result["uncertain"] is False


async def test_labels_lists_the_default_set(client: httpx.AsyncClient) -> None:
    body = (await client.get("/v1/labels")).json()
    assert [label["name"] for label in body["labels"]] == LABELS
    assert all(label["description"] for label in body["labels"])


async def test_openapi_and_docs(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert {"/v1/extract", "/v1/classify", "/v1/labels", "/healthz", "/readyz"} <= set(schema["paths"])
    assert (await client.get("/docs")).status_code == 200


def server_timing(response: httpx.Response) -> dict[str, float]:
    stages = {}
    for entry in response.headers["server-timing"].split(","):
        name, _, duration = entry.strip().partition(";dur=")
        stages[name] = float(duration)
    return stages


async def test_stage_timings_are_in_server_timing_and_in_metrics(client: httpx.AsyncClient) -> None:
    before = (await client.get("/metrics")).text
    text = f"Run {uuid.uuid4().hex} of the council voted 7-2 on Monday. The decision was a mistake."
    fresh = await client.post("/v1/extract", json={"text": text})
    assert fresh.status_code == 200
    stages = server_timing(fresh)
    assert list(stages) == ["queue", "tokenize", "inference"]
    assert stages["inference"] > 0 and stages["tokenize"] > 0 and stages["queue"] >= 0
    assert sum(stages.values()) <= fresh.json()["elapsed_ms"] + 1  # the body's total still holds them
    cached = await client.post("/v1/classify", json={"sentences": [text.split(". ")[1]]})
    assert server_timing(cached) == {"queue": 0.0, "tokenize": 0.0, "inference": 0.0}  # a cache hit
    assert "server-timing" not in (await client.get("/healthz")).headers  # only classifying routes
    after = (await client.get("/metrics")).text
    count = 'claimsift_request_stage_seconds_count{stage="inference"}'
    assert metric_value(after, count) == metric_value(before, count) + 2


def metric_value(exposition: str, sample: str) -> float:
    for line in exposition.splitlines():
        if line.startswith(sample + " "):
            return float(line.split()[-1])
    return 0.0
