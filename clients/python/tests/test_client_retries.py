"""Retries, backoff and error mapping, against faults a real service cannot be made to produce on demand
(httpx's MockTransport). Needs only the client package: runs in a virtualenv with claimsift-client alone."""

from __future__ import annotations

import socket
import time

import httpx
import pytest
from claimsift_client import (
    AsyncClaimsiftClient,
    ClaimsiftClient,
    ConnectionFailed,
    ResponseError,
    RetryPolicy,
    ServerError,
    ServiceBusy,
    retry_after_seconds,
)

FAST = RetryPolicy(attempts=3, base_delay_s=0.01, max_delay_s=0.05)


def test_unreachable_service_raises_connection_failed_after_the_retries() -> None:
    with socket.socket() as taken:  # bound but never listening: every connection is refused
        taken.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{taken.getsockname()[1]}"
        with ClaimsiftClient(url, retry=FAST) as client, pytest.raises(ConnectionFailed, match=url):
            client.extract("It rained.")


def test_a_dropped_connection_is_retried() -> None:
    seen: list[httpx.Request] = []

    def drop_twice(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) <= 2:
            raise httpx.ConnectError("connection refused", request=request)
        return _labels_answer()

    with ClaimsiftClient("http://svc", retry=FAST, transport=httpx.MockTransport(drop_twice)) as client:
        assert client.labels().labels[0].name == "a"
    assert len(seen) == 3


def _flaky(statuses: list[int], retry_after: str, seen: list[httpx.Request]) -> httpx.MockTransport:
    """Answers each status in turn with the API's error body, then 200 with a valid response."""

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) <= len(statuses):
            status = statuses[len(seen) - 1]
            body = {"error": {"code": "overloaded", "message": "queue full"}}
            return httpx.Response(status, json=body, headers={"Retry-After": retry_after})
        return _labels_answer()

    return httpx.MockTransport(handle)


def _labels_answer() -> httpx.Response:
    model = {"name": "m", "backend": "embedding", "version": "1"}
    return httpx.Response(200, json={"model": model, "labels": [{"name": "a", "description": "b"}]})


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


@pytest.mark.asyncio  # explicit, for a run without this repository's pytest settings
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
