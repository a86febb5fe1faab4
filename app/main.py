"""The app factory: settings in, a FastAPI app out; the lifespan loads the model and drains on stop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from app import __version__
from app.api import docs, extract, health, web
from app.api import metrics as metrics_route
from app.api.auth import install_access_control
from app.api.errors import install_error_handlers
from app.api.guard import BodyGuard
from app.api.middleware import Deadline, RequestContext
from app.classify.factory import load_backend
from app.observability import Metrics
from app.runtime import BackendLoader, Runtime
from app.settings import Settings


def create_app(settings: Settings | None = None, backend_loader: BackendLoader = load_backend) -> FastAPI:
    settings = settings or Settings()
    metrics = Metrics()
    runtime = Runtime(settings, metrics, backend_loader)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Load in the background so /healthz answers and /readyz says 503 while the model loads.
        loading = asyncio.create_task(runtime.load())
        try:
            yield
        finally:
            loading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loading
            runtime.close()

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
    app.state.runtime = runtime
    app.state.settings = settings
    app.state.metrics = metrics
    app.include_router(extract.router)
    app.include_router(health.router)
    app.include_router(metrics_route.router)
    app.include_router(web.router)
    app.include_router(docs.router)
    install_error_handlers(app)
    app.add_middleware(BodyGuard, max_body_bytes=settings.max_body_bytes)
    # Outside the body guard: a request without a valid key is refused before its body is read.
    install_access_control(app, settings)
    # Added last, so outermost: the deadline covers reading the body; the id and the log cover all.
    app.add_middleware(Deadline, seconds=settings.request_timeout_s)
    app.add_middleware(RequestContext, metrics=metrics, log_request_text=settings.log_request_text)
    return app
