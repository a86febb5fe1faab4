"""Short Annotated aliases for route dependencies, and what the routes read of the app's engine."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends, Request

from app.batching import StageTimes
from app.errors import NotReady
from app.obs.metrics import Metrics
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


def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


def get_stage_times(request: Request) -> StageTimes:
    """This request's stage timings, filled by the batcher; ``RequestContext`` reports them."""
    times = StageTimes()
    request.state.stage_times = times
    return times


EngineDep = Annotated[Readiness, Depends(get_engine)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
ServiceDep = Annotated[ClaimService, Depends(get_service)]
StageTimesDep = Annotated[StageTimes, Depends(get_stage_times)]
