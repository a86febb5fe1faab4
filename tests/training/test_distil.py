"""Distillation (`claimsift train --distil-from`): the teacher's pool scores through the real int8 model,
cached by the teacher's version; softened targets; a student that learns them; the command end to end."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from app.model.adapted import read_manifest
from app.model.encoder import default_encoder_path
from app.training.data import Row
from app.training.distil import SoftTargets, benchmark_texts, read_pool, soft_targets, softened
from app.training.train import Distillation, FrozenLayers, TrainConfig, embeddings, fit
from tests.conftest import REPO, run_cli

TEACHER = "claimsift-news"  # the shipped MiniLM stands in for a teacher: the code path is the same
GUIDE = [
    ("The council voted 7-2 on Monday.", "fact"),
    ("The budget is a missed opportunity.", "assessment"),
    ("The government should publish the report.", "prescription"),
]


def write_pool(path: Path, texts: list[str]) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for i, text in enumerate(texts):
            handle.write(json.dumps({"text": text, "doc": f"d{i % 3}", "source": "test"}) + "\n")
    return path


def pool_texts(n: int) -> list[str]:
    return [f"The committee met on day {i} and approved the plan." for i in range(n)]


def test_softened_targets_keep_the_ranking_and_flatten_with_temperature() -> None:
    teacher = np.array([[0.9, 0.08, 0.02], [0.2, 0.3, 0.5]], dtype=np.float32)
    assert np.allclose(softened(teacher, 1.0), teacher, atol=1e-6)
    soft = softened(teacher, 2.0)
    assert np.allclose(soft.sum(axis=1), 1.0)
    assert (soft.argmax(axis=1) == teacher.argmax(axis=1)).all()
    assert soft[0, 0] < teacher[0, 0] and soft[0, 2] > teacher[0, 2]  # flatter, same order


def test_the_distillation_loss_vanishes_only_when_the_student_agrees() -> None:
    import torch

    teacher = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], dtype=np.float32)
    pool = SoftTargets(["a", "b"], teacher, "t", "v", Path("x"), 0, 0.0)
    loss = Distillation(torch, pool, TrainConfig(distil_temperature=2.0, distil_weight=0.5))
    agreeing = torch.log(torch.from_numpy(teacher))  # logits equal to the teacher's up to a constant
    assert loss.losses(agreeing, [0, 1]).abs().max().item() < 1e-5
    disagreeing = loss.losses(agreeing.flip(dims=[1]), [0, 1])
    assert (disagreeing > 0.1).all()


def test_read_pool_leaves_out_labelled_sentences_and_samples_by_hash(tmp_path: Path) -> None:
    texts = pool_texts(50)
    pool = write_pool(tmp_path / "pool.jsonl.gz", [*texts, texts[0]])  # a repeated sentence counts once
    everything = read_pool(pool, None, exclude={texts[1]})
    assert len(everything) == 49 and texts[1] not in everything
    reversed_pool = write_pool(tmp_path / "reversed.jsonl.gz", texts[::-1])
    assert read_pool(reversed_pool, 10, exclude={texts[1]}) == everything[:10]  # not the file's order


def test_teacher_scores_come_from_the_int8_model_and_are_cached_by_its_version(tmp_path: Path) -> None:
    texts = [text for text, _ in GUIDE] + pool_texts(20)
    pool = write_pool(tmp_path / "pool.jsonl.gz", texts)
    cache = tmp_path / "distil"

    first = soft_targets(TEACHER, pool, 10, {GUIDE[0][0]}, 128, 2, cache_dir=cache)

    assert len(first.texts) == 10 and GUIDE[0][0] not in first.texts and first.scored_now == 10
    assert np.allclose(first.probabilities.sum(axis=1), 1.0, atol=1e-4)
    assert first.teacher_version in first.cache_file.name and first.cache_file.is_file()
    everything = soft_targets(TEACHER, pool, None, {GUIDE[0][0]}, 128, 2, cache_dir=cache)
    assert everything.scored_now == len(texts) - 1 - 10  # only the sentences not cached yet
    again = soft_targets(TEACHER, pool, None, {GUIDE[0][0]}, 128, 2, cache_dir=cache)
    assert again.scored_now == 0 and np.array_equal(again.probabilities, everything.probabilities)
    by_text = dict(zip(everything.texts, everything.probabilities, strict=True))
    assert by_text[GUIDE[2][0]].argmax() == 2  # the real teacher: a prescription
    assert by_text[GUIDE[1][0]].argmax() == 1


def test_the_student_learns_the_teachers_pool_scores() -> None:
    rows = [Row(text, label, f"g{i}", "cdcp") for i, (text, label) in enumerate(GUIDE)]
    texts = pool_texts(24)
    says_prescription = np.tile(np.array([[0.02, 0.03, 0.95]], dtype=np.float32), (len(texts), 1))
    pool = SoftTargets(texts, says_prescription, "t", "v", Path("x"), 0, 0.0)
    config = TrainConfig(epochs=3, batch_size=8, max_length=24, trained_layers=1, head_lr=3e-2)
    frozen = FrozenLayers(default_encoder_path(), config.max_length, config.trained_layers)

    def prescription_score(trained_pool: SoftTargets | None) -> float:
        trained = fit(rows, config, frozen, trained_pool)
        return float(trained.head.probabilities(embeddings(trained, texts, frozen))[:, 2].mean())

    assert prescription_score(pool) > prescription_score(None) + 0.3


def test_distillation_refuses_a_missing_pool_or_a_bad_limit_before_any_model_loads(tmp_path: Path) -> None:
    absent = run_cli("train", "--distil-from", TEACHER, "--pool", str(tmp_path / "none.jsonl.gz"))
    assert absent.returncode == 1
    assert absent.stderr.startswith(f"claimsift train: no unlabelled pool at {tmp_path / 'none.jsonl.gz'}")
    zero = run_cli("train", "--distil-from", TEACHER, "--pool-limit", "0")
    assert zero.returncode == 1 and "--pool-limit must be at least 1" in zero.stderr


@pytest.mark.slow
def test_train_distils_from_a_teacher_in_a_clone(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for folder in ("cdcp", "news", "real"):
        (data / folder).mkdir(parents=True)
    (data / "cdcp" / "cdcp_train.jsonl").write_text(
        "".join(
            json.dumps({"text": t, "label": lb, "doc_id": str(i)}) + "\n" for i, (t, lb) in enumerate(GUIDE)
        )
    )
    (data / "news" / "part1.jsonl").write_text(
        "".join(
            json.dumps({"text": f"{t} ({i})", "label": lb, "doc": f"d{i}"}) + "\n"
            for i, (t, lb) in enumerate(GUIDE * 4)
        )
    )
    splits = ["train"] * 3 + ["calibration"] * 3 + ["test"] * 3
    (data / "real" / "part01.jsonl").write_text(
        "".join(
            json.dumps({"text": f"{t} [{i}]", "label": lb, "doc": f"r{i}", "split": split}) + "\n"
            for i, ((t, lb), split) in enumerate(zip(GUIDE * 3, splits, strict=True))
        )
    )
    write_pool(data / "real" / "pool.jsonl.gz", pool_texts(30))
    # The teacher is found where the service would find it: CLAIMSIFT_MODELS_DIR.
    env = {"CLAIMSIFT_MODELS_DIR": str(REPO / "models")}
    args = ["train", "--distil-from", TEACHER, "--pool-limit", "20", "--epochs", "1", "--max-length", "16"]

    result = run_cli(*args, env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "20 pool sentences (20 scored now" in result.stderr
    manifest = read_manifest(tmp_path / "models" / "trained" / "claimsift-news")
    record = manifest["distillation"]
    assert record["teacher"] == TEACHER and manifest["config"]["distil_from"] == TEACHER
    assert record["pool"]["rows"] == 20 and record["pool"]["path"] == "data/real/pool.jsonl.gz"
    assert (tmp_path / "models" / "cache" / "distil" / record["teacher_scores"]).is_file()
    assert manifest["metrics"]["real_test"]["n"] == 3


def test_a_teacher_run_stopped_part_way_keeps_what_it_scored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.training import distil

    pool = write_pool(tmp_path / "pool.jsonl.gz", pool_texts(10))
    calls: list[int] = []
    real_score = distil.score

    def score_then_stop(backend: object, texts: list[str]) -> object:
        calls.append(len(texts))
        if len(calls) > 1:
            raise KeyboardInterrupt  # the run is stopped during its second chunk
        return real_score(backend, texts)  # type: ignore[arg-type]

    monkeypatch.setattr(distil, "SAVE_EVERY", 4)
    monkeypatch.setattr(distil, "score", score_then_stop)
    with pytest.raises(KeyboardInterrupt):
        soft_targets(TEACHER, pool, None, set(), 128, 2, cache_dir=tmp_path)
    monkeypatch.setattr(distil, "score", real_score)

    resumed = soft_targets(TEACHER, pool, None, set(), 128, 2, cache_dir=tmp_path)

    assert calls == [4, 4] and resumed.scored_now == 6 and len(resumed.texts) == 10


def test_the_custom_label_benchmark_is_never_in_the_distillation_pool(tmp_path: Path) -> None:
    benchmark = benchmark_texts(REPO / "data" / "custom")
    assert "Did they just call themselves an inspection team?" in benchmark  # a test sentence
    assert "If I were Qatar, why would I dive in?" in benchmark  # an example
    assert benchmark_texts(tmp_path) == set()  # a clone without the benchmark
