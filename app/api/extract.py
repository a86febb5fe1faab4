"""POST /v1/extract, POST /v1/classify, GET /v1/labels: validate → service → response.

The two classifying routes fill the request's ``StageTimes``; the request middleware turns them into a
``Server-Timing`` header and /metrics.
"""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import ServiceDep, StageTimesDep
from app.errors import STATUS_TABLE
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
async def extract(request: ExtractRequest, service: ServiceDep, times: StageTimesDep) -> ExtractResponse:
    """Split `text` into sentences and label each one, with code-point offsets into `text`."""
    return await service.extract(request, times)


@router.post("/classify")
async def classify(request: ClassifyRequest, service: ServiceDep, times: StageTimesDep) -> ClassifyResponse:
    """Label sentences you have already split, returned in input order."""
    return await service.classify(request, times)


@router.get("/labels")
async def labels(service: ServiceDep) -> LabelsResponse:
    """The default label set and the descriptions the classifier compares sentences against."""
    return service.labels()
