"""Dynamic micro-batching: one inference thread owns the backend and serves every request.

Requests are admitted against a bound on queued sentences (429 with a Retry-After from the measured
throughput when full). The inference thread takes a window of queued sentences that share a label set,
sorts it by token count and cuts it into batches that fit a token budget (longest * count, which is what
padding makes the model compute), so short sentences never pay for a long one's padding. Every waiting
future resolves: with its rows, with its batch's error, or not at all because its caller left.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.errors import InferenceFailed, Overloaded
from app.model.types import Backend, LabelSet, Prediction

log = logging.getLogger(__name__)

# A window holds this many batches' worth of sentences: enough to sort lengths across concurrent
# requests, small enough that a request arriving now waits for at most a few batches.
WINDOW_BATCHES = 4


@dataclass(eq=False)
class _Job:
    texts: Sequence[str]
    labels: LabelSet
    multi_label: bool
    future: asyncio.Future[list[Prediction]]
    loop: asyncio.AbstractEventLoop
    results: list[Prediction | None] = field(init=False)
    missing: int = field(init=False)
    settled: bool = False  # set on the inference thread, before the future is (asynchronously) resolved

    def __post_init__(self) -> None:
        self.results = [None] * len(self.texts)
        self.missing = len(self.texts)

    @property
    def batch_key(self) -> tuple[str, bool]:
        return self.labels.key, self.multi_label

    @property
    def abandoned(self) -> bool:
        return self.settled or self.future.done()  # failed already, or the caller left (cancelled)


@dataclass(slots=True)
class _Item:
    job: _Job
    index: int
    tokens: int = 0

    @property
    def text(self) -> str:
        return self.job.texts[self.index]


class Batcher:
    def __init__(
        self,
        backend: Backend,
        max_batch: int,
        max_wait_s: float,
        max_queued: int,
        token_budget: int = 256,
    ) -> None:
        self._backend = backend
        self._max_batch = max_batch
        self._max_wait_s = max_wait_s
        self._max_queued = max_queued
        self._token_budget = token_budget
        self._items: deque[_Item] = deque()
        self._ready = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._rate = 0.0  # sentences per second of inference, a moving average; 0 until measured

    @property
    def queued(self) -> int:
        return len(self._items)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="claimsift-inference", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Finish what is queued, then end the inference thread; whatever is left then fails with 429."""
        with self._ready:
            self._stopping = True
            self._ready.notify_all()
        if self._thread is not None:
            self._thread.join(timeout_s)
        with self._ready:
            left, self._items = self._items, deque()
        for job in {item.job for item in left}:
            _resolve(job, Overloaded("the service is shutting down", retry_after_s=5))

    async def submit(self, texts: Sequence[str], labels: LabelSet, multi_label: bool) -> list[Prediction]:
        if not texts:
            return []
        loop = asyncio.get_running_loop()
        job = _Job(texts, labels, multi_label, loop.create_future(), loop)
        with self._ready:
            if self._stopping:
                raise Overloaded("the service is shutting down", retry_after_s=5)
            queued = len(self._items)
            if queued and queued + len(texts) > self._max_queued:
                raise Overloaded(
                    f"{queued} sentences are waiting for inference; retry shortly",
                    retry_after_s=self._retry_after_s(queued),
                )
            self._items.extend(_Item(job, i) for i in range(len(texts)))
            self._ready.notify()
        return await job.future

    def _retry_after_s(self, queued: int) -> int:
        """Seconds until the queue has drained at the measured rate (1 until a rate is known)."""
        if self._rate <= 0:
            return 1
        return max(1, min(60, math.ceil(queued / self._rate)))

    def _run(self) -> None:
        while True:
            window = self._next_window()
            if window is None:
                return
            try:
                for batch in self._cut(window):
                    self._infer(batch)
            except Exception as exc:  # the thread must survive, and no caller may wait forever
                log.exception("batching failed for a window of %d sentences", len(window))
                failure = InferenceFailed(f"inference failed: {type(exc).__name__}")
                for job in {item.job for item in window if not item.job.settled}:
                    _resolve(job, failure)

    def _next_window(self) -> list[_Item] | None:
        with self._ready:
            while not self._items:
                if self._stopping:
                    return None
                self._ready.wait()
            deadline = time.monotonic() + self._max_wait_s
            while len(self._items) < self._max_batch and not self._stopping:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._ready.wait(remaining):
                    break
            return self._take_window()

    def _take_window(self) -> list[_Item]:
        """Up to WINDOW_BATCHES batches of the oldest item's label set, in arrival order."""
        key = self._items[0].job.batch_key
        limit = self._max_batch * WINDOW_BATCHES
        window: list[_Item] = []
        kept: deque[_Item] = deque()
        while self._items:
            item = self._items.popleft()
            if item.job.abandoned:
                continue
            if item.job.batch_key == key and len(window) < limit:
                window.append(item)
            else:
                kept.append(item)
        self._items = kept
        return window

    def _cut(self, window: list[_Item]) -> list[list[_Item]]:
        """Batches of similar length, each within the token budget and the batch size."""
        try:
            for item in window:
                item.tokens = self._backend.count_tokens(item.text)
        except Exception:  # the model's own encode will report it; count by characters meanwhile
            log.exception("token counting failed; batching by characters")
            for item in window:
                item.tokens = len(item.text)
        window.sort(key=lambda item: item.tokens)
        batches: list[list[_Item]] = []
        batch: list[_Item] = []
        for item in window:  # ascending, so the newest item is the batch's longest
            fits = (len(batch) + 1) * item.tokens <= self._token_budget and len(batch) < self._max_batch
            if batch and not fits:
                batches.append(batch)
                batch = []
            batch.append(item)
        if batch:
            batches.append(batch)
        return batches

    def _infer(self, batch: list[_Item]) -> None:
        batch = [item for item in batch if not item.job.abandoned]
        if not batch:
            return
        first = batch[0].job
        started = time.perf_counter()
        try:
            predictions = self._backend.predict(
                [item.text for item in batch], first.labels, first.multi_label
            )
            if len(predictions) != len(batch):
                raise RuntimeError(f"backend returned {len(predictions)} rows for {len(batch)} texts")
        except Exception as exc:
            log.exception("inference failed for a batch of %d sentences", len(batch))
            failure = InferenceFailed(f"inference failed: {type(exc).__name__}")
            for job in {item.job for item in batch}:
                _resolve(job, failure)
            return
        self._measure(len(batch), time.perf_counter() - started)
        for item, prediction in zip(batch, predictions, strict=True):
            item.job.results[item.index] = prediction
            item.job.missing -= 1
            if item.job.missing == 0:
                _resolve(item.job, [p for p in item.job.results if p is not None])

    def _measure(self, sentences: int, seconds: float) -> None:
        rate = sentences / max(seconds, 1e-6)
        self._rate = rate if self._rate == 0 else 0.8 * self._rate + 0.2 * rate


def _resolve(job: _Job, outcome: list[Prediction] | Exception) -> None:
    job.settled = True

    def settle() -> None:
        if job.future.done():
            return
        if isinstance(outcome, Exception):
            job.future.set_exception(outcome)
        else:
            job.future.set_result(outcome)

    try:
        job.loop.call_soon_threadsafe(settle)
    except RuntimeError:  # the caller's event loop is closed: nobody is waiting any more
        log.debug("dropped the result of a request whose event loop has closed")
