"""What an operator sees of a running service: Prometheus metrics (request ids and JSON logs: context, logs).

Each app owns its own metrics registry, so several apps in one process (tests, several workers in one
interpreter) never share or clash over counters. The batcher reports each batch here (``batch_done``,
``batch_failed``) and the routes each request's stage timings, so neither holds metrics code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


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
        self.stages = Histogram(
            "claimsift_request_stage_seconds",
            "Time a classifying request spent per stage: queue (waiting for the inference thread), "
            "tokenize, inference (also in its Server-Timing header).",
            ["stage"],
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

    def batch_done(self, sentences: int, seconds: float) -> None:
        """One batch the model scored (called on the inference thread)."""
        self.inference.observe(seconds)
        self.batch_size.observe(sentences)
        self.sentences.inc(sentences)

    def batch_failed(self) -> None:
        self.inference_failures.inc()

    def record_stages(self, seconds: Mapping[str, float]) -> None:
        """A request's time per stage, as in its Server-Timing header."""
        for stage, spent in seconds.items():
            self.stages.labels(stage=stage).observe(spent)

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
