"""The narrow backend protocol and its value types: texts → tokens, tokens and a label set → score rows.

The service and the batcher only know this module; torch and onnxruntime stay inside the implementations.
A sentence is tokenized once: the batcher budgets its batches by the tokens ``tokenize`` returns and hands
the same tokens to ``predict``.
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
    examples: tuple[str, ...] = ()  # sentences that carry the label (custom label sets)


@dataclass(frozen=True, slots=True)
class LabelSet:
    """An ordered set of labels; ``key`` identifies it in caches and batches."""

    labels: tuple[Label, ...]
    key: str = field(init=False)

    def __post_init__(self) -> None:
        digest = hashlib.sha256()
        for label in self.labels:
            digest.update(f"{label.name}\x00{label.description}\x01".encode())
            for example in label.examples:
                digest.update(f"{example}\x02".encode())
        object.__setattr__(self, "key", digest.hexdigest()[:16])

    @property
    def names(self) -> list[str]:
        return [label.name for label in self.labels]

    @property
    def has_examples(self) -> bool:
        return any(label.examples for label in self.labels)


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


@dataclass(frozen=True, slots=True)
class Tokens:
    """One text as the model sees it: its token ids, cut to the model's window (``truncated`` then)."""

    text: str
    ids: list[int]
    truncated: bool

    def __len__(self) -> int:
        return len(self.ids)


class Backend(Protocol):
    @property
    def card(self) -> ModelCard: ...

    @property
    def default_labels(self) -> LabelSet: ...

    def tokenize(self, texts: Sequence[str]) -> list[Tokens]:
        """Each text as ``predict`` will take it; the batcher sorts and budgets batches by ``len``."""
        ...

    def predict(self, tokens: Sequence[Tokens], labels: LabelSet, multi_label: bool) -> list[Prediction]:
        """Exactly one prediction per text, in order. Runs on the inference thread, never the event loop."""
        ...


class BackendWrapper:
    """A backend around another that changes only ``predict``: card, labels and tokens are the inner one's."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner

    @property
    def card(self) -> ModelCard:
        return self.inner.card

    @property
    def default_labels(self) -> LabelSet:
        return self.inner.default_labels

    def tokenize(self, texts: Sequence[str]) -> list[Tokens]:
        return self.inner.tokenize(texts)

    def predict(self, tokens: Sequence[Tokens], labels: LabelSet, multi_label: bool) -> list[Prediction]:
        return self.inner.predict(tokens, labels, multi_label)


def predict_texts(
    backend: Backend, texts: Sequence[str], labels: LabelSet, multi_label: bool
) -> list[Prediction]:
    """Tokenize and predict in one call, for callers outside the batcher (tools, the baseline, tests)."""
    return backend.predict(backend.tokenize(texts), labels, multi_label)
