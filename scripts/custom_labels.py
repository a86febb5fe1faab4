"""The custom-label benchmark (data/custom/): macro-F1 and calibration, descriptions only and with examples.

    python scripts/custom_labels.py bench [--examples N]   # through the service (in-process)
    python scripts/custom_labels.py fit                    # the constants of app/model/custom.py

`bench` sends each label set to `/v1/classify`'s service with descriptions only, then with the first N
examples per label (default 5), and prints per set macro-F1, ECE and how often `uncertain` fires (with
accuracy on the flagged and unflagged sentences). A one-label set is a "does this apply?" question: the
label applies when its score reaches 0.5.

`fit` scores every set before calibration and fits the constants (softmax temperature; sigmoid slope and
bias) by negative log-likelihood; each set is then scored with constants fitted on the *other* sets
(leave one set out), so the numbers it prints are not fitted on the set they describe. It prints the
constants fitted on all sets, which is what app/model/custom.py holds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.model.custom import Calibration, calibrated  # noqa: E402
from app.model.types import Label, LabelSet  # noqa: E402
from app.training.report import Report, metrics  # noqa: E402

DATA = REPO / "data" / "custom"
NONE = "none"  # the gold label of a one-label set's sentences where it does not apply


@dataclass(frozen=True)
class Task:
    name: str
    labels: list[dict[str, object]]
    texts: list[str]
    gold: list[str]

    @property
    def space(self) -> list[str]:
        names = [str(label["name"]) for label in self.labels]
        return names if len(names) > 1 else [*names, NONE]

    def label_set(self, examples: int) -> LabelSet:
        return LabelSet(
            tuple(
                Label(str(spec["name"]), str(spec["description"]), tuple(list(spec["examples"])[:examples]))  # type: ignore[call-overload]
                for spec in self.labels
            )
        )


def tasks() -> list[Task]:
    sets = json.loads((DATA / "sets.json").read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in (DATA / "sentences.jsonl").read_text(encoding="utf-8").splitlines()]
    return [
        Task(
            name,
            labels,
            [row["text"] for row in rows if row["set"] == name],
            [row["label"] for row in rows if row["set"] == name],
        )
        for name, labels in sets.items()
    ]


def report(task: Task, scores: NDArray[np.float64], mode: str) -> Report:
    """Metrics over the task's label space; a one-label set becomes applies / does not apply."""
    if scores.shape[1] == 1:
        scores = np.concatenate([scores, 1.0 - scores], axis=1)
    gold = np.array([task.space.index(label) for label in task.gold])
    return metrics(gold, scores, task.space, task.name, mode)


# ---- bench: through the service ----------------------------------------------------------------------


async def service_scores(task: Task, examples: int) -> tuple[NDArray[np.float64], list[bool]]:
    from app.main import Engine
    from app.schemas import ClassifyRequest, LabelSpec
    from app.settings import Settings

    specs = [
        LabelSpec(
            name=str(spec["name"]),
            description=str(spec["description"]),
            examples=list(spec["examples"])[:examples] or None,  # type: ignore[call-overload]
        )
        for spec in task.labels
    ]
    engine = Engine(Settings(log_level="warning"))
    await engine.load()
    try:
        assert engine.service is not None, engine.load_error
        response = await engine.service.classify(ClassifyRequest(sentences=task.texts, labels=specs))
    finally:
        engine.close()
    names = [spec.name for spec in specs]
    scores = np.array([[result.scores[name] for name in names] for result in response.results])
    return scores, [result.uncertain for result in response.results]


def bench(examples: int) -> None:
    columns = ("n", 5), ("macro-F1", 10), ("ECE", 8), ("uncertain", 11), ("acc sure", 10), ("acc unsure", 11)
    print(f"{'set':<16}{'mode':<14}" + "".join(f"{name:>{width}}" for name, width in columns))
    means: dict[str, list[float]] = {}
    for task in tasks():
        for mode, count in (("descriptions", 0), (f"{examples} examples", examples)):
            scores, uncertain = asyncio.run(service_scores(task, count))
            result = report(task, scores, mode)
            correct = np.array([task.space[i] for i in _predicted(scores)]) == np.array(task.gold)
            flagged = np.array(uncertain)
            sure = f"{correct[~flagged].mean():.3f}" if (~flagged).any() else "-"
            unsure = f"{correct[flagged].mean():.3f}" if flagged.any() else "-"
            print(
                f"{task.name:<16}{mode:<14}{result.n:>5}{result.macro_f1:>10.4f}{result.ece:>8.4f}"
                f"{flagged.mean():>11.3f}{sure:>10}{unsure:>11}"
            )
            means.setdefault(mode, []).append(result.macro_f1)
    for mode, values in means.items():
        print(f"mean macro-F1, {mode}: {np.mean(values):.4f} over {len(values)} sets")


