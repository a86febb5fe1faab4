"""POST /v1/extract, POST /v1/classify, GET /v1/labels: validate → service → response.

The two classifying routes say where the inference side spent their time: a ``Server-Timing`` header
(queue, tokenize, inference in ms; browsers' developer tools show it) and the same stages in /metrics.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.api.deps import MetricsDep, ServiceDep
from app.batching import StageTimes
from app.errors import STATUS_TABLE
from app.obs.metrics import Metrics
from app.schemas import (
    ClassifyRequest,
    ClassifyResponse,
    ErrorResponse,
    ExtractRequest,
    ExtractResponse,
    LabelsResponse,
)

ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorResponse, "description": meaning}
    for status, meaning in {status: meaning for status, meaning in STATUS_TABLE.values()}.items()
}

router = APIRouter(prefix="/v1", tags=["claims"], responses=ERROR_RESPONSES)


@router.post("/extract")
async def extract(
    request: ExtractRequest, service: ServiceDep, response: Response, metrics: MetricsDep
) -> ExtractResponse:
    """Split `text` into sentences and label each one, with code-point offsets into `text`."""
    times = StageTimes()
    result = await service.extract(request, times)
    _report_stages(times, response, metrics)
    return result


@router.post("/classify")
async def classify(
    request: ClassifyRequest, service: ServiceDep, response: Response, metrics: MetricsDep
) -> ClassifyResponse:
    """Label sentences you have already split, returned in input order."""
    times = StageTimes()
    result = await service.classify(request, times)
    _report_stages(times, response, metrics)
    return result


@router.get("/labels")
async def labels(service: ServiceDep) -> LabelsResponse:
    """The default label set and the descriptions the classifier compares sentences against."""
    return service.labels()


def _report_stages(times: StageTimes, response: Response, metrics: Metrics) -> None:
    stages = {"queue": times.queue_s, "tokenize": times.tokenize_s, "inference": times.inference_s}
    response.headers["Server-Timing"] = server_timing(stages)
    metrics.record_stages(stages)


def server_timing(stages: dict[str, float]) -> str:
    """``queue;dur=1.25, tokenize;dur=0.40, ...``: each stage in milliseconds (W3C Server Timing)."""
    return ", ".join(f"{name};dur={seconds * 1000:.2f}" for name, seconds in stages.items())
