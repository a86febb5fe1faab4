"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api.deps import EngineDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up and its event loop answers (200 even while the model loads)."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "The model is not loaded (yet, or it failed)."}})
async def readyz(engine: EngineDep) -> JSONResponse:
    """200 once the model is loaded and requests can be served, 503 before."""
    if engine.service is None:
        reason = f"model failed to load: {engine.load_error}" if engine.load_error else "model loading"
        return JSONResponse({"status": "not ready", "reason": reason}, status_code=503)
    return JSONResponse({"status": "ready", "model": engine.service.model.model_dump()})
