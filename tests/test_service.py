"""The claim service behind the API, with the real model: faults, the queue bound, every limit, hostile input.

Faults that cannot be caused from outside (a batch that fails, a model that is slow) come from
``tests.faulty.FaultyBackend``, which wraps the real model and is injected through ``create_app``.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.conftest import metric, start, unique_sentences
from tests.faulty import FaultyBackend


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
    html = "<div>" * depth + "<p>The council voted on Monday. It was a mistake.</p>" + "</div>" * depth
    response = await client.post("/v1/extract", json={"text": html, "format": "html"}, timeout=60)
    assert response.status_code in statuses, response.text
    if response.status_code == 200:
        assert len(response.json()["sentences"]) == 2
    else:
        assert response.json()["error"]["message"]
    assert (await client.get("/healthz")).status_code == 200
