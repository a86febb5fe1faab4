"""What the lifespan builds and tears down: backend → batcher → service, loaded off the event loop."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from app.batching import Batcher
from app.classify.backend import Backend
from app.classify.factory import load_backend
from app.classify.service import ClaimService
from app.observability import InstrumentedBackend, Metrics
from app.settings import Settings

BackendLoader = Callable[[Settings], Backend]

log = logging.getLogger(__name__)


class Runtime:
    """Holds the service once the model is loaded; until then the API answers 503."""

    def __init__(
        self, settings: Settings, metrics: Metrics | None = None, backend_loader: BackendLoader = load_backend
    ) -> None:
        self.settings = settings
        self.metrics = metrics or Metrics()
        self._backend_loader = backend_loader  # tests swap in a backend that fails on demand
        self.service: ClaimService | None = None
        self.batcher: Batcher | None = None
        self.load_error: str | None = None
        self.load_seconds: float | None = None

    async def load(self) -> None:
        started = time.perf_counter()
        try:
            loaded = await asyncio.to_thread(self._backend_loader, self.settings)
        except Exception as exc:  # any failure leaves the service unready, with the reason logged
            self.load_error = f"{type(exc).__name__}: {exc}"
            log.error("model failed to load; /readyz stays 503: %s", self.load_error)
            return
        backend = InstrumentedBackend(loaded, self.metrics)
        batcher = Batcher(
            backend,
            max_batch=self.settings.batch_size,
            max_wait_s=self.settings.batch_wait_ms / 1000,
            max_queued=self.settings.max_queued_sentences,
            token_budget=self.settings.batch_tokens,
        )
        batcher.start()
        self.batcher = batcher
        self.service = ClaimService(backend, batcher, self.settings)
        self.load_seconds = time.perf_counter() - started
        self.metrics.watch_queue(lambda: batcher.queued)
        self.metrics.watch_cache(self.service.cache)
        self.metrics.record_model_loaded(self.load_seconds)
        log.info("model %s (%s) ready in %.1f s", backend.card.name, backend.card.backend, self.load_seconds)

    def close(self) -> None:
        if self.batcher is not None:
            self.batcher.stop()
