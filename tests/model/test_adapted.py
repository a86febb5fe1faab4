"""The committed adapted model: it matches its manifest, labels the guide's examples, stays zero-shot
for custom label sets, refuses a tampered artifact, and the training command runs end to end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from app.errors import ModelLoadError
from app.model.adapted import (
    HEAD_FILE,
    MANIFEST_FILE,
    OVERLAY_FILE,
    AdaptedBackend,
    load_adapted,
    read_manifest,
    torch_encoders,
    verify_artifact,
)
from app.model.embedding import EmbeddingBackend
from app.model.encoder import default_encoder_path, file_digest
from app.model.loader import load_backend
from app.model.torch_encoder import TorchEncoder
from app.model.types import DEFAULT_LABELS, Label, LabelSet, predict_texts
from app.settings import Settings
from tests.conftest import REPO, run_cli

ARTIFACT = REPO / "models" / "claimsift-news"
QUESTIONS = LabelSet(
    (Label("question", "a question that asks something"), Label("statement", "a plain statement"))
)


@pytest.fixture(scope="module")
def backend() -> AdaptedBackend:
    loaded = load_backend(Settings(runtime="torch"))
    assert isinstance(loaded, AdaptedBackend), "the adapted model is the default"
    return loaded


def test_the_default_settings_serve_the_adapted_model() -> None:
    manifest = read_manifest(ARTIFACT)
    assert load_backend(Settings()).card.name == manifest["name"]


def test_artifact_matches_its_manifest_and_stays_small() -> None:
    manifest = verify_artifact(ARTIFACT)
    total = sum(path.stat().st_size for path in ARTIFACT.iterdir() if path.is_file())
    assert total < 25 * 1024 * 1024
    assert manifest["base_model"]["weights_sha256"] == file_digest(
        default_encoder_path() / "model.safetensors"
    )
    assert manifest["command"].startswith("claimsift train")
    assert {"calibration_split", "news_heldout"} <= set(manifest["metrics"])


def test_manifest_records_the_committed_news_data() -> None:
    manifest = read_manifest(ARTIFACT)
    news = {Path(r["path"]).name: r for r in manifest["training_data"] if "data/news" in r["path"]}
    committed = sorted((REPO / "data" / "news").glob("part*.jsonl"))
    assert sorted(news) == [path.name for path in committed]
    for path in committed:
        assert news[path.name]["sha256"] == file_digest(path), f"{path} changed since the model was trained"


def test_manifest_records_the_cdcp_data_committed_beside_it() -> None:
    manifest = read_manifest(ARTIFACT)
    (cdcp,) = [record for record in manifest["training_data"] if "cdcp" in record["path"]]
    committed = REPO / "data" / "cdcp" / "cdcp_train.jsonl"
    assert cdcp["path"] == "data/cdcp/cdcp_train.jsonl"  # in the repository: a clone alone can retrain
    assert cdcp["sha256"] == file_digest(committed), f"{committed} changed since the model was trained"
    assert cdcp["rows"] == len(committed.read_text(encoding="utf-8").splitlines())
    notice = (REPO / "data" / "cdcp" / "README.md").read_text(encoding="utf-8")
    assert "Open Database License (ODbL)" in notice  # the attribution the ODbL asks for travels with it


@pytest.mark.parametrize(
    ("missing", "says"), [("--cdcp", "no CDCP training data at"), ("--news", "no news training data at")]
)
def test_training_without_its_data_fails_with_one_clear_line(tmp_path: Path, missing: str, says: str) -> None:
    result = run_cli("train", missing, str(tmp_path / "absent"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]  # one line, no traceback
    assert result.stderr.startswith(f"claimsift train: {says} {tmp_path / 'absent'}")


def test_training_refuses_both_a_folder_and_replace() -> None:
    result = run_cli("train", "--out", "models/trained/x", "--replace")
    assert result.returncode == 2
    assert "not allowed with argument" in result.stderr


@pytest.mark.parametrize("share", ["0", "101", "25.5", "all"])
def test_training_refuses_a_cdcp_share_that_is_not_a_percentage(share: str) -> None:
    result = run_cli("train", "--cdcp-percent", share)
    assert result.returncode == 2
    assert f"argument --cdcp-percent: must be a whole number from 1 to 100, not '{share}'" in result.stderr


@pytest.mark.parametrize(
    ("sentence", "label"),
    [
        ("The council voted 7-2 on Monday to close the bridge.", "fact"),
        ("The mayor said the closure was a disaster.", "fact"),
        ("The new budget is a missed opportunity.", "assessment"),
        ("Prices will keep rising if nothing changes.", "assessment"),
        ("The government should publish the full report.", "prescription"),
        ("The priority now is to restore the water supply.", "prescription"),
    ],
)
def test_default_labels_come_from_the_trained_head(
    backend: AdaptedBackend, sentence: str, label: str
) -> None:
    (prediction,) = predict_texts(backend, [sentence], DEFAULT_LABELS, multi_label=False)
    assert sum(prediction.scores) == pytest.approx(1.0, abs=1e-6)
    assert DEFAULT_LABELS.names[prediction.scores.index(max(prediction.scores))] == label


def test_custom_label_sets_are_zero_shot_on_the_base_encoder(backend: AdaptedBackend) -> None:
    sentences = ["Will the bridge reopen before winter?", "The bridge reopened on Monday."]
    scores = [p.scores for p in predict_texts(backend, sentences, QUESTIONS, multi_label=False)]
    assert all(len(row) == 2 and sum(row) == pytest.approx(1.0) for row in scores)
    # The head never sees custom labels: the scores are the untuned base encoder's, unchanged.
    base = EmbeddingBackend(TorchEncoder(default_encoder_path(), 256))
    expected = [p.scores for p in predict_texts(base, sentences, QUESTIONS, multi_label=False)]
    assert len(scores) == len(expected)
    for row, expected_row in zip(scores, expected, strict=True):
        assert list(row) == pytest.approx(list(expected_row), abs=1e-5)


def test_a_custom_topic_label_set_separates_topics(backend: AdaptedBackend) -> None:
    topics = LabelSet(
        (
            Label("sport", "sport: football, matches, players, goals"),
            Label("economy", "economy: prices, banks, jobs"),
        )
    )
    sentences = ["The striker scored twice in the second half.", "The central bank raised interest rates."]
    first, second = (p.scores for p in predict_texts(backend, sentences, topics, multi_label=False))
    assert first[0] > first[1]
    assert second[1] > second[0]


def test_a_tampered_artifact_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "claimsift-news"
    shutil.copytree(ARTIFACT, copy)
    head = copy / HEAD_FILE
    head.write_bytes(head.read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(ModelLoadError, match="does not match the sha256"):
        load_adapted(copy, torch_encoders(REPO / "models" / "cache", 128))


def test_a_missing_artifact_leaves_a_clear_load_error(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="no adapted model"):
        load_backend(Settings(models_dir=tmp_path))


@pytest.mark.slow
def test_training_from_a_clone_writes_a_new_folder_and_leaves_the_shipped_model(tmp_path: Path) -> None:
    guide = [
        ("The council voted 7-2 on Monday.", "fact"),
        ("The budget is a missed opportunity.", "assessment"),
        ("The government should publish the report.", "prescription"),
    ]
    cdcp = tmp_path / "data" / "cdcp" / "cdcp_train.jsonl"  # the layout of a clone: the default paths
    cdcp.parent.mkdir(parents=True)
    cdcp.write_text(
        "".join(
            json.dumps({"text": t, "label": lb, "doc_id": str(i)}) + "\n" for i, (t, lb) in enumerate(guide)
        )
    )
    news = tmp_path / "data" / "news"
    news.mkdir()
    (news / "part1.jsonl").write_text(
        "".join(
            json.dumps({"text": f"{t} ({i})", "label": lb, "doc": f"d{i}"}) + "\n"
            for i, (t, lb) in enumerate(guide * 4)
        )
    )
    real = tmp_path / "data" / "real"
    real.mkdir()
    (real / "part01.jsonl").write_text(
        "".join(
            json.dumps({"text": f"{t} [{i}]", "label": lb, "doc": f"r{i}", "split": split}) + "\n"
            for i, ((t, lb), split) in enumerate(
                zip(guide * 3, ["train"] * 3 + ["calibration"] * 3 + ["test"] * 3, strict=True)
            )
        )
    )
    report = tmp_path / "opinions.jsonl"
    report.write_text(
        json.dumps({"text": "A fine plan.", "label": "opinion"})
        + "\n"
        + json.dumps({"text": "It rained.", "label": "fact"})
        + "\n"
    )
    shipped = tmp_path / "models" / "claimsift-news"
    shipped.mkdir(parents=True)
    (shipped / MANIFEST_FILE).write_text("the shipped model")

    result = run_cli("train", "--epochs", "1", "--max-length", "16", "--report", str(report), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert (shipped / MANIFEST_FILE).read_text() == "the shipped model"
    out = tmp_path / "models" / "trained" / "claimsift-news"
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert manifest["config"]["epochs"] == 1
    assert manifest["training_data"][0]["path"] == "data/cdcp/cdcp_train.jsonl"
    assert manifest["split"]["real_rows"] == {"train": 3, "calibration": 3, "test": 3}
    assert manifest["metrics"]["calibration_split"]["n"] == 3  # the real-text calibration rows
    assert manifest["metrics"]["real_test"]["n"] == 3
    assert manifest["metrics"]["opinions"]["n"] == 2  # a fact/opinion report file, never trained on
    assert len((tmp_path / "models" / "cache" / "real_test.jsonl").read_text().splitlines()) == 3
    assert (out / OVERLAY_FILE).stat().st_size > 1_000_000  # the six transformer layers, fp16
    smoke = load_adapted(out, torch_encoders(REPO / "models" / "cache", 64))
    (prediction,) = predict_texts(smoke, ["Anything at all."], DEFAULT_LABELS, multi_label=False)
    assert len(prediction.scores) == 3
