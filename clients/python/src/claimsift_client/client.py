"""The blocking and the async client: typed results, retries with backoff, typed errors.

Both build requests and read responses through one core (``_Call`` and ``_read``) and wait for readiness
by one rule (``_ReadyWait``); only the loops that send, wait and retry are written twice, once blocking
and once with ``await``.

Retries: 429 (queue full) and 503 (model loading) answers and connection failures are retried with
exponential backoff and full jitter, waiting at least the server's ``Retry-After``. Every other error
raises at once. All calls are idempotent, so a retry never does anything twice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Generic, Literal, Self, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from claimsift_client._version import __version__
from claimsift_client.errors import ClientError, ConnectionFailed, ResponseError, api_error, unreachable
from claimsift_client.models import Block, ClassifyResponse, ExtractResponse, LabelSpec, LabelsResponse
from claimsift_client.retry import RetryPolicy, retry_after_seconds, should_retry

ResponseT = TypeVar("ResponseT", bound=BaseModel)
Format = Literal["text", "html"]
Blocks = Sequence[Block | Mapping[str, str]]  # models or {"id": ..., "text": ...}
Labels = Sequence[LabelSpec | Mapping[str, str]]  # models or {"name": ..., "description": ...}


@dataclass(frozen=True, slots=True)
class _Call(Generic[ResponseT]):
    """One API call: what to send and the model its 200 body parses into."""

    method: str
    path: str
    model: type[ResponseT]
    body: dict[str, Any] | None = field(default=None)


def _extract_call(
    text: str | None,
    blocks: Blocks | None,
    format: Format,
    labels: Labels | None,
    multi_label: bool,
    threshold: float | None,
    context: bool = True,
) -> _Call[ExtractResponse]:
    if (text is None) == (blocks is None):
        raise ValueError("give exactly one of text or blocks")
    body: dict[str, Any] = {"format": format} if format != "text" else {}
    if text is not None:
        body["text"] = text
    else:
        body["blocks"] = [
            block.model_dump()
            if isinstance(block, Block)
            else {"id": str(block["id"]), "text": str(block["text"])}
            for block in blocks or ()
        ]
    body.update(_options(labels, multi_label, threshold, context))
    return _Call("POST", "/v1/extract", ExtractResponse, body)


def _classify_call(
    sentences: Sequence[str],
    labels: Labels | None,
    multi_label: bool,
    threshold: float | None,
    context: bool = True,
) -> _Call[ClassifyResponse]:
    body = {"sentences": list(sentences), **_options(labels, multi_label, threshold, context)}
    return _Call("POST", "/v1/classify", ClassifyResponse, body)


def _options(
    labels: Labels | None, multi_label: bool, threshold: float | None, context: bool
) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if labels is not None:
        options["labels"] = [
            label.model_dump() if isinstance(label, LabelSpec) else dict(label) for label in labels
        ]
    if multi_label:
        options["multi_label"] = True
    if threshold is not None:
        options["threshold"] = threshold
    if not context:
        options["context"] = False  # sent only when off, so older services keep accepting the request
    return options


_LABELS_CALL = _Call("GET", "/v1/labels", LabelsResponse)


def _headers(api_key: str | None) -> dict[str, str]:
    headers = {"User-Agent": f"claimsift-client/{__version__}", "Accept": "application/json"}
    if api_key:
        headers["X-API-Key"] = api_key
    return headers


def _read(call: _Call[ResponseT], response: httpx.Response) -> ResponseT:
    """The typed body of a 200, or the API error the service answered, raised as its exception."""
    if response.status_code == 200:
        try:
            return call.model.model_validate_json(response.content)
        except ValidationError as exc:
            raise ResponseError(
                f"{call.method} {call.path}: the 200 body is not a {call.model.__name__}: {exc}"
            ) from exc
    raise api_error(response)


class _ReadyWait:
    """The one rule for waiting on ``/readyz``, shared by the blocking and the async ``wait_ready``.

    Ready on a 200. A model that failed to load, a server process that exited (``alive``) or the
    deadline end the wait with the last failure; anything else (503 while loading, connection
    refused while the server starts) is worth another poll.
    """

    def __init__(self, base_url: httpx.URL, timeout_s: float, alive: Callable[[], bool] | None) -> None:
        self._base_url = base_url
        self._deadline = time.monotonic() + timeout_s
        self._alive = alive

    def ready(self, outcome: httpx.Response | httpx.TransportError) -> bool:
        """True when ready; False when worth polling again; raises the failure when waiting must end."""
        if isinstance(outcome, httpx.Response) and outcome.status_code == 200:
            return True
        if isinstance(outcome, httpx.Response):
            failure: ClientError = api_error(outcome)
            if _load_failed(outcome):
                raise failure
        else:
            failure = unreachable("GET", self._base_url, "/readyz", outcome)
        if self._alive is not None and not self._alive():
            raise ConnectionFailed(f"the server at {self._base_url} exited before it was ready ({failure})")
        if time.monotonic() >= self._deadline:
            raise failure
        return False


def _load_failed(response: httpx.Response) -> bool:
    """/readyz says the model failed to load: waiting longer cannot help."""
    try:
        reason = response.json().get("reason", "")
    except (ValueError, AttributeError):
        return False
    return isinstance(reason, str) and reason.startswith("model failed to load")


class ClaimsiftClient:
    """Blocking client. Use it as a context manager, or call ``close()``."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        *,
        api_key: str | None = None,
        timeout_s: float | None = 60.0,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), headers=_headers(api_key), timeout=timeout_s, transport=transport
        )

    def extract(
        self,
        text: str | None = None,
        *,
        blocks: Blocks | None = None,
        format: Format = "text",
        labels: Labels | None = None,
        multi_label: bool = False,
        threshold: float | None = None,
        context: bool = True,
    ) -> ExtractResponse:
        """Split ``text`` (or each of ``blocks``) into sentences and label each one."""
        return self._send(_extract_call(text, blocks, format, labels, multi_label, threshold, context))

    def classify(
        self,
        sentences: Sequence[str],
        *,
        labels: Labels | None = None,
        multi_label: bool = False,
        threshold: float | None = None,
        context: bool = True,
    ) -> ClassifyResponse:
        """Label sentences you have already split, in input order."""
        return self._send(_classify_call(sentences, labels, multi_label, threshold, context))

    def labels(self) -> LabelsResponse:
        """The service's default labels and their descriptions."""
        return self._send(_LABELS_CALL)

    def wait_ready(
        self, timeout_s: float = 120.0, *, interval_s: float = 0.2, alive: Callable[[], bool] | None = None
    ) -> None:
        """Block until ``/readyz`` answers 200; ConnectionFailed or ServiceBusy after ``timeout_s``, at
        once if the model failed to load or ``alive()`` (say, the server process) turns False."""
        waiting = _ReadyWait(self._http.base_url, timeout_s, alive)
        while True:
            try:
                outcome: httpx.Response | httpx.TransportError = self._http.get("/readyz")
            except httpx.TransportError as exc:
                outcome = exc
            if waiting.ready(outcome):
                return
            time.sleep(interval_s)

    def _send(self, call: _Call[ResponseT]) -> ResponseT:
        for attempt in range(1, self.retry.attempts + 1):
            last = attempt == self.retry.attempts
            try:
                response = self._http.request(call.method, call.path, json=call.body)
            except httpx.HTTPError as exc:  # connection, timeout, protocol or decoding failures
                if last or not isinstance(exc, httpx.TransportError):
                    raise unreachable(call.method, self._http.base_url, call.path, exc) from exc
                time.sleep(self.retry.delay(attempt, None))
                continue
            if last or not should_retry(response):
                return _read(call, response)
            time.sleep(self.retry.delay(attempt, retry_after_seconds(response)))
        raise AssertionError("unreachable: the last attempt returns or raises")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


