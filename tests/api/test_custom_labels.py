"""Custom label sets through the real API: examples, calibrated zero-shot scores, one-label sets."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.test_errors import assert_error

# The sentences of issue 12's report: described in words only, the untuned encoder cannot tell a
# question from a statement, and said so with confidence up to 0.93.
SENTENCES = [
    "The bridge was closed on Monday.",
    "Will the bridge reopen before winter?",
    "Why did the council wait so long?",
    "The mayor said the repairs would cost $2 million.",
    "Is anyone going to pay for this?",
    "Traffic was diverted through the town centre.",
]
IS_QUESTION = [False, True, True, False, True, False]
QUESTION = {
    "name": "question",
    "description": "a sentence that asks a question",
    "examples": [
        "What will the new law change for tenants?",
        "Did the minister know about the report?",
        "How many people lost their homes in the flood?",
        "Can the city afford a second stadium?",
        "Who decided to close the library?",
    ],
}
STATEMENT = {
    "name": "statement",
    "description": "a sentence that states something",
    "examples": [
        "The new law takes effect in January.",
        "The minister resigned on Friday.",
        "About 300 people lost their homes in the flood.",
        "The stadium will seat 40,000 people.",
        "The library closed in 2019.",
    ],
}


async def classify(client: httpx.AsyncClient, **payload: Any) -> dict[str, Any]:
    response = await client.post("/v1/classify", json={"sentences": SENTENCES, **payload})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def strip_examples(label: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in label.items() if key != "examples"}


async def test_examples_make_a_form_based_label_set_work(client: httpx.AsyncClient) -> None:
    body = await classify(client, labels=[QUESTION, STATEMENT])
    assert [r["label"] == "question" for r in body["results"]] == IS_QUESTION
    assert all(sum(r["scores"].values()) == pytest.approx(1.0, abs=1e-3) for r in body["results"])


async def test_described_only_the_scores_are_calibrated_not_certain(client: httpx.AsyncClient) -> None:
    body = await classify(client, labels=[strip_examples(QUESTION), strip_examples(STATEMENT)])
    results = body["results"]
    # Uncalibrated, the statement "The bridge was closed on Monday." came back `question` at 0.92.
    assert max(r["confidence"] for r in results) < 0.85
    # With two labels the default threshold is 0.6: a top score this close to a coin toss is flagged.
    assert all(r["uncertain"] is (r["confidence"] < 0.6) for r in results)


async def test_described_only_a_topic_set_stays_confident(client: httpx.AsyncClient) -> None:
    labels = [
        {"name": "sport", "description": "sport: games, teams, athletes, matches and competitions"},
        {"name": "economy", "description": "the economy: prices, jobs, companies, trade and money"},
    ]
    sentences = ["The striker scored twice in the second half.", "Inflation fell to 3.1 percent in October."]
    response = await client.post("/v1/classify", json={"sentences": sentences, "labels": labels})
    results = response.json()["results"]
    assert [r["label"] for r in results] == ["sport", "economy"]
    assert not any(r["uncertain"] for r in results)


async def test_an_explicit_threshold_still_rules(client: httpx.AsyncClient) -> None:
    body = await classify(client, labels=[strip_examples(QUESTION), strip_examples(STATEMENT)], threshold=0.0)
    assert not any(r["uncertain"] for r in body["results"])


async def test_one_label_asks_whether_it_applies(client: httpx.AsyncClient) -> None:
    described = await classify(client, labels=[strip_examples(QUESTION)])
    assert all(r["confidence"] < 0.99 for r in described["results"])  # never a certain 1.0
    shown = await classify(client, labels=[QUESTION])
    scores = [r["scores"]["question"] for r in shown["results"]]
    questions = [s for s, q in zip(scores, IS_QUESTION, strict=True) if q]
    statements = [s for s, q in zip(scores, IS_QUESTION, strict=True) if not q]
    assert min(questions) > max(statements)
    assert [s >= 0.5 for s in scores] == IS_QUESTION
    assert [r["uncertain"] for r in shown["results"]] == [not q for q in IS_QUESTION]


async def test_a_one_label_set_scores_as_multi_label(client: httpx.AsyncClient) -> None:
    alone = await classify(client, labels=[QUESTION])
    explicit = await classify(client, labels=[QUESTION], multi_label=True)
    assert [r["scores"] for r in alone["results"]] == [r["scores"] for r in explicit["results"]]


async def test_examples_are_part_of_the_label_set_and_its_cache_key(client: httpx.AsyncClient) -> None:
    asking = {**QUESTION, "description": "a question someone asks"}  # a set no other test sends
    described = await classify(client, labels=[strip_examples(asking), strip_examples(STATEMENT)])
    shown = await classify(client, labels=[asking, STATEMENT])
    assert not any(r["cached"] for r in shown["results"])
    assert [r["scores"] for r in described["results"]] != [r["scores"] for r in shown["results"]]
    again = await classify(client, labels=[asking, STATEMENT])
    assert all(r["cached"] for r in again["results"])


async def test_extract_takes_examples_too(client: httpx.AsyncClient) -> None:
    text = " ".join(SENTENCES)
    response = await client.post("/v1/extract", json={"text": text, "labels": [QUESTION, STATEMENT]})
    assert response.status_code == 200, response.text
    labels = [sentence["label"] for sentence in response.json()["sentences"]]
    assert labels == ["question" if q else "statement" for q in IS_QUESTION]


@pytest.mark.parametrize(
    ("examples", "words"),
    [
        ([f"Example sentence {i}." for i in range(17)], "at most 16"),
        (["A fine example.", "  "], "at least 1 character"),
        (["x" * 1001], "at most 1000"),
        ("one string", "valid list"),
    ],
)
async def test_bad_examples_get_a_422(client: httpx.AsyncClient, examples: object, words: str) -> None:
    labels = [{"name": "a", "description": "the label", "examples": examples}]
    response = await client.post("/v1/classify", json={"sentences": ["Hi."], "labels": labels})
    assert_error(response, 422, "validation_error", words)
