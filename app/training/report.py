"""How good a model is on labelled rows: macro-F1, per-class scores, confusion, calibration (ECE).

Shared by `claimsift eval` (a file scored through the service) and `claimsift train` (held-out and
cross-validation folds), so both print numbers computed the same way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from numpy.typing import NDArray

from app.model.types import DEFAULT_LABELS

THREE_CLASS = tuple(DEFAULT_LABELS.names)
TWO_CLASS = ("fact", "opinion")
# A two-class (subjectivity) file folds the author's evaluations and prescriptions into "opinion".
TO_TWO_CLASS = {"fact": "fact", "assessment": "opinion", "prescription": "opinion"}
ECE_BINS = 10


@dataclass(frozen=True, slots=True)
class ClassMetrics:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True, slots=True)
class Report:
    file: str
    model: str
    n: int
    labels: list[str]
    accuracy: float
    macro_f1: float
    per_class: dict[str, ClassMetrics]
    confusion: list[list[int]]  # rows: gold label, columns: predicted label, in ``labels`` order
    ece: float
    context: bool = True  # the request option `context` the service was asked with
    unlabelled: int = 0  # gold rows the service gave no label (skipped as furniture, or not found)
    label_sources: dict[str, int] = field(default_factory=dict)  # `model` / `quotation` row counts
    breakdown: dict[str, dict[str, float]] = field(default_factory=dict)  # accuracy by role, by source

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


NO_LABEL = -1  # the service gave the row no label (skipped as furniture, or not found)
FROM_SCORES = -2  # the row's label is its top score (folded for a fact/opinion file)


def metrics(
    gold: NDArray[np.int64],
    probabilities: NDArray[np.float64],
    space: Sequence[str],
    file: str,
    model: str,
    decided: NDArray[np.int64] | None = None,
) -> Report:
    """The report for gold label indices into ``space`` and three-class probabilities (rows).

    ``decided``, per row: the three-class label index a rule gave it instead of the top score (a quoted
    sentence is a fact), ``NO_LABEL`` (a miss for accuracy and recall, outside the confusion matrix and
    the calibration), or ``FROM_SCORES`` (the default: the top score).
    """
    if decided is None:
        decided = np.full(len(gold), FROM_SCORES)
    to_space = np.arange(len(THREE_CLASS))
    if tuple(space) == TWO_CLASS and probabilities.shape[1] == len(THREE_CLASS):
        # Sum the scores of the labels folded together, so prediction and confidence stay consistent.
        fold = np.array(
            [[float(TO_TWO_CLASS[name] == target) for target in TWO_CLASS] for name in THREE_CLASS]
        )
        probabilities = probabilities @ fold
        to_space = np.array([TWO_CLASS.index(TO_TWO_CLASS[name]) for name in THREE_CLASS])
    by_rule = to_space[np.maximum(decided, 0)]
    by_scores = np.where(decided == NO_LABEL, NO_LABEL, probabilities.argmax(axis=1))
    predicted = np.where(decided >= 0, by_rule, by_scores)
    labelled = predicted >= 0
    confidence = probabilities[np.arange(len(gold))[labelled], predicted[labelled]]
    confusion = np.zeros((len(space), len(space)), dtype=np.int64)
    np.add.at(confusion, (gold[labelled], predicted[labelled]), 1)
    per_class = _per_class(confusion, space, np.bincount(gold, minlength=len(space)))
    return Report(
        file=file,
        model=model,
        n=len(gold),
        labels=list(space),
        accuracy=round(float((gold == predicted).mean()), 4),
        macro_f1=round(float(np.mean([m.f1 for m in per_class.values()])), 4),
        per_class=per_class,
        confusion=confusion.tolist(),
        ece=round(expected_calibration_error(confidence, predicted[labelled] == gold[labelled]), 4),
        unlabelled=int((~labelled).sum()),
    )


def _per_class(
    confusion: NDArray[np.int64], space: Sequence[str], support: NDArray[np.int64]
) -> dict[str, ClassMetrics]:
    metrics = {}
    for i, name in enumerate(space):
        true_positive = float(confusion[i, i])
        predicted, actual = float(confusion[:, i].sum()), float(support[i])
        precision = true_positive / predicted if predicted else 0.0
        recall = true_positive / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        metrics[name] = ClassMetrics(round(precision, 4), round(recall, 4), round(f1, 4), int(actual))
    return metrics


def expected_calibration_error(
    confidence: NDArray[np.float64], correct: NDArray[np.bool_], bins: int = ECE_BINS
) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by bin size."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        in_bin = which == b
        if in_bin.any():
            gap = abs(float(correct[in_bin].mean()) - float(confidence[in_bin].mean()))
            total += gap * in_bin.sum() / len(confidence)
    return total


def format_report(report: Report) -> str:
    width = max(len(name) for name in report.labels) + 2
    lines = [
        f"file      {report.file}",
        f"model     {report.model}",
        f"n         {report.n}",
        f"accuracy  {report.accuracy:.4f}",
        f"macro-F1  {report.macro_f1:.4f}",
        f"ECE       {report.ece:.4f}",
        *(
            [
                f"context   {'on' if report.context else 'off'}"
                + "".join(f"  {source}: {count}" for source, count in report.label_sources.items())
            ]
            if report.label_sources
            else []
        ),
        *(
            [f"unlabelled {report.unlabelled} (gold sentences the service skipped or did not find)"]
            if report.unlabelled
            else []
        ),
        "",
        f"{'label':<{width}} precision  recall      F1  support",
    ]
    for name, m in report.per_class.items():
        lines.append(f"{name:<{width}} {m.precision:9.4f} {m.recall:7.4f} {m.f1:7.4f} {m.support:8d}")
    lines += [
        "",
        "confusion (rows gold, columns predicted)",
        " " * width + "".join(f"{n:>14}" for n in report.labels),
    ]
    for name, row in zip(report.labels, report.confusion, strict=True):
        lines.append(f"{name:<{width}}" + "".join(f"{count:>14}" for count in row))
    if report.breakdown:
        lines += ["", "accuracy by group                n  accuracy"]
        for group, values in report.breakdown.items():
            lines.append(f"  {group:<28} {int(values['n']):>4}  {values['accuracy']:.4f}")
    return "\n".join(lines)
