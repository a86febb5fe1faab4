"""The ONNX Runtime path: parity with PyTorch on real sentences, the cache folder, a start without torch."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from app.model.encoder import default_encoder_path, encode_texts
from app.model.loader import load_backend, refine_margin
from app.model.onnx import (
    META_FILE,
    MODEL_FILE,
    MODEL_FILES,
    TOKENIZER_FILE,
    OnnxEncoder,
    RefinedBackend,
    export_meta,
    is_exported,
    onnx_encoder,
)
from app.model.torch_encoder import TorchEncoder
from app.model.types import Backend, BackendWrapper, LabelSet, Prediction, Tokens, predict_texts
from app.settings import Settings
from tests.conftest import REPO, shared_file


@pytest.fixture(scope="module")
def torch_backend() -> Backend:
    return load_backend(Settings(runtime="torch"))


@pytest.fixture(scope="module")
def onnx_backend() -> Backend:
    return load_backend(Settings(runtime="onnx"))


def test_default_model_labels_agree_with_pytorch_on_the_dev_sentences(
    torch_backend: Backend, onnx_backend: Backend
) -> None:
    rows = [json.loads(line) for line in shared_file("checkthat_dev.jsonl").read_text().splitlines()]
    texts = [row["text"] for row in rows]
    labels = torch_backend.default_labels
    assert onnx_backend.card == torch_backend.card  # same model, same version, whatever the runtime
    reference = _labels(torch_backend, texts)
    quantized = _labels(onnx_backend, texts)
    agreement = np.mean([a == b for a, b in zip(reference, quantized, strict=True)])
    print(f"ONNX int8 vs PyTorch label agreement on {len(texts)} dev sentences: {agreement:.4f}")
    assert agreement >= 0.995
    assert len(set(quantized)) == len(labels.labels) or len(set(reference)) < len(labels.labels)


def _labels(backend: Backend, texts: list[str]) -> list[int]:
    labels = backend.default_labels
    predictions = [
        p for i in range(0, len(texts), 32) for p in predict_texts(backend, texts[i : i + 32], labels, False)
    ]
    return [int(np.argmax(p.scores)) for p in predictions]


def test_embeddings_stay_close_to_fp32_and_truncation_is_reported(
    tmp_path: Path, onnx_backend: Backend
) -> None:
    model_dir = default_encoder_path()
    reference = TorchEncoder(model_dir, max_length=16)
    encoder = onnx_encoder(
        reference.version,
        model_dir,
        lambda: reference,
        cache_root=Settings().models_dir / "cache",
        max_length=16,
        name="probe",
    )
    texts = ["The council voted 7-2 on Monday.", "We must act now. " * 10, "Rates will rise."]
    ours, theirs = encoder.tokenize(texts), reference.tokenize(texts)
    assert [row.ids for row in ours] == [row.ids for row in theirs]  # the export carries the tokenizer
    assert [row.truncated for row in ours] == [False, True, False]
    assert max(len(row) for row in ours) == 16
    cosine = (encoder.encode(ours) * reference.encode(theirs)).sum(axis=1)
    assert cosine.min() > 0.97, cosine


@pytest.mark.slow
def test_a_missing_export_is_built_once_and_atomically(tmp_path: Path) -> None:
    model_dir = default_encoder_path()
    loads: list[int] = []

    def load_torch() -> TorchEncoder:
        loads.append(1)
        return TorchEncoder(model_dir, max_length=32, name="probe")

    first = onnx_encoder("v-probe", model_dir, load_torch, cache_root=tmp_path, max_length=32, name="x")
    folder = tmp_path / first.version
    assert is_exported(folder) and (folder / MODEL_FILE).stat().st_size < 30_000_000  # int8: ~23 MB
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]  # no staging folder left behind
    # The probe's guessed version was wrong: the export is filed under the encoder's real version.
    again = onnx_encoder(first.version, model_dir, load_torch, cache_root=tmp_path, max_length=32, name="x")
    assert loads == [1]
    assert np.allclose(encode_texts(first, ["Hi."]), encode_texts(again, ["Hi."]))


def test_an_incomplete_export_is_refused_with_a_hint(tmp_path: Path) -> None:
    from app.errors import ModelLoadError

    with pytest.raises(ModelLoadError, match="claimsift prepare"):
        OnnxEncoder(tmp_path, max_length=32, name="x")


def test_an_export_built_by_an_older_recipe_is_not_served(tmp_path: Path) -> None:
    # e.g. an int8 model quantized before its base's blocks were fused: rebuilt, never loaded as current
    for name in (*MODEL_FILES.values(), TOKENIZER_FILE):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / META_FILE).write_text(json.dumps({"name": "x", "version": "v", "opset": 17}))
    assert not is_exported(tmp_path)
    (tmp_path / META_FILE).write_text(json.dumps(export_meta("x", "v")))
    assert is_exported(tmp_path)


def test_a_prepared_model_starts_without_torch(onnx_backend: Backend) -> None:
    # torch and transformers made unimportable: the cached export alone must serve the default model.
    script = (
        "import sys\n"
        "sys.modules.update(torch=None, transformers=None)\n"
        "from app.model.loader import load_backend\n"
        "from app.model.types import predict_texts\n"
        "from app.settings import Settings\n"
        "backend = load_backend(Settings(runtime='onnx'))\n"
        "[p] = predict_texts(backend, ['The council voted 7-2.'], backend.default_labels, False)\n"
        "print(backend.card.version, len(p.scores))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [onnx_backend.card.version, "3"]


class Recording(BackendWrapper):
    """Keeps the tokens each ``predict`` call is given."""

    def __init__(self, inner: Backend) -> None:
        super().__init__(inner)
        self.given: list[Tokens] = []

    def predict(self, tokens: Sequence[Tokens], labels: LabelSet, multi_label: bool) -> list[Prediction]:
        self.given += tokens
        return super().predict(tokens, labels, multi_label)


def test_refinement_rescores_near_ties_on_the_same_tokens(onnx_backend: Backend) -> None:
    exact = Recording(onnx_backend)
    refined = RefinedBackend(onnx_backend, exact, margin=1.0)  # every row counts as a near tie
    tokens = refined.tokenize(["The council voted 7-2.", "The decision was a mistake."])
    rows = refined.predict(tokens, refined.default_labels, False)
    assert [id(row) for row in exact.given] == [id(row) for row in tokens]
    assert rows == exact.predict(tokens, refined.default_labels, False)
    assert refined.card == onnx_backend.card and refined.default_labels == onnx_backend.default_labels


def test_the_refine_margin_is_the_base_encoders_unless_set() -> None:
    # Int8 moves mpnet's scores more than MiniLM's: each base keeps PyTorch parity with its own margin.
    assert refine_margin(Settings()) == 0.08
    assert refine_margin(Settings(adapted_model="claimsift-news-large")) == 0.15
    assert refine_margin(Settings(adapted_model="claimsift-news-large", onnx_refine_margin=0.0)) == 0.0
    assert refine_margin(Settings(onnx_refine_margin=0.2)) == 0.2
