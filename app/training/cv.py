"""`claimsift train --cv`: 5-fold cross-validation by CDCP document, with the training recipe of ``train``."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

from app.model.adapted import MANIFEST_FILE
from app.model.encoder import default_encoder_path
from app.training.report import format_report, metrics
from app.training.train import (
    CV_FOLDS,
    LABELS,
    FrozenLayers,
    TrainConfig,
    cdcp_fold,
    embeddings,
    load_data,
    summary,
    train_and_calibrate,
)


def cv_command(cdcp: Path, news: Path, out: Path | None, config: TrainConfig) -> int:
    """5-fold CV by CDCP document: train on 4 folds + our news training split, score the 5th."""
    base_dir = default_encoder_path()
    cdcp_rows, news_train, _ = load_data(cdcp, news)
    frozen = FrozenLayers(base_dir, config.max_length, config.trained_layers)
    gold, probabilities, per_fold = [], [], []
    for fold in range(CV_FOLDS):
        train_rows = [row for row in cdcp_rows if cdcp_fold(row) != fold] + news_train
        test_rows = [row for row in cdcp_rows if cdcp_fold(row) == fold]
        trained, _ = train_and_calibrate(train_rows, config, frozen)
        vectors = embeddings(trained, [row.text for row in test_rows], frozen)
        fold_gold = np.array([LABELS.index(row.label) for row in test_rows])
        fold_probabilities = trained.head.probabilities(vectors)
        report = metrics(fold_gold, fold_probabilities, LABELS, f"fold {fold}", "cv")
        per_fold.append(report.macro_f1)
        print(f"fold {fold}: n {report.n} macro-F1 {report.macro_f1:.4f}", file=sys.stderr)
        gold.append(fold_gold)
        probabilities.append(fold_probabilities)
    pooled = metrics(np.concatenate(gold), np.concatenate(probabilities), LABELS, str(cdcp), "5-fold CV")
    print(format_report(pooled))
    print(f"per-fold macro-F1 {[round(f, 4) for f in per_fold]}, mean {np.mean(per_fold):.4f}")
    if out is not None and (out / MANIFEST_FILE).is_file():
        manifest = json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))
        if manifest.get("config") == asdict(config):
            manifest["metrics"]["cdcp_5fold_cv"] = {**(summary(pooled) or {}), "per_fold_macro_f1": per_fold}
            (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
            print(f"recorded in {out / MANIFEST_FILE}")
    return 0
