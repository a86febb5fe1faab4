"""GET /metrics: the Prometheus text exposition of this worker's metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from app.api.deps import MetricsDep

router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
async def metrics(registry: MetricsDep) -> Response:
    """Prometheus metrics of this worker: requests, latency, stages, batches, queue, cache, model load."""
    return Response(registry.exposition(), media_type=CONTENT_TYPE_LATEST)
