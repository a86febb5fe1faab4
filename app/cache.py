"""A bounded LRU cache of sentence predictions, so a re-submitted draft only classifies what changed.

Entries are keyed by model version, label set, multi-label mode and the exact sentence text; a new model
or a different label set never sees another's rows. The bound is in bytes, not entries, because one
"sentence" of a text without punctuation can be 100,000 characters long.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from app.model.types import Prediction

# Dict slot, key tuple, Prediction and its score floats, beyond the text itself (tracemalloc: ~420).
ENTRY_OVERHEAD_BYTES = 450


@dataclass(frozen=True, slots=True)
class CacheScope:
    """What, besides the text, decides a prediction."""

    model_version: str
    label_key: str
    multi_label: bool


_Key = tuple[str, str, bool, str]


class SentenceCache:
    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._entries: OrderedDict[_Key, tuple[Prediction, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self._max_bytes > 0

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def get_many(self, scope: CacheScope, texts: Sequence[str]) -> list[Prediction | None]:
        if not self.enabled:
            return [None] * len(texts)
        found: list[Prediction | None] = []
        with self._lock:
            for text in texts:
                key = _key(scope, text)
                entry = self._entries.get(key)
                if entry is None:
                    found.append(None)
                    continue
                self._entries.move_to_end(key)
                found.append(entry[0])
            hits = sum(f is not None for f in found)
            self.hits += hits
            self.misses += len(texts) - hits
        return found

    def put_many(self, scope: CacheScope, texts: Sequence[str], predictions: Sequence[Prediction]) -> None:
        if not self.enabled:
            return
        with self._lock:
            for text, prediction in zip(texts, predictions, strict=True):
                cost = sys.getsizeof(text) + ENTRY_OVERHEAD_BYTES
                if cost > self._max_bytes:
                    continue
                key = _key(scope, text)
                previous = self._entries.pop(key, None)
                if previous is not None:
                    self._bytes -= previous[1]
                self._entries[key] = (prediction, cost)
                self._bytes += cost
            while self._bytes > self._max_bytes:
                _, (_, cost) = self._entries.popitem(last=False)
                self._bytes -= cost


def _key(scope: CacheScope, text: str) -> _Key:
    return (scope.model_version, scope.label_key, scope.multi_label, text)
