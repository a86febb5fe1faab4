"""The narrow backend protocol: texts and a label set in, one score row per text out.

The API and the batcher only know this module; torch and onnxruntime stay inside the implementations.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Label:
    name: str
    description: str


@dataclass(frozen=True, slots=True)
class LabelSet:
    """An ordered set of labels; ``key`` identifies it in caches and batches."""

    labels: tuple[Label, ...]
    key: str = field(init=False)

    def __post_init__(self) -> None:
        digest = hashlib.sha256()
        for label in self.labels:
            digest.update(f"{label.name}\x00{label.description}\x01".encode())
        object.__setattr__(self, "key", digest.hexdigest()[:16])

    @property
    def names(self) -> list[str]:
        return [label.name for label in self.labels]


DEFAULT_LABELS = LabelSet(
    (
        Label(
            "fact",
            "a factual statement of what is or was the case: an event, a number, a date, "
            "a record, or what someone said",
        ),
        Label(
            "assessment",
            "the author's own opinion, judgement, interpretation, speculation or prediction",
        ),
        Label(
            "prescription",
            "a recommendation or demand about what should or must be done; a call to action",
        ),
    )
)


@dataclass(frozen=True, slots=True)
class ModelCard:
    """What the API reports as ``model``."""

    name: str
    backend: str
    version: str


@dataclass(frozen=True, slots=True)
class Prediction:
    """Scores aligned with the label set's order, each in 0..1."""

    scores: tuple[float, ...]
    truncated: bool


class Backend(Protocol):
    card: ModelCard
    default_labels: LabelSet

    def predict(self, texts: Sequence[str], labels: LabelSet, multi_label: bool) -> list[Prediction]:
        """Exactly one prediction per text, in order. Runs on the inference thread, never the event loop."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens the model would see for ``text`` before truncation; used to sort and budget batches."""
        ...
