"""The app factory: settings in, a FastAPI app out. The lifespan builds backend → batcher → cache → service.

``create_app`` builds nothing heavy: the lifespan starts loading the model in the background (so
``/healthz`` answers and ``/readyz`` says 503 meanwhile) and, on shutdown, drains the batcher.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable

from fastapi import FastAPI

from app import __version__
from app.api import docs, extract, health, web
from app.api import metrics as metrics_route
from app.api.auth import install_access_control
from app.api.errors import install_error_handlers
from app.api.guard import BodyGuard
from app.api.keyring import KeyRing
from app.api.middleware import Deadline, RequestContext
from app.batching import Batcher
from app.model.loader import load_backend
from app.model.types import Backend
from app.obs.metrics import Metrics
from app.service import ClaimService
from app.settings import Settings

BackendLoader = Callable[[Settings], Backend]

log = logging.getLogger(__name__)


class Engine:
    """What the lifespan builds and tears down; holds the service once the model is loaded (503 before)."""

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
        """Build backend → batcher → service off the event loop; a failure is kept in ``load_error``."""
        started = time.perf_counter()
        try:
            backend = await asyncio.to_thread(self._backend_loader, self.settings)
        except Exception as exc:  # any failure leaves the service unready, with the reason logged
            self.load_error = f"{type(exc).__name__}: {exc}"
            log.error("model failed to load; /readyz stays 503: %s", self.load_error)
            return
        batcher = Batcher(
            backend,
            max_batch=self.settings.batch_size,
            max_wait_s=self.settings.batch_wait_ms / 1000,
            max_queued=self.settings.max_queued_sentences,
            token_budget=self.settings.batch_tokens,
            observer=self.metrics,
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


def create_app(settings: Settings | None = None, backend_loader: BackendLoader = load_backend) -> FastAPI:
    settings = settings or Settings()
    metrics = Metrics()
    engine = Engine(settings, metrics, backend_loader)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Load in the background so /healthz answers and /readyz says 503 while the model loads.
        loading = asyncio.create_task(engine.load())
        key_ring: KeyRing | None = app.state.key_ring
        if key_ring is not None:
            key_ring.start()  # re-read the keys file when it changes and on SIGHUP
        try:
            yield
        finally:
            if key_ring is not None:
                await key_ring.stop()
            loading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loading
            engine.close()

    app = FastAPI(
        title="claimsift",
        version=__version__,
        summary="Label each sentence of an article as fact, assessment or prescription.",
        lifespan=lifespan,
        # FastAPI's pages load Swagger UI and ReDoc from a CDN: app/api/docs.py serves /docs offline.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.engine = engine
    app.state.settings = settings
    app.state.metrics = metrics
    app.include_router(extract.router)
    app.include_router(health.router)
    app.include_router(metrics_route.router)
    app.include_router(web.router)
    app.include_router(docs.router)
    install_error_handlers(app)
    app.add_middleware(BodyGuard, max_body_bytes=settings.max_body_bytes)
    # Outside the body guard: the deadline covers reading the body.
    app.add_middleware(Deadline, seconds=settings.request_timeout_s)
    # Outside both: a request without a valid key is refused before its body is read, and a key's
    # counters see the deadline's 504.
    install_access_control(app, settings)
    # Added last, so outermost: the id and the log cover every answer.
    app.add_middleware(RequestContext, metrics=metrics, log_request_text=settings.log_request_text)
    return app
