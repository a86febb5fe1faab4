"""ONNX models without torch: the committed template, `claimsift prepare` building from it with torch
made unimportable, and (where the [torch] extra is installed) parity with the torch exporter."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest

from app.model import onnx_build, weights
from app.model.encoder import DEFAULT_ENCODER_NAME, encode_texts
from app.model.extras import torch_available
from app.model.onnx import MODEL_FILES, OnnxEncoder, export_meta
from tests.conftest import REPO

CACHE = REPO / "models" / "cache"
TEXTS = [
    "The council voted 7-2 on Monday.",
    "We must act now, before it is too late. " * 3,
    "Rates will rise.",
]


@pytest.fixture(scope="module")
def base_dir() -> Path:
    """The pinned base encoder's files, as `claimsift prepare` leaves them."""
    base = weights.pinned_base(DEFAULT_ENCODER_NAME)
    folder = weights.base_folder(CACHE, base.name)
    if not weights.is_prepared(folder, base):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{folder} is not prepared: .ci/run runs `claimsift prepare` first")
        pytest.skip(f"{folder} is not prepared yet: run `claimsift prepare`")
    return folder


def needs_torch() -> None:
    if not torch_available():
        if os.environ.get("CI") == "true":
            pytest.fail("CI installs the [torch] extra; torch is missing")
        pytest.skip("needs the [torch] extra")


def test_the_default_architecture_has_a_small_committed_template(base_dir: Path) -> None:
    template = onnx_build.find_template(base_dir)
    assert template is not None and template.parent == onnx_build.TEMPLATES
    assert template.stat().st_size < 500_000  # a graph, no weights
    assert (
        str(template.relative_to(REPO))
        in subprocess.run(
            ["git", "ls-files", "app/model/templates"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout
    )


def test_a_model_of_another_architecture_has_no_template(tmp_path: Path, base_dir: Path) -> None:
    config = json.loads((base_dir / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "num_hidden_layers": 3}))
    assert onnx_build.find_template(tmp_path) is None


@pytest.mark.slow
def test_prepare_builds_both_models_from_the_template_without_torch(tmp_path: Path, base_dir: Path) -> None:
    models = tmp_path / "models"
    shutil.copytree(REPO / "models" / "claimsift-news", models / "claimsift-news")
    (models / "cache" / "base").mkdir(parents=True)
    shutil.copytree(base_dir, models / "cache" / "base" / base_dir.name)
    # a lean install has neither the [torch] extra nor sympy (which ONNX Runtime's optimizer can use)
    script = (
        "import sys\nsys.modules.update(torch=None, transformers=None, sympy=None)\n"
        "from app.commands.cli import main\nmain()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "prepare"],
        cwd=REPO,
        env={**os.environ, "CLAIMSIFT_MODELS_DIR": str(models), "PIP_NO_INDEX": "1"},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "sha256 verified" in done.stdout and "ONNX models (int8, fp32)" in done.stdout
    exports = [p for p in (models / "cache").iterdir() if (p / "encoder.json").is_file()]
    assert len(exports) == 2  # the adapted encoder and the base one (custom labels)
    shared = {p.name for p in exports[0].iterdir()} & {p.name for p in exports[1].iterdir()}
    weight_files = {name for name in shared if name.endswith((".bin", ".safetensors"))}
    assert weight_files  # the embeddings and base weights both encoders read
    for name in weight_files:
        assert (exports[0] / name).stat().st_ino == (exports[1] / name).stat().st_ino, name  # linked, once
    for folder in exports:
        graph = onnx.load_model(str(folder / MODEL_FILES["int8"]), load_external_data=False).graph
        assert "QAttention" in {node.op_type for node in graph.node}  # bases.json: MiniLM's blocks fused
        int8 = encode_texts(OnnxEncoder(folder, 64, "probe", precision="int8"), TEXTS)
        fp32 = encode_texts(OnnxEncoder(folder, 64, "probe", precision="fp32"), TEXTS)
        assert ((int8 * fp32).sum(axis=1) > 0.97).all()


@pytest.mark.slow
def test_the_filled_template_is_the_graph_torch_exports(tmp_path: Path, base_dir: Path) -> None:
    needs_torch()
    overlay = REPO / "models" / "claimsift-news" / "encoder-overlay.safetensors"
    assert_filled_template_is_torch_export(base_dir, overlay, tmp_path)


def assert_filled_template_is_torch_export(
    base_dir: Path, overlay: Path, tmp_path: Path
) -> tuple[Path, list[Path], Any]:
    """Fill the base's template with base + overlay weights and compare it with torch's export, node for
    node and tensor for tensor; returns the template, weight files and torch encoder for more checks."""
    import onnx
    from onnx import numpy_helper

    from app.model.export import export_graph
    from app.model.torch_encoder import TorchEncoder

    weight_files = [base_dir / "model.safetensors", overlay]
    template = onnx_build.find_template(base_dir)
    assert template is not None
    model = onnx_build._load(template)
    mapping = json.loads(onnx_build._metadata(model)[onnx_build.MAPPING_KEY])
    filled = onnx_build._filled(model, mapping, onnx_build._read_tensors(weight_files), weight_files)
    torch_encoder = TorchEncoder(base_dir, 64, overlay=overlay)
    export_graph(torch_encoder._model, tmp_path / "torch.onnx")
    exported = onnx.load_model(str(tmp_path / "torch.onnx"))
    assert [n.op_type for n in filled.graph.node] == [n.op_type for n in exported.graph.node]
    ours = {i.name: numpy_helper.to_array(i) for i in filled.graph.initializer}
    theirs = {i.name: numpy_helper.to_array(i) for i in exported.graph.initializer}
    assert ours.keys() == theirs.keys()
    for name, value in theirs.items():
        assert np.array_equal(ours[name], value), name
    return template, weight_files, torch_encoder


@pytest.mark.slow
def test_the_fp32_model_reading_fp16_weight_files_matches_torch(tmp_path: Path, base_dir: Path) -> None:
    needs_torch()
    from app.model.torch_encoder import TorchEncoder

    overlay = REPO / "models" / "claimsift-news" / "encoder-overlay.safetensors"
    template = onnx_build.find_template(base_dir)
    assert template is not None
    folder = tmp_path / "export"
    folder.mkdir()
    onnx_build.write_models(template, [base_dir / "model.safetensors", overlay], folder, tmp_path)
    shutil.copy(base_dir / "tokenizer.json", folder / "tokenizer.json")
    (folder / "encoder.json").write_text(json.dumps(export_meta("probe", "probe")))
    ours = encode_texts(OnnxEncoder(folder, 64, "probe", precision="fp32"), TEXTS)
    theirs = encode_texts(TorchEncoder(base_dir, 64, overlay=overlay), TEXTS)
    # the fine-tuned layers are fp16 already; only the frozen embeddings are rounded to fp16 on disk
    assert (ours * theirs).sum(axis=1).min() > 0.99999
