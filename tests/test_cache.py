"""The sentence cache: its bound, its key, and what an edited draft costs through the real service."""

from __future__ import annotations

import sys
import tracemalloc
import uuid

import httpx

from app.cache import ENTRY_OVERHEAD_BYTES, CacheScope, SentenceCache
from app.model.types import Prediction

SCOPE = CacheScope("model-v1", "labels-a", False)


def prediction(score: float) -> Prediction:
    return Prediction((score, 1 - score), False)


def test_hits_misses_and_least_recently_used_eviction() -> None:
    cost = sys.getsizeof("a") + ENTRY_OVERHEAD_BYTES
    cache = SentenceCache(max_bytes=3 * cost)
    cache.put_many(SCOPE, ["a", "b", "c"], [prediction(0.1), prediction(0.2), prediction(0.3)])
    assert cache.get_many(SCOPE, ["a"]) == [prediction(0.1)]  # "a" is now the most recent
    cache.put_many(SCOPE, ["d"], [prediction(0.4)])
    assert cache.get_many(SCOPE, ["a", "b", "c", "d"]) == [
        prediction(0.1),
        None,
        prediction(0.3),
        prediction(0.4),
    ]
    assert (cache.hits, cache.misses) == (4, 1)
    assert cache.size_bytes <= 3 * cost


def test_the_key_holds_model_version_label_set_and_mode() -> None:
    cache = SentenceCache(max_bytes=1 << 20)
    cache.put_many(SCOPE, ["It rained."], [prediction(0.9)])
    for other in (
        CacheScope("model-v2", "labels-a", False),
        CacheScope("model-v1", "labels-b", False),
        CacheScope("model-v1", "labels-a", True),
    ):
        assert cache.get_many(other, ["It rained."]) == [None]
    assert cache.get_many(SCOPE, ["It rained.", "It rained. "]) == [prediction(0.9), None]


def test_the_bound_is_in_bytes_so_one_huge_sentence_cannot_blow_it() -> None:
    cache = SentenceCache(max_bytes=10_000)
    cache.put_many(SCOPE, ["x" * 50_000, "short"], [prediction(0.5), prediction(0.6)])
    assert len(cache) == 1 and cache.get_many(SCOPE, ["short"]) == [prediction(0.6)]
    cache.put_many(SCOPE, [f"s{i}" for i in range(1000)], [prediction(0.1)] * 1000)
    assert cache.size_bytes <= 10_000


def test_the_byte_estimate_covers_what_an_entry_really_costs() -> None:
    texts = [f"Sentence {i} {uuid.uuid4().hex} about the council vote on the bus lane." for i in range(2000)]
    predictions = [Prediction((0.1 + i * 1e-9, 0.2, 0.7), False) for i in range(2000)]
    cache = SentenceCache(max_bytes=1 << 30)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        cache.put_many(SCOPE, texts, predictions)
        table = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    kept_alive = sum(
        sys.getsizeof(t) + sys.getsizeof(p) + sys.getsizeof(p.scores) + 3 * 24
        for t, p in zip(texts, predictions, strict=True)
    )
    assert cache.size_bytes >= 0.9 * (table + kept_alive)


def test_zero_bytes_turns_the_cache_off() -> None:
    cache = SentenceCache(max_bytes=0)
    cache.put_many(SCOPE, ["a"], [prediction(0.1)])
    assert not cache.enabled and len(cache) == 0 and cache.get_many(SCOPE, ["a"]) == [None]


async def test_an_edited_draft_classifies_only_the_changed_sentence(client: httpx.AsyncClient) -> None:
    run = uuid.uuid4().hex[:8]
    sentences = [
        f"Draft {run}: the council voted 7-2 on Monday.",
        f"Draft {run}: the decision is a serious mistake.",
        f"Draft {run}: residents should attend the hearing.",
    ]
    first = (await client.post("/v1/extract", json={"text": " ".join(sentences)})).json()
    assert [s["cached"] for s in first["sentences"]] == [False, False, False]
    assert first["cached_sentences"] == 0
    sentences[1] = f"Draft {run}: the decision is a grave mistake."
    edited = (await client.post("/v1/extract", json={"text": " ".join(sentences)})).json()
    assert [s["cached"] for s in edited["sentences"]] == [True, False, True]
    assert edited["cached_sentences"] == 2
    for before, after in zip(first["sentences"], edited["sentences"], strict=True):
        if after["cached"]:
            assert (after["label"], after["scores"]) == (before["label"], before["scores"])


async def test_classify_marks_cached_results_and_custom_labels_have_their_own_entries(
    client: httpx.AsyncClient,
) -> None:
    text = f"Sentence {uuid.uuid4().hex} was seen before."
    labels = [
        {"name": "question", "description": "asks something"},
        {"name": "statement", "description": "states"},
    ]
    first = (await client.post("/v1/classify", json={"sentences": [text, text]})).json()
    # A sentence repeated in one request is classified once, neither copy from the cache.
    assert [r["cached"] for r in first["results"]] == [False, False] and first["results"][0] == first[
        "results"
    ][1]
    again = (await client.post("/v1/classify", json={"sentences": [text]})).json()
    assert again["results"][0]["cached"] and again["cached_sentences"] == 1
    custom = (await client.post("/v1/classify", json={"sentences": [text], "labels": labels})).json()
    assert not custom["results"][0]["cached"] and set(custom["results"][0]["scores"]) == {
        "question",
        "statement",
    }
