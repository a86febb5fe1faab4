"""What an operator sees of a running service: Prometheus metrics, request ids and JSON logs.

Each app owns its own metrics registry, so several apps in one process (tests, several workers in one
interpreter) never share or clash over counters. Inference is measured by wrapping the backend, so the
batcher carries no metrics code: whatever the batcher does, every batch passes through ``predict``.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from app.classify.backend import Backend, LabelSet, Prediction

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_SHAPE = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
_request_id: ContextVar[str | None] = ContextVar("claimsift_request_id", default=None)

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


def current_request_id() -> str | None:
    """The id of the request this code runs for, or None outside a request (the inference thread)."""
    return _request_id.get()


def begin_request(offered: str | None) -> str:
    """Adopt the caller's X-Request-ID when it is a sane token, else make one; it stays set for the task.

    Not reset on the way out on purpose: the server's last-resort error handler runs after the
    middleware has returned and must still see the id. Each request runs in its own task under uvicorn.
    """
    request_id = offered if offered and _REQUEST_ID_SHAPE.fullmatch(offered) else uuid.uuid4().hex
    _request_id.set(request_id)
    return request_id


class Metrics:
    """The service's Prometheus metrics; ``exposition()`` is the body of GET /metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.requests = Counter(
            "claimsift_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "claimsift_request_duration_seconds",
            "Time from request start to the last byte of the response, by route and method.",
            ["route", "method"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.in_flight = Gauge("claimsift_requests_in_flight", "Requests being served.", registry=registry)
        self.sentences = Counter(
            "claimsift_sentences_classified",
            "Sentences the model scored (cache hits excluded).",
            registry=registry,
        )
        self.batch_size = Histogram(
            "claimsift_batch_size",
            "Sentences per inference batch.",
            buckets=_BATCH_BUCKETS,
            registry=registry,
        )
        self.inference = Histogram(
            "claimsift_inference_seconds",
            "Time the model spent on one batch.",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.inference_failures = Counter(
            "claimsift_inference_failures", "Batches the model failed on.", registry=registry
        )
        self.queue_depth = Gauge(
            "claimsift_queue_depth", "Sentences waiting for inference.", registry=registry
        )
        self._cache = _CacheCollector()
        registry.register(self._cache)
        self.model_load = Gauge(
            "claimsift_model_load_seconds", "Time the model took to load (0 until loaded).", registry=registry
        )
        self.model_ready = Gauge(
            "claimsift_model_ready", "1 once the model serves requests, 0 before.", registry=registry
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def record_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route=route, method=method, status=str(status)).inc()
        self.latency.labels(route=route, method=method).observe(seconds)

    def record_model_loaded(self, seconds: float) -> None:
        self.model_load.set(seconds)
        self.model_ready.set(1)

    def watch_queue(self, depth: Callable[[], int]) -> None:
        """Read the queue depth at scrape time, so the batcher needs no metrics code."""
        self.queue_depth.set_function(lambda: float(depth()))

    def watch_cache(self, cache: CacheStats) -> None:
        """Read the sentence cache's own counters at scrape time."""
        self._cache.cache = cache


class CacheStats(Protocol):
    """What the metrics read of the sentence cache (``app.cache.SentenceCache``)."""

    hits: int
    misses: int

    @property
    def size_bytes(self) -> int: ...

    def __len__(self) -> int: ...


class _CacheCollector(Collector):
    """Cache lookups, hit ratio and size, read from the cache when Prometheus scrapes."""

    cache: CacheStats | None = None

    def collect(self) -> Iterator[Metric]:
        cache = self.cache
        hits, misses = (cache.hits, cache.misses) if cache is not None else (0, 0)
        lookups = CounterMetricFamily(
            "claimsift_cache_lookups", "Sentence cache lookups by result.", labels=["result"]
        )
        lookups.add_metric(["hit"], hits)
        lookups.add_metric(["miss"], misses)
        yield lookups
        yield GaugeMetricFamily(
            "claimsift_cache_hit_ratio",
            "Cache hits / lookups since start (0 before any).",
            value=hits / (hits + misses) if hits + misses else 0.0,
        )
        yield GaugeMetricFamily(
            "claimsift_cache_bytes", "Bytes the cache holds.", value=cache.size_bytes if cache else 0
        )
        yield GaugeMetricFamily(
            "claimsift_cache_entries", "Sentences the cache holds.", value=len(cache) if cache else 0
        )


class InstrumentedBackend:
    """A backend that counts and times every batch it is given, then delegates to the real one."""

    def __init__(self, backend: Backend, metrics: Metrics) -> None:
        self._backend = backend
        self._metrics = metrics
        self.card = backend.card
        self.default_labels = backend.default_labels

    def predict(self, texts: Sequence[str], labels: LabelSet, multi_label: bool) -> list[Prediction]:
        started = time.perf_counter()
        try:
            predictions = self._backend.predict(texts, labels, multi_label)
        except Exception:
            self._metrics.inference_failures.inc()
            raise
        self._metrics.inference.observe(time.perf_counter() - started)
        self._metrics.batch_size.observe(len(texts))
        self._metrics.sentences.inc(len(texts))
        return predictions

    def count_tokens(self, text: str) -> int:
        return self._backend.count_tokens(text)

    def __getattr__(self, name: str) -> Any:
        # Anything else a backend offers (added later) reaches the real one unchanged.
        return getattr(self._backend, name)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any ``extra`` fields (request id)."""

    # Record attributes that are not ``extra`` fields (uvicorn's color_message repeats the message).
    _STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName", "color_message"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in self._STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def _attach_request_id(record: logging.LogRecord) -> bool:
    # Runs in the logging call's own context, where the request's id is still set.
    if not hasattr(record, "request_id"):
        request_id = current_request_id()
        if request_id is not None:
            record.request_id = request_id
    return True


def configure_logging(level: str, log_format: str) -> None:
    """Route every logger (uvicorn's included) to one stderr handler in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_attach_request_id)
    if log_format == "json":
        formatter: logging.Formatter = JsonFormatter()
        formatter.converter = time.gmtime
        handler.setFormatter(formatter)
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # Our access log replaces uvicorn's: it carries the request id, route and duration.
    logging.getLogger("uvicorn.access").disabled = True
