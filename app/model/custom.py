"""Custom label sets: scored against their descriptions, or by a small head fitted on their examples.

Descriptions only: the cosine of a sentence to each ``"name: description"`` embedding (the untuned base
encoder), turned into calibrated scores. An untuned encoder separates topics well and sentence forms
(question or statement) hardly at all, so the calibration makes its scores modest and `uncertain` fires
when it cannot tell.

With examples: a multinomial logistic regression per label set (cached by the set's key), fitted on the
examples and the description embeddings over three views of a sentence: the base encoder (meaning and
topic), the adapted encoder when there is one (what kind of claim it is) and its punctuation (form:
questions, quotations, numbers). One-label and multi-label sets fit one binary head per label, against the
other labels' examples and a fixed set of background sentences.

The constants below were fitted on the custom-label benchmark (``data/custom/``) by
``python scripts/custom_labels.py fit``, which prints them, each set scored with constants fitted on the
other sets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from app.model.background import BACKGROUND
from app.model.types import LabelSet

Vectors = NDArray[np.float64]
Embed = Callable[[Sequence[str]], Vectors]

PUNCTUATION = tuple("?!\"“”‘’'.,;:()[]-–—…/%$&*#@")
FORM_WEIGHT = 0.5  # the punctuation view against the unit-length embeddings: form helps, meaning leads
L2 = 0.1  # ridge penalty of the heads (1 / C of C = 10): few examples, so some shrinkage
STEPS = 300  # gradient steps: the heads are tiny (at most 16 x 17 rows), this converges


@dataclass(frozen=True, slots=True)
class Calibration:
    """``softmax(logits / temperature)`` for one label of several; ``sigmoid(slope * logit + bias)`` alone."""

    temperature: float
    slope: float
    bias: float


# Fitted by `python scripts/custom_labels.py fit` (see the module docstring).
DESCRIPTIONS = Calibration(temperature=0.0668, slope=9.49, bias=-0.769)
EXAMPLES = Calibration(temperature=0.108, slope=3.66, bias=0.857)


def form_features(texts: Sequence[str]) -> Vectors:
    """Which punctuation marks, and whether digits, occur: what a mean-pooled embedding blurs."""
    rows = [
        [float(mark in text) for mark in PUNCTUATION] + [float(any(c.isdigit() for c in text))]
        for text in texts
    ]
    return np.asarray(rows, dtype=np.float64) * FORM_WEIGHT


def softmax(logits: Vectors) -> Vectors:
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    result: Vectors = exp / exp.sum(axis=1, keepdims=True)
    return result


def sigmoid(values: Vectors) -> Vectors:
    result: Vectors = 1.0 / (1.0 + np.exp(-values))
    return result


def fit_softmax_head(
    features: Vectors, targets: Sequence[int], classes: int, balanced: bool = False
) -> tuple[Vectors, Vectors]:
    """Weights and bias of an L2-regularised multinomial logistic regression, by plain gradient descent.

    Deterministic (no random start) and dependency-free; the data is a few hundred rows at most.
    ``balanced`` weighs each class equally, so that a logit of 0 means "as likely as not" whatever the
    number of examples on each side.
    """
    rows, dim = features.shape
    target = np.asarray(targets)
    onehot = np.eye(classes)[target]
    counts = np.bincount(target, minlength=classes).astype(np.float64)
    row_weight = rows / (classes * counts[target]) if balanced else np.ones(rows)
    weight, bias = np.zeros((dim, classes)), np.zeros(classes)
    # 1/L step for the softmax loss: its Hessian is bounded by 0.5 * max weight * ||X||^2 / n + L2.
    lipschitz = 0.5 * float(row_weight.max()) * float(np.linalg.norm(features, 2)) ** 2 / rows + L2
    for _ in range(STEPS):
        error = (softmax(features @ weight + bias) - onehot) * row_weight[:, None]
        weight -= (features.T @ error / rows + L2 * weight) / lipschitz
        bias -= error.mean(axis=0) / lipschitz
    return weight, bias


@dataclass(frozen=True)
class ExampleHead:
    """A fitted head: logits for each label, from the views of a sentence."""

    weight: Vectors
    bias: Vectors

    def logits(self, features: Vectors) -> Vectors:
        result: Vectors = features @ self.weight + self.bias
        return result


class CustomScorer:
    """Scores for custom label sets; ``views`` gives the feature rows of texts (embeddings and form)."""

    def __init__(self, describe: Embed, views: Embed) -> None:
        self._describe = describe  # the base encoder: what descriptions are compared with
        self._views = views
        self._background: Vectors | None = None

    def description_vectors(self, labels: LabelSet) -> tuple[Vectors, Vectors]:
        """Each label's description embedding, and its mean similarity to the background sentences.

        Some descriptions sit closer to every sentence than others ("a sentence that asks a question" is
        near any sentence); subtracting what a typical sentence scores removes that pull (contextual
        calibration), so a label wins only where a sentence matches it more than sentences usually do.
        """
        vectors = self._describe([f"{label.name}: {label.description}" for label in labels.labels])
        typical = (self._describe(BACKGROUND) @ vectors.T).mean(axis=0)
        return vectors, typical

    def similarities(self, sentences: Vectors, described: tuple[Vectors, Vectors]) -> Vectors:
        vectors, typical = described
        result: Vectors = sentences @ vectors.T - typical
        return result

    def zero_shot(self, sentences: Vectors, described: tuple[Vectors, Vectors], multi_label: bool) -> Vectors:
        return calibrated(self.similarities(sentences, described), DESCRIPTIONS, multi_label)

    def fit(self, labels: LabelSet, multi_label: bool) -> list[ExampleHead]:
        """One multinomial head over the labels, or (multi-label, one label) a binary head per label."""
        texts, targets = training_rows(labels)
        features = self._views(texts)
        if not multi_label:
            return [ExampleHead(*fit_softmax_head(features, targets, len(labels.labels)))]
        background = self.background()
        heads = []
        for index in range(len(labels.labels)):
            positive = np.asarray(targets) == index
            rows = np.concatenate([features[positive], features[~positive], background])
            binary = [1] * int(positive.sum()) + [0] * (len(rows) - int(positive.sum()))
            weight, bias = fit_softmax_head(rows, binary, 2, balanced=True)
            heads.append(ExampleHead(weight[:, 1:] - weight[:, :1], bias[1:] - bias[:1]))
        return heads

    def score(self, heads: Sequence[ExampleHead], sentences: Vectors, multi_label: bool) -> Vectors:
        return calibrated(self.logits(heads, sentences), EXAMPLES, multi_label)

    def logits(self, heads: Sequence[ExampleHead], sentences: Vectors) -> Vectors:
        """Before calibration: what `scripts/custom_labels.py fit` calibrates."""
        return np.concatenate([head.logits(sentences) for head in heads], axis=1)

    def background(self) -> Vectors:
        if self._background is None:
            self._background = self._views(BACKGROUND)
        return self._background


def training_rows(labels: LabelSet) -> tuple[list[str], list[int]]:
    """Every example and every label's description (one more example), with the label's index."""
    texts: list[str] = []
    targets: list[int] = []
    for index, label in enumerate(labels.labels):
        for text in (*label.examples, f"{label.name}: {label.description}"):
            texts.append(text)
            targets.append(index)
    return texts, targets


def calibrated(logits: Vectors, calibration: Calibration, multi_label: bool) -> Vectors:
    if multi_label:
        return sigmoid(calibration.slope * logits + calibration.bias)
    return softmax(logits / calibration.temperature)
