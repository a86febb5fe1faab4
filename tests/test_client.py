"""The Python client against a real `claimsift serve` over HTTP; retries against faults we cannot cause."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from app.client import (
    AsyncClaimsiftClient,
    AuthenticationError,
    ClaimsiftClient,
    ConnectionFailed,
    InvalidRequest,
    ResponseError,
    RetryPolicy,
    ServerError,
    ServiceBusy,
    retry_after_seconds,
)
from app.main import create_app
from app.schemas import ExtractResponse, LabelSpec
from app.settings import Settings
from tests.conftest import free_port, started_client

FAST = RetryPolicy(attempts=3, base_delay_s=0.01, max_delay_s=0.05)


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


def test_unreachable_service_raises_connection_failed_after_the_retries() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with ClaimsiftClient(url, retry=FAST) as client, pytest.raises(ConnectionFailed, match=url):
        client.extract("It rained.")


def _flaky(statuses: list[int], retry_after: str, seen: list[httpx.Request]) -> httpx.MockTransport:
    """Answers each status in turn with the API's error body, then 200 with a valid response."""

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) <= len(statuses):
            status = statuses[len(seen) - 1]
            body = {"error": {"code": "overloaded", "message": "queue full"}}
            return httpx.Response(status, json=body, headers={"Retry-After": retry_after})
        model = {"name": "m", "backend": "embedding", "version": "1"}
        return httpx.Response(200, json={"model": model, "labels": [{"name": "a", "description": "b"}]})

    return httpx.MockTransport(handle)


def test_429_and_503_are_retried_honouring_retry_after() -> None:
    seen: list[httpx.Request] = []
    transport = _flaky([429, 503], "1", seen)
    started = time.monotonic()
    with ClaimsiftClient("http://svc", api_key="k" * 20, retry=FAST, transport=transport) as client:
        labels = client.labels()
    assert labels.labels[0].name == "a"
    assert len(seen) == 3
    assert time.monotonic() - started >= 2.0  # two waits of at least Retry-After: 1
    assert all(request.headers["X-API-Key"] == "k" * 20 for request in seen)


async def test_async_client_gives_up_with_service_busy() -> None:
    seen: list[httpx.Request] = []
    transport = _flaky([503, 503, 503, 503], "0", seen)
    async with AsyncClaimsiftClient("http://svc", retry=FAST, transport=transport) as client:
        with pytest.raises(ServiceBusy) as busy:
            await client.labels()
    assert len(seen) == FAST.attempts
    assert (busy.value.status, busy.value.code) == (503, "overloaded")


def test_backoff_grows_is_capped_and_never_undercuts_retry_after() -> None:
    policy = RetryPolicy(attempts=8, base_delay_s=0.5, max_delay_s=4.0, max_retry_after_s=60.0)
    first = [policy.delay(1, None) for _ in range(200)]
    assert all(0 <= delay <= 0.5 for delay in first)
    assert len(set(first)) > 100  # jittered: clients that failed together do not retry together
    assert all(0 <= policy.delay(6, None) <= 4.0 for _ in range(50))
    assert max(policy.delay(4, None) for _ in range(200)) > 2.0  # 0.5 * 2**3 = 4: it grows
    assert policy.delay(1, 9.0) >= 9.0  # Retry-After wins over a shorter backoff
    assert policy.delay(1, 3600.0) == 60.0
    date = httpx.Response(503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert retry_after_seconds(date) == 0.0  # a date in the past: retry now
    assert retry_after_seconds(httpx.Response(503, headers={"Retry-After": "7"})) == 7.0
    assert retry_after_seconds(httpx.Response(503)) is None


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


def test_answers_that_are_not_the_api_s_raise_clear_errors() -> None:
    def proxy_page(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/labels":
            return httpx.Response(200, json={"unexpected": True})
        return httpx.Response(502, text="<html>Bad Gateway</html>")

    with ClaimsiftClient("http://svc", retry=FAST, transport=httpx.MockTransport(proxy_page)) as client:
        with pytest.raises(ResponseError, match="not a LabelsResponse"):
            client.labels()
        with pytest.raises(ServerError) as gateway:
            client.extract("It rained.")
    assert (gateway.value.status, gateway.value.code) == (502, "http_502")
    assert "Bad Gateway" in gateway.value.message
