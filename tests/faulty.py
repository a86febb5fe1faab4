"""A test-only backend: the real model underneath, with failures and slowness switched on by a test.

Production code has no fault switch; tests inject this through ``create_app(backend_loader=...)``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from app.model.types import Backend, LabelSet, Prediction
from app.settings import Settings


class FaultyBackend:
    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self.card = backend.card
        self.default_labels = backend.default_labels
        self.poison: str | None = None  # a batch holding a sentence with this text fails
        self.delay_s = 0.0  # sleep before each batch, as a slow model would
        self.computed = 0  # sentences actually given to the model
        self._lock = threading.Lock()

    def predict(self, texts: Sequence[str], labels: LabelSet, multi_label: bool) -> list[Prediction]:
        if self.delay_s:
            time.sleep(self.delay_s)
        if self.poison is not None and any(self.poison in text for text in texts):
            raise RuntimeError("injected failure")
        with self._lock:
            self.computed += len(texts)
        return self._backend.predict(texts, labels, multi_label)

    def count_tokens(self, text: str) -> int:
        return self._backend.count_tokens(text)

    def loader(self, settings: Settings) -> Backend:
        """For ``create_app(backend_loader=...)``: every app built with it shares this backend."""
        return self
