"""Which CDCP rows a recipe trains on: `claimsift train` and `claimsift train --cv` share the rule."""

from __future__ import annotations

import json
from pathlib import Path

from app.training.data import DEFAULT_CDCP, DEFAULT_NEWS, DEFAULT_REAL, cdcp_fold, load_data
from app.training.train import RECIPES, cdcp_share_rule, recipe_cdcp

REPO = Path(__file__).resolve().parents[2]


def test_the_default_recipe_trains_on_all_of_cdcp_and_the_large_on_a_quarter_of_its_documents() -> None:
    cdcp = load_data(DEFAULT_CDCP, DEFAULT_NEWS, DEFAULT_REAL).cdcp
    assert recipe_cdcp(cdcp, RECIPES["default"].config) == cdcp
    large = recipe_cdcp(cdcp, RECIPES["large"].config)
    documents = {row.group for row in cdcp}
    chosen = {row.group for row in large}
    assert 0.2 < len(chosen) / len(documents) < 0.3
    assert large == [row for row in cdcp if row.group in chosen]  # whole documents, in file order
    # The large model's manifest records how many CDCP rows it trained on: the same rule must give them.
    assert len(large) == 964
    manifest = json.loads((REPO / "models" / "claimsift-news-large" / "manifest.json").read_text())
    assert manifest["split"]["cdcp_rows"] == len(large)
    assert manifest["split"]["cdcp"] == cdcp_share_rule(RECIPES["large"].config)


def test_a_cross_validation_fold_takes_the_recipe_share_of_the_other_folds_only() -> None:
    cdcp = load_data(DEFAULT_CDCP, DEFAULT_NEWS, DEFAULT_REAL).cdcp
    config = RECIPES["large"].config
    training = recipe_cdcp([row for row in cdcp if cdcp_fold(row) != 0], config)
    assert training and all(cdcp_fold(row) != 0 for row in training)
    assert set(training) < set(recipe_cdcp(cdcp, config))
