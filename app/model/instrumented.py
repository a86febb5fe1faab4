"""A backend wrapper that counts and times every batch for the metrics, then delegates.

Inference is measured by wrapping the backend, so the batcher carries no metrics code: whatever the
batcher does, every batch passes through ``predict``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from app.model.types import Backend, LabelSet, Prediction
from app.obs.metrics import Metrics


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
