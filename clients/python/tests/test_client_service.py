"""The client against a real `claimsift serve` over HTTP (the repository's `live_server`), and against the
app in-process with API keys on. Runs inside the repository's suite: it needs the service installed."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from claimsift_client import (
    AsyncClaimsiftClient,
    AuthenticationError,
    ClaimsiftClient,
    ExtractResponse,
    InvalidRequest,
    LabelSpec,
)

from app.main import create_app
from app.settings import Settings
from tests.conftest import live_server, started_client

__all__ = ["live_server"]  # a fixture: imported so pytest finds it for these tests


@pytest.fixture
def claims(live_server: str) -> Iterator[ClaimsiftClient]:
    with ClaimsiftClient(live_server, timeout_s=60) as client:
        yield client


def test_extract_returns_the_typed_response_of_the_service(claims: ClaimsiftClient, live_server: str) -> None:
    text = "The council voted 7-2 on Monday. The decision was a mistake. The city should reopen it."

    result = claims.extract(text)

    assert isinstance(result, ExtractResponse)
    raw = httpx.post(f"{live_server}/v1/extract", json={"text": text}, timeout=60).json()
    assert [s.text for s in result.sentences] == [s["text"] for s in raw["sentences"]]
    assert [s.label for s in result.sentences] == [s["label"] for s in raw["sentences"]]
    assert result.counts == raw["counts"]


def test_classify_labels_and_custom_labels(claims: ClaimsiftClient) -> None:
    default = claims.classify(["Prices rose 4% in May.", "Voters should reject it."])
    assert [r.text for r in default.results] == ["Prices rose 4% in May.", "Voters should reject it."]
    assert set(default.labels) == {label.name for label in claims.labels().labels}

    custom = claims.classify(
        ["Prices rose 4% in May."],
        labels=[LabelSpec(name="economy", description="money"), {"name": "sport", "description": "games"}],
        threshold=0.9,
    )
    assert custom.labels == ["economy", "sport"]


def test_blocks_come_back_per_block_with_utf16_offsets(claims: ClaimsiftClient) -> None:
    blocks = [
        {"id": "b1", "text": "Le café 😀 a fermé. It should reopen."},
        {"id": "b2", "text": ""},
        {"id": "b3", "text": "😀😀 Prices rose 4% in May."},
    ]

    result = claims.extract(blocks=blocks)

    assert result.blocks is not None
    assert [block.id for block in result.blocks] == ["b1", "b2", "b3"]
    for block, sent in zip(result.blocks, blocks, strict=True):
        utf16 = sent["text"].encode("utf-16-le")
        for sentence in block.sentences:
            assert sent["text"][sentence.start : sentence.end] == sentence.text
            span = utf16[2 * sentence.start_utf16 : 2 * sentence.end_utf16]
            assert span.decode("utf-16-le") == sentence.text
    assert result.blocks[1].sentences == []


def test_bad_requests_raise_invalid_request_with_the_api_code(claims: ClaimsiftClient) -> None:
    with pytest.raises(InvalidRequest) as empty:
        claims.extract("   ")
    assert (empty.value.status, empty.value.code) == (422, "validation_error")
    assert "empty" in empty.value.message

    with pytest.raises(InvalidRequest) as large:
        claims.extract("x" * 100_001)
    assert (large.value.status, large.value.code) == (413, "payload_too_large")

    with pytest.raises(ValueError, match="exactly one of text or blocks"):
        claims.extract()


async def test_async_client_matches_the_sync_client(claims: ClaimsiftClient, live_server: str) -> None:
    text = "The bridge closed in 2019. Critics say that was a mistake."
    async with AsyncClaimsiftClient(live_server) as client:
        await client.wait_ready(timeout_s=5)
        result = await client.extract(text)
        labels = await client.labels()
    again = claims.extract(text)
    kept = {"text", "start", "end", "start_utf16", "end_utf16", "label", "scores", "uncertain"}
    assert [s.model_dump(include=kept) for s in result.sentences] == [
        s.model_dump(include=kept) for s in again.sentences
    ]
    assert (result.model, result.counts) == (again.model, again.counts)
    assert labels == claims.labels()


async def test_api_key_is_sent_and_a_wrong_one_raises_authentication_error() -> None:
    key = "test-key-0123456789abcdef"
    app = create_app(Settings(api_keys=key))
    async for _ready in started_client(app):
        transport = httpx.ASGITransport(app=app)
        async with AsyncClaimsiftClient("http://svc", api_key=key, transport=transport) as good:
            assert (await good.extract("It rained on Monday.")).sentences
        async with AsyncClaimsiftClient("http://svc", api_key="wrong-" + key, transport=transport) as bad:
            with pytest.raises(AuthenticationError) as refused:
                await bad.extract("It rained on Monday.")
        assert (refused.value.status, refused.value.code) == (401, "unauthorized")
