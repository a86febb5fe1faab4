"""Short Annotated aliases for route dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.classify.service import ClaimService
from app.errors import NotReady
from app.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_service(runtime: Annotated[Runtime, Depends(get_runtime)]) -> ClaimService:
    if runtime.service is None:
        raise NotReady()
    return runtime.service


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
ServiceDep = Annotated[ClaimService, Depends(get_service)]
