"""Dynamic micro-batching: one inference thread owns the backend and serves every request.

Requests are admitted against a bound on queued sentences (429 when full), split into sentences, and
grouped into batches of one label set, sorted by length so padding stays small. Every waiting future
resolves: with its rows, with the batch's error, or not at all because its caller left.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.classify.backend import Backend, LabelSet, Prediction
from app.errors import InferenceFailed, Overloaded

log = logging.getLogger(__name__)


@dataclass(eq=False)
class _Job:
    texts: Sequence[str]
    labels: LabelSet
    multi_label: bool
    future: asyncio.Future[list[Prediction]]
    loop: asyncio.AbstractEventLoop
    results: list[Prediction | None] = field(init=False)
    missing: int = field(init=False)

    def __post_init__(self) -> None:
        self.results = [None] * len(self.texts)
        self.missing = len(self.texts)

    @property
    def batch_key(self) -> tuple[str, bool]:
        return self.labels.key, self.multi_label


@dataclass(frozen=True, slots=True)
class _Item:
    job: _Job
    index: int


class Batcher:
    def __init__(self, backend: Backend, max_batch: int, max_wait_s: float, max_queued: int) -> None:
        self._backend = backend
        self._max_batch = max_batch
        self._max_wait_s = max_wait_s
        self._max_queued = max_queued
        self._items: deque[_Item] = deque()
        self._ready = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    @property
    def queued(self) -> int:
        return len(self._items)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="claimsift-inference", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Finish what is queued, then end the inference thread."""
        with self._ready:
            self._stopping = True
            self._ready.notify_all()
        if self._thread is not None:
            self._thread.join(timeout_s)

    async def submit(self, texts: Sequence[str], labels: LabelSet, multi_label: bool) -> list[Prediction]:
        if not texts:
            return []
        loop = asyncio.get_running_loop()
        job = _Job(texts, labels, multi_label, loop.create_future(), loop)
        with self._ready:
            if self._stopping:
                raise Overloaded("the service is shutting down", retry_after_s=5)
            if self._items and len(self._items) + len(texts) > self._max_queued:
                raise Overloaded(f"{len(self._items)} sentences are waiting for inference; retry shortly")
            self._items.extend(_Item(job, i) for i in range(len(texts)))
            self._ready.notify()
        return await job.future

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            if batch:
                self._infer(batch)

    def _next_batch(self) -> list[_Item] | None:
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
            return self._take_batch()

    def _take_batch(self) -> list[_Item]:
        key = self._items[0].job.batch_key
        batch: list[_Item] = []
        kept: deque[_Item] = deque()
        while self._items:
            item = self._items.popleft()
            if item.job.future.done():
                continue  # the caller left (cancelled) or the job already failed
            if item.job.batch_key == key and len(batch) < self._max_batch:
                batch.append(item)
            else:
                kept.append(item)
        self._items = kept
        return batch

    def _infer(self, batch: list[_Item]) -> None:
        batch.sort(key=lambda item: len(item.job.texts[item.index]))
        first = batch[0].job
        try:
            predictions = self._backend.predict(
                [item.job.texts[item.index] for item in batch], first.labels, first.multi_label
            )
            if len(predictions) != len(batch):
                raise RuntimeError(f"backend returned {len(predictions)} rows for {len(batch)} texts")
        except Exception as exc:
            log.exception("inference failed for a batch of %d sentences", len(batch))
            failure = InferenceFailed(f"inference failed: {type(exc).__name__}")
            for job in {item.job for item in batch}:
                _resolve(job, failure)
            return
        for item, prediction in zip(batch, predictions, strict=True):
            item.job.results[item.index] = prediction
            item.job.missing -= 1
            if item.job.missing == 0:
                _resolve(item.job, [p for p in item.job.results if p is not None])


def _resolve(job: _Job, outcome: list[Prediction] | Exception) -> None:
    def settle() -> None:
        if job.future.done():
            return
        if isinstance(outcome, Exception):
            job.future.set_exception(outcome)
        else:
            job.future.set_result(outcome)

    job.loop.call_soon_threadsafe(settle)
