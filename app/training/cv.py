"""`claimsift train --cv`: 5-fold cross-validation by CDCP document, with the training recipe of ``train``.

Each fold trains on four CDCP folds (of them, the recipe's share of documents: all, or a quarter for the
large model) plus the news (and, by default, real-text) training rows, calibrates exactly as ``train`` does
(``TrainingData.training_split``), and scores the whole fifth CDCP fold.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

from app.model.adapted import MANIFEST_FILE
from app.training.data import CV_FOLDS, LABELS, cdcp_fold, load_data
from app.training.report import format_report, metrics
from app.training.train import (
    TrainConfig,
    embeddings,
    frozen_layers,
    recipe_cdcp,
    summary,
    train_and_calibrate,
)


def cv_command(paths: dict[str, Path], out: Path | None, config: TrainConfig) -> int:
    """5-fold CV by CDCP document: train on 4 folds + the news and real training rows, score the 5th."""
    data = load_data(paths["cdcp"], paths["news"], paths["real"])
    frozen = frozen_layers(config)
    gold, probabilities, per_fold = [], [], []
    for fold in range(CV_FOLDS):
        folds = recipe_cdcp([row for row in data.cdcp if cdcp_fold(row) != fold], config)
        train_rows, calibration_rows = data.training_split(folds, config.real_text)
        test_rows = [row for row in data.cdcp if cdcp_fold(row) == fold]
        trained, _ = train_and_calibrate(train_rows, calibration_rows, config, frozen)
        vectors = embeddings(trained, [row.text for row in test_rows], frozen)
        fold_gold = np.array([LABELS.index(row.label) for row in test_rows])
        fold_probabilities = trained.head.probabilities(vectors)
        report = metrics(fold_gold, fold_probabilities, LABELS, f"fold {fold}", "cv")
        per_fold.append(report.macro_f1)
        print(f"fold {fold}: n {report.n} macro-F1 {report.macro_f1:.4f}", file=sys.stderr)
        gold.append(fold_gold)
        probabilities.append(fold_probabilities)
    gold_all, probabilities_all = np.concatenate(gold), np.concatenate(probabilities)
    pooled = metrics(gold_all, probabilities_all, LABELS, str(paths["cdcp"]), "5-fold CV")
    print(format_report(pooled))
    print(f"per-fold macro-F1 {[round(f, 4) for f in per_fold]}, mean {np.mean(per_fold):.4f}")
    if out is not None and (out / MANIFEST_FILE).is_file():
        manifest = json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))
        if manifest.get("config") == asdict(config):
            manifest["metrics"]["cdcp_5fold_cv"] = {**(summary(pooled) or {}), "per_fold_macro_f1": per_fold}
            (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
            print(f"recorded in {out / MANIFEST_FILE}")
    return 0
