"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api.deps import RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up and its event loop answers (200 even while the model loads)."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "The model is not loaded (yet, or it failed)."}})
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    """200 once the model is loaded and requests can be served, 503 before."""
    if runtime.service is None:
        reason = f"model failed to load: {runtime.load_error}" if runtime.load_error else "model loading"
        return JSONResponse({"status": "not ready", "reason": reason}, status_code=503)
    return JSONResponse({"status": "ready", "model": runtime.service.model.model_dump()})
