"""Bad input gets a clear 4xx in the one error shape, and the service keeps serving."""

from __future__ import annotations

import httpx
import pytest


def assert_error(response: httpx.Response, status: int, code: str, words: str = "") -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert words in error["message"]


@pytest.mark.parametrize(
    ("payload", "code", "words"),
    [
        ({"text": ""}, "validation_error", "empty"),
        ({"text": " \n\t "}, "validation_error", "whitespace"),
        ({"text": "Hi.", "surprise": 1}, "validation_error", "surprise"),
        ({}, "validation_error", "text"),
        ({"text": 5}, "validation_error", "text"),
        ({"text": "Hi.", "labels": []}, "validation_error", "labels must not be empty"),
        (
            {"text": "Hi.", "labels": [{"name": "a", "description": "x"}, {"name": "a", "description": "y"}]},
            "validation_error",
            "duplicate label names: a",
        ),
        ({"text": "Hi.", "labels": [{"name": "a"}]}, "validation_error", "description"),
        ({"text": "Hi.", "threshold": 1.5}, "validation_error", "threshold"),
        ({"text": "Hi.", "threshold": -0.1}, "validation_error", "threshold"),
        ({"text": "Hi.", "multi_label": "maybe"}, "validation_error", "multi_label"),
    ],
)
async def test_invalid_extract_requests(
    client: httpx.AsyncClient, payload: object, code: str, words: str
) -> None:
    assert_error(await client.post("/v1/extract", json=payload), 422, code, words)


async def test_too_many_labels(client: httpx.AsyncClient) -> None:
    labels = [{"name": f"l{i}", "description": f"label {i}"} for i in range(17)]
    assert_error(
        await client.post("/v1/extract", json={"text": "Hi.", "labels": labels}), 422, "invalid_input"
    )


async def test_classify_rejects_blank_and_empty(client: httpx.AsyncClient) -> None:
    assert_error(await client.post("/v1/classify", json={"sentences": []}), 422, "validation_error")
    assert_error(
        await client.post("/v1/classify", json={"sentences": ["ok", " "]}), 422, "validation_error", "[1]"
    )


async def test_text_over_the_character_limit(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/extract", json={"text": "a" * 100_001})
    assert_error(response, 413, "payload_too_large", "100000")


async def test_body_over_the_byte_limit(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/extract", json={"text": "a" * 2_100_000})
    assert_error(response, 413, "payload_too_large")


async def test_too_many_sentences(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/classify", json={"sentences": ["Hi."] * 2049})
    assert_error(response, 413, "payload_too_large", "2048")


async def test_invalid_json(client: httpx.AsyncClient) -> None:
    headers = {"content-type": "application/json"}
    assert_error(await client.post("/v1/extract", content=b'{"text": ', headers=headers), 422, "invalid_json")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_wrong_content_type(client: httpx.AsyncClient, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = await client.post("/v1/extract", content=b'{"text": "Hi."}', headers=headers)
    assert_error(response, 415, "unsupported_media_type")


async def test_invalid_utf8(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/extract", content=b'{"text": "caf\xe9"}', headers={"content-type": "application/json"}
    )
    assert_error(response, 400, "invalid_encoding", "UTF-8")


async def test_unknown_route_and_method(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/v2/extract"), 404, "not_found")
    assert_error(await client.get("/v1/extract"), 405, "method_not_allowed")


async def test_service_still_answers_after_bad_input(client: httpx.AsyncClient) -> None:
    bad = await client.post("/v1/extract", content=b"\xff\xfe", headers={"content-type": "application/json"})
    assert_error(bad, 400, "invalid_encoding")
    response = await client.post("/v1/extract", json={"text": "The council voted 7-2 on Monday."})
    assert response.status_code == 200
