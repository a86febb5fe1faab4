"""Dynamic micro-batching: one inference thread owns the backend and serves every request.

Requests are admitted against a bound on queued sentences (429 with a Retry-After from the measured
throughput when full). The inference thread takes a window of queued sentences that share a label set,
tokenizes it once, sorts it by token count and cuts it into batches that fit a token budget (longest *
count, which is what padding makes the model compute), so short sentences never pay for a long one's
padding; the model gets the same tokens. Every waiting future resolves: with its rows, with its batch's
error, or not at all because its caller left.

Each request learns where its time went (``StageTimes``: queue wait, tokenization, inference) and each
batch is reported to an observer (the metrics), so the batcher itself holds no metrics code.
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
from typing import Protocol

from app.errors import InferenceFailed, Overloaded
from app.model.types import Backend, LabelSet, Prediction, Tokens

log = logging.getLogger(__name__)

# A window holds this many batches' worth of sentences: enough to sort lengths across concurrent
# requests, small enough that a request arriving now waits for at most a few batches.
WINDOW_BATCHES = 4


@dataclass(slots=True)
class StageTimes:
    """Where a request's time went on the inference side, in seconds; all 0 when the cache held it all."""

    queue_s: float = 0.0  # from submit until the inference thread took its first sentence
    tokenize_s: float = 0.0  # tokenizing the windows that held its sentences
    inference_s: float = 0.0  # the model on the batches that held its sentences

    def by_stage(self) -> dict[str, float]:
        return {"queue": self.queue_s, "tokenize": self.tokenize_s, "inference": self.inference_s}


class BatchObserver(Protocol):
    """Told of every batch on the inference thread (the metrics implement it)."""

    def batch_done(self, sentences: int, seconds: float) -> None: ...

    def batch_failed(self) -> None: ...


@dataclass(eq=False)
class _Job:
    texts: Sequence[str]
    labels: LabelSet
    multi_label: bool
    future: asyncio.Future[list[Prediction]]
    loop: asyncio.AbstractEventLoop
    times: StageTimes
    submitted: float = field(default_factory=time.perf_counter)
    taken: bool = False  # the inference thread has taken a sentence of it (its queue wait is known)
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
    tokens: Tokens | None = None  # set on the inference thread, once per sentence

    @property
    def text(self) -> str:
        return self.job.texts[self.index]

    @property
    def row(self) -> Tokens:
        if self.tokens is None:
            raise RuntimeError("a sentence reached a batch untokenized")
        return self.tokens


class Batcher:
    def __init__(
        self,
        backend: Backend,
        max_batch: int,
        max_wait_s: float,
        max_queued: int,
        token_budget: int = 256,
        observer: BatchObserver | None = None,
    ) -> None:
        self._backend = backend
        self._observer = observer
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

    async def submit(
        self, texts: Sequence[str], labels: LabelSet, multi_label: bool, times: StageTimes | None = None
    ) -> list[Prediction]:
        """One prediction per text, in order; ``times`` (when given) gains this call's stage timings."""
        if not texts:
            return []
        loop = asyncio.get_running_loop()
        job = _Job(texts, labels, multi_label, loop.create_future(), loop, times or StageTimes())
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
                self._tokenize(window)
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
        now = time.perf_counter()
        while self._items:
            item = self._items.popleft()
            if item.job.abandoned:
                continue
            if item.job.batch_key == key and len(window) < limit:
                window.append(item)
                if not item.job.taken:
                    item.job.taken = True
                    item.job.times.queue_s = now - item.job.submitted
            else:
                kept.append(item)
        self._items = kept
        return window

    def _tokenize(self, window: list[_Item]) -> None:
        """Tokens for every sentence of the window, in one call; the model reuses them."""
        started = time.perf_counter()
        tokens = self._backend.tokenize([item.text for item in window])
        if len(tokens) != len(window):
            raise RuntimeError(f"backend returned {len(tokens)} token rows for {len(window)} texts")
        for item, row in zip(window, tokens, strict=True):
            item.tokens = row
        seconds = time.perf_counter() - started
        for job in {item.job for item in window}:
            job.times.tokenize_s += seconds

    def _cut(self, window: list[_Item]) -> list[list[_Item]]:
        """Batches of similar length, each within the token budget and the batch size."""
        window.sort(key=lambda item: len(item.row))
        batches: list[list[_Item]] = []
        batch: list[_Item] = []
        for item in window:  # ascending, so the newest item is the batch's longest
            longest = len(item.row)
            fits = (len(batch) + 1) * longest <= self._token_budget and len(batch) < self._max_batch
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
            predictions = self._backend.predict([item.row for item in batch], first.labels, first.multi_label)
            if len(predictions) != len(batch):
                raise RuntimeError(f"backend returned {len(predictions)} rows for {len(batch)} texts")
        except Exception as exc:
            log.exception("inference failed for a batch of %d sentences", len(batch))
            if self._observer is not None:
                self._observer.batch_failed()
            failure = InferenceFailed(f"inference failed: {type(exc).__name__}")
            for job in {item.job for item in batch}:
                _resolve(job, failure)
            return
        seconds = time.perf_counter() - started
        self._measure(len(batch), seconds)
        if self._observer is not None:
            self._observer.batch_done(len(batch), seconds)
        for job in {item.job for item in batch}:
            job.times.inference_s += seconds
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