def _predicted(scores: NDArray[np.float64]) -> list[int]:
    if scores.shape[1] == 1:
        return [0 if row[0] >= 0.5 else 1 for row in scores]
    return [int(i) for i in scores.argmax(axis=1)]


# ---- fit: the calibration constants -------------------------------------------------------------------


@dataclass
class Raw:
    """Uncalibrated scores of one task: one row per sentence (k labels), and each label alone (k binary)."""

    task: Task
    single: NDArray[np.float64]
    alone: NDArray[np.float64]


def raw_scores(examples: int) -> list[Raw]:
    from app.model.adapted import OVERLAY_FILE
    from app.model.embedding import EmbeddingBackend
    from app.model.encoder import default_encoder_path
    from app.model.torch_encoder import TorchEncoder

    base = TorchEncoder(default_encoder_path(), 256)
    overlay = REPO / "models" / "claimsift-news" / OVERLAY_FILE
    adapted = TorchEncoder(default_encoder_path(), 256, overlay=overlay)
    backend = EmbeddingBackend(base, claims=adapted)
    out = []
    for task in tasks():
        labels = task.label_set(examples)
        if examples:
            features = backend.views(task.texts)[0]
            single = backend.custom.logits(backend.heads_for(labels, False), features)
            alone = backend.custom.logits(backend.heads_for(labels, True), features)
        else:
            vectors = backend.describe(task.texts)
            single = alone = backend.custom.similarities(vectors, backend.custom.description_vectors(labels))
        out.append(Raw(task, single, alone))
    return out


def fit_temperature(raws: Sequence[Raw]) -> float:
    rows = [(r.single, _gold_index(r)) for r in raws if len(r.task.labels) > 1]
    best, best_nll = 1.0, math.inf
    for temperature in np.exp(np.linspace(math.log(0.005), math.log(20.0), 241)):
        nll = sum(_nll(calibrated(s, Calibration(float(temperature), 1, 0), False), g) for s, g in rows)
        if nll < best_nll:
            best, best_nll = float(temperature), nll
    return best


def fit_sigmoid(raws: Sequence[Raw]) -> tuple[float, float]:
    """Slope and bias of P(label applies) from every label scored alone (one-vs-rest), by Newton steps."""
    values = np.concatenate([r.alone.ravel() for r in raws])
    applies = np.concatenate([_applies(r).ravel() for r in raws])
    design = np.stack([values, np.ones_like(values)], axis=1)
    params = np.zeros(2)
    for _ in range(50):  # a two-parameter logistic regression converges in a few steps
        p = 1.0 / (1.0 + np.exp(-(design @ params)))
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + 1e-6 * np.eye(2)
        params -= np.linalg.solve(hessian, design.T @ (p - applies))
    return float(params[0]), float(params[1])


def _gold_index(raw: Raw) -> NDArray[np.int64]:
    return np.array([raw.task.space.index(label) for label in raw.task.gold])


def _applies(raw: Raw) -> NDArray[np.float64]:
    names = [str(label["name"]) for label in raw.task.labels]
    return np.array([[float(label == name) for name in names] for label in raw.task.gold])


def _nll(probabilities: NDArray[np.float64], gold: NDArray[np.int64]) -> float:
    return -float(np.log(probabilities[np.arange(len(gold)), gold] + 1e-12).sum())


def fit_constants(raws: Sequence[Raw]) -> Calibration:
    slope, bias = fit_sigmoid(raws)
    return Calibration(fit_temperature(raws), slope, bias)


def fit(examples: int) -> None:
    for count in sorted({0, examples}):
        raws = raw_scores(count)
        mode = "descriptions" if count == 0 else f"{count} examples"
        print(f"== {mode}: each set scored with constants fitted on the other sets")
        f1s = []
        for held_out in raws:
            constants = fit_constants([r for r in raws if r is not held_out])
            multi = len(held_out.task.labels) == 1
            scores = calibrated(held_out.alone if multi else held_out.single, constants, multi)
            result = report(held_out.task, scores, mode)
            f1s.append(result.macro_f1)
            scored = f"macro-F1 {result.macro_f1:.4f}  ECE {result.ece:.4f}"
            print(f"{held_out.task.name:<16} {scored}  ({constants})")
        print(f"mean macro-F1 {np.mean(f1s):.4f}")
        constants = fit_constants(raws)
        print(f"fitted on all sets: {constants}\n")


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("command", choices=["bench", "fit"])
    parser.add_argument("--examples", type=int, default=5, help="examples per label (default 5)")
    args = parser.parse_args()
    bench(args.examples) if args.command == "bench" else fit(args.examples)


if __name__ == "__main__":
    main()
