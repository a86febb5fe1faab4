"""The app factory: settings in, a FastAPI app out; the lifespan loads the model and drains on stop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from app import __version__
from app.api import extract, health
from app.api.errors import install_error_handlers
from app.api.guard import BodyGuard
from app.runtime import Runtime
from app.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = Runtime(settings)

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
    )
    app.state.runtime = runtime
    app.state.settings = settings
    app.include_router(extract.router)
    app.include_router(health.router)
    install_error_handlers(app)
    app.add_middleware(BodyGuard, max_body_bytes=settings.max_body_bytes)
    return app