class AsyncClaimsiftClient:
    """The same API as ``ClaimsiftClient``, as coroutines. Use ``async with``, or ``await aclose()``."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        *,
        api_key: str | None = None,
        timeout_s: float | None = 60.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), headers=_headers(api_key), timeout=timeout_s, transport=transport
        )

    async def extract(
        self,
        text: str | None = None,
        *,
        blocks: Blocks | None = None,
        format: Format = "text",
        labels: Labels | None = None,
        multi_label: bool = False,
        threshold: float | None = None,
        context: bool = True,
    ) -> ExtractResponse:
        """Split ``text`` (or each of ``blocks``) into sentences and label each one."""
        return await self._send(_extract_call(text, blocks, format, labels, multi_label, threshold, context))

    async def classify(
        self,
        sentences: Sequence[str],
        *,
        labels: Labels | None = None,
        multi_label: bool = False,
        threshold: float | None = None,
        context: bool = True,
    ) -> ClassifyResponse:
        """Label sentences you have already split, in input order."""
        return await self._send(_classify_call(sentences, labels, multi_label, threshold, context))

    async def labels(self) -> LabelsResponse:
        """The service's default labels and their descriptions."""
        return await self._send(_LABELS_CALL)

    async def wait_ready(
        self, timeout_s: float = 120.0, *, interval_s: float = 0.2, alive: Callable[[], bool] | None = None
    ) -> None:
        """Wait until ``/readyz`` answers 200; ConnectionFailed or ServiceBusy after ``timeout_s``, at
        once if the model failed to load or ``alive()`` turns False."""
        waiting = _ReadyWait(self._http.base_url, timeout_s, alive)
        while True:
            try:
                outcome: httpx.Response | httpx.TransportError = await self._http.get("/readyz")
            except httpx.TransportError as exc:
                outcome = exc
            if waiting.ready(outcome):
                return
            await asyncio.sleep(interval_s)

    async def _send(self, call: _Call[ResponseT]) -> ResponseT:
        for attempt in range(1, self.retry.attempts + 1):
            last = attempt == self.retry.attempts
            try:
                response = await self._http.request(call.method, call.path, json=call.body)
            except httpx.HTTPError as exc:  # connection, timeout, protocol or decoding failures
                if last or not isinstance(exc, httpx.TransportError):
                    raise unreachable(call.method, self._http.base_url, call.path, exc) from exc
                await asyncio.sleep(self.retry.delay(attempt, None))
                continue
            if last or not should_retry(response):
                return _read(call, response)
            await asyncio.sleep(self.retry.delay(attempt, retry_after_seconds(response)))
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.aclose()
