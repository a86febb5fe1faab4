"""Short Annotated aliases for route dependencies, and what the routes read of the app's engine."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends, Request

from app.errors import NotReady
from app.service import ClaimService


class Readiness(Protocol):
    """What the routes read of the lifespan's engine (``app.main.Engine``): the service once loaded."""

    @property
    def service(self) -> ClaimService | None: ...

    @property
    def load_error(self) -> str | None: ...


def get_engine(request: Request) -> Readiness:
    engine: Readiness = request.app.state.engine
    return engine


def get_service(engine: Annotated[Readiness, Depends(get_engine)]) -> ClaimService:
    if engine.service is None:
        raise NotReady()
    return engine.service


EngineDep = Annotated[Readiness, Depends(get_engine)]
ServiceDep = Annotated[ClaimService, Depends(get_service)]
