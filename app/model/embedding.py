"""The default backend: sentences scored against label descriptions in an embedding space."""

from __future__ import annotations

from collections.abc import Sequence
from threading import Lock

import numpy as np
from numpy.typing import NDArray

from app.model.encoder import Encoder, encode_texts
from app.model.types import DEFAULT_LABELS, LabelSet, ModelCard, Prediction, Tokens

# Cosine similarities of a sentence to short descriptions sit in a narrow band (about 0..0.6);
# a low temperature spreads them into a usable distribution, a bias centres the multi-label sigmoid.
TEMPERATURE = 0.05
MULTI_LABEL_BIAS = 0.25


class EmbeddingBackend:
    """Zero-shot by similarity to each label's ``"name: description"`` embedding."""

    def __init__(self, encoder: Encoder) -> None:
        self._encoder = encoder
        self.default_labels = DEFAULT_LABELS
        self.card = ModelCard(name=encoder.name, backend="embedding", version=encoder.version)
        self._label_vectors: dict[str, NDArray[np.float32]] = {}
        self._lock = Lock()

    def tokenize(self, texts: Sequence[str]) -> list[Tokens]:
        return self._encoder.tokenize(texts)

    def predict(self, tokens: Sequence[Tokens], labels: LabelSet, multi_label: bool) -> list[Prediction]:
        similarities = self._encoder.encode(tokens) @ self._vectors_for(labels).T
        scores = zero_shot_scores(similarities, multi_label)
        return [
            Prediction(tuple(float(s) for s in row), row_tokens.truncated)
            for row, row_tokens in zip(scores, tokens, strict=True)
        ]

    def _vectors_for(self, labels: LabelSet) -> NDArray[np.float32]:
        with self._lock:
            vectors = self._label_vectors.get(labels.key)
            if vectors is None:
                prompts = [f"{label.name}: {label.description}" for label in labels.labels]
                vectors = encode_texts(self._encoder, prompts)
                if len(self._label_vectors) >= 256:
                    self._label_vectors.clear()
                self._label_vectors[labels.key] = vectors
            return vectors


def zero_shot_scores(similarities: NDArray[np.float32], multi_label: bool) -> NDArray[np.float64]:
    logits = similarities.astype(np.float64) / TEMPERATURE
    scores: NDArray[np.float64]
    if multi_label:
        scores = 1.0 / (1.0 + np.exp(-(logits - MULTI_LABEL_BIAS / TEMPERATURE)))
    else:
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        scores = exp / exp.sum(axis=1, keepdims=True)
    return scores
