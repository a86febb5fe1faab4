"""The one test backend: the real model underneath, with faults, slowness and a record switched on by a test.

Production code has no fault switch; tests inject this through ``create_app(backend_loader=...)`` or hand
it to a ``Batcher``. It changes only ``predict`` (``BackendWrapper``): card, labels and tokens are the
real model's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from app.model.types import Backend, BackendWrapper, LabelSet, Prediction, Tokens
from app.settings import Settings


class FaultyBackend(BackendWrapper):
    def __init__(self, backend: Backend) -> None:
        super().__init__(backend)
        self.poison: str | None = None  # a batch holding a sentence with this text fails
        self.delay_s = 0.0  # sleep before each batch, as a slow model would
        self.gate = threading.Event()  # cleared: every batch waits until a test sets it again
        self.gate.set()
        self.batches: list[list[str]] = []  # the texts of every batch given to the model, in order
        self.computed = 0  # sentences actually given to the model
        self._lock = threading.Lock()

    def predict(self, tokens: Sequence[Tokens], labels: LabelSet, multi_label: bool) -> list[Prediction]:
        self.gate.wait(30)
        if self.delay_s:
            time.sleep(self.delay_s)
        texts = [row.text for row in tokens]
        with self._lock:
            self.batches.append(texts)
        if self.poison is not None and any(self.poison in text for text in texts):
            raise RuntimeError("injected failure")
        with self._lock:
            self.computed += len(texts)
        return self.inner.predict(tokens, labels, multi_label)

    def loader(self, settings: Settings) -> Backend:
        """For ``create_app(backend_loader=...)``: every app built with it shares this backend."""
        return self
