"""The embedding backend: sentences scored against label descriptions, or by heads fitted on examples."""

from __future__ import annotations

from collections.abc import Sequence
from threading import Lock

import numpy as np

from app.model.custom import CustomScorer, ExampleHead, Vectors, form_features
from app.model.encoder import Encoder, encode_texts
from app.model.types import DEFAULT_LABELS, LabelSet, ModelCard, Prediction, Tokens

FITTED_LIMIT = 256  # label sets whose vectors or heads are kept; past it the cache starts again


class EmbeddingBackend:
    """Zero-shot by similarity to each label's ``"name: description"`` embedding; with examples, a head.

    ``claims`` (the adapted encoder, when there is one) is a second view of each sentence for heads fitted
    on examples: it knows fact from opinion, which the untuned encoder hardly does. Both encoders share
    the base vocabulary (the overlay changes layers only), so one tokenization serves both.
    """

    def __init__(self, encoder: Encoder, claims: Encoder | None = None) -> None:
        self._encoder = encoder
        self._claims = claims
        self.default_labels = DEFAULT_LABELS
        self.card = ModelCard(name=encoder.name, backend="embedding", version=encoder.version)
        self.custom = CustomScorer(self.describe, lambda texts: self.views(self.tokenize(texts)))
        self._label_vectors: dict[str, tuple[Vectors, Vectors]] = {}
        self._heads: dict[tuple[str, bool], list[ExampleHead]] = {}
        self._lock = Lock()

    def tokenize(self, texts: Sequence[str]) -> list[Tokens]:
        return self._encoder.tokenize(texts)

    def predict(self, tokens: Sequence[Tokens], labels: LabelSet, multi_label: bool) -> list[Prediction]:
        if labels.has_examples:
            heads = self.heads_for(labels, multi_label)
            scores = self.custom.score(heads, self.views(tokens), multi_label)
        else:
            vectors = self._encoder.encode(tokens).astype(np.float64)
            scores = self.custom.zero_shot(vectors, self._vectors_for(labels), multi_label)
        return [
            Prediction(tuple(float(s) for s in row), row_tokens.truncated)
            for row, row_tokens in zip(scores, tokens, strict=True)
        ]

    def describe(self, texts: Sequence[str]) -> Vectors:
        return encode_texts(self._encoder, texts).astype(np.float64)

    def views(self, tokens: Sequence[Tokens]) -> Vectors:
        """The feature rows heads see: base embedding, adapted embedding (if any), punctuation."""
        parts = [self._encoder.encode(tokens).astype(np.float64)]
        if self._claims is not None:
            parts.append(self._claims.encode(tokens).astype(np.float64))
        parts.append(form_features([row.text for row in tokens]))
        return np.concatenate(parts, axis=1)

    def _vectors_for(self, labels: LabelSet) -> tuple[Vectors, Vectors]:
        with self._lock:
            vectors = self._label_vectors.get(labels.key)
            if vectors is None:
                vectors = self.custom.description_vectors(labels)
                if len(self._label_vectors) >= FITTED_LIMIT:
                    self._label_vectors.clear()
                self._label_vectors[labels.key] = vectors
            return vectors

    def heads_for(self, labels: LabelSet, multi_label: bool) -> list[ExampleHead]:
        """Fitted once per label set and mode (the inference thread is the only caller that fits)."""
        with self._lock:
            heads = self._heads.get((labels.key, multi_label))
            if heads is None:
                heads = self.custom.fit(labels, multi_label)
                if len(self._heads) >= FITTED_LIMIT:
                    self._heads.clear()
                self._heads[(labels.key, multi_label)] = heads
            return heads
