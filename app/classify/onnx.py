"""ONNX Runtime encoder: a torch encoder exported once, quantized to int8, cached by its version.

The export needs torch; loading a cached export needs only onnxruntime and tokenizers, so a runtime
image without torch starts from ``models/cache/<encoder version>/`` in about a second.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from app.classify.backend import Backend, LabelSet, Prediction
from app.classify.encoder import Encoded, TokenizerWindow, TorchEncoder, mean_pool
from app.errors import ModelLoadError

log = logging.getLogger(__name__)

Precision = Literal["int8", "fp32"]
MODEL_FILES: dict[Precision, str] = {"int8": "encoder.int8.onnx", "fp32": "encoder.fp32.onnx"}
MODEL_FILE = MODEL_FILES["int8"]
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "encoder.json"
OPSET = 17
ModelWriter = Callable[[Path], None]
"""Writes both MODEL_FILES (and any weight files they reference) into a folder."""


def onnxruntime_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


def export_folder(cache_root: Path, version: str) -> Path:
    return cache_root / version


def is_exported(folder: Path) -> bool:
    return all((folder / name).is_file() for name in (*MODEL_FILES.values(), TOKENIZER_FILE, META_FILE))


class OnnxEncoder:
    """The same encoder as ``TorchEncoder`` (tokenizer, mean pooling, L2 norm), run by ONNX Runtime."""

    def __init__(
        self, folder: Path, max_length: int, name: str, threads: int = 0, precision: Precision = "int8"
    ) -> None:
        try:
            import onnxruntime
        except ImportError as exc:
            raise ModelLoadError("the onnx runtime needs `onnxruntime` installed") from exc
        if not is_exported(folder):
            raise ModelLoadError(f"{folder} holds no complete ONNX export; run `claimsift prepare`")
        meta = json.loads((folder / META_FILE).read_text())
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads  # 0: one per core
        options.inter_op_num_threads = 1
        # Idle pool threads would otherwise spin between batches and take the CPU from the event loop.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session: Any = onnxruntime.InferenceSession(
            str(folder / MODEL_FILES[precision]), options, providers=["CPUExecutionProvider"]
        )
        self._window = TokenizerWindow(folder, max_length)
        self.name = name
        self.version: str = meta["version"]

    def count_tokens(self, text: str) -> int:
        return self._window.count(text)

    def encode(self, texts: Sequence[str]) -> Encoded:
        ids, mask, truncated = self._window.batch(texts)
        (hidden,) = self._session.run(["hidden"], {"input_ids": ids, "attention_mask": mask})
        return Encoded(mean_pool(hidden, mask), truncated)


def onnx_encoder(
    version: str,
    tokenizer_dir: Path,
    load_torch: Callable[[], TorchEncoder],
    *,
    cache_root: Path,
    max_length: int,
    name: str,
    threads: int = 0,
    precision: Precision = "int8",
    from_template: ModelWriter | None = None,
) -> OnnxEncoder:
    """The cached export for ``version``; on a miss, build it from the graph template (no torch) when
    there is one, else load the torch encoder once and export it."""
    folder = export_folder(cache_root, version)
    if not is_exported(folder) and from_template is not None:
        write_export(from_template, name, version, tokenizer_dir, folder)
    if not is_exported(folder):
        encoder = load_torch()
        if encoder.version != version:  # the caller's guess drifted: file the export under the truth
            log.warning("encoder version %s, expected %s", encoder.version, version)
            folder = export_folder(cache_root, encoder.version)
        if not is_exported(folder):
            export(encoder, tokenizer_dir, folder)
    return OnnxEncoder(folder, max_length, name, threads, precision)


def export(encoder: TorchEncoder, tokenizer_dir: Path, folder: Path) -> None:
    def write_models(staging: Path) -> None:
        fp32 = staging / MODEL_FILES["fp32"]
        _export_fp32(encoder, fp32)
        quantize(fp32, staging / MODEL_FILES["int8"])

    write_export(write_models, encoder.name, encoder.version, tokenizer_dir, folder)


def write_export(
    write_models: ModelWriter, name: str, version: str, tokenizer_dir: Path, folder: Path
) -> None:
    """Write an export into ``folder`` atomically: concurrent starts never see half an export."""
    log.info("building the ONNX encoder %s (%s) under %s", name, version, folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; a runtime image may run as another user
    try:
        write_models(staging)
        shutil.copy(tokenizer_dir / TOKENIZER_FILE, staging / TOKENIZER_FILE)
        meta = {"name": name, "version": version, "opset": OPSET}
        (staging / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
        if folder.exists() and not is_exported(folder):  # an older or interrupted export
            shutil.rmtree(folder)
        try:
            os.replace(staging, folder)
        except OSError:
            if not is_exported(folder):  # not a concurrent export that won the race
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _export_fp32(encoder: TorchEncoder, path: Path) -> None:
    export_graph(encoder._model, path)


def export_graph(model: Any, path: Path) -> None:
    """Export a transformers encoder to ONNX: ids and mask in, last hidden state out (fp32)."""
    import torch

    # The eager attention graph exports to plain MatMuls that quantize well; the SDPA one does not.
    previous = model.config._attn_implementation
    _set_attention(model, "eager")

    class LastHidden(torch.nn.Module):
        """The call ``TorchEncoder.encode`` makes, with the token types fixed to zero inside the graph."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            token_type_ids = torch.zeros_like(input_ids)
            output = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return output.last_hidden_state

    ids = torch.ones(2, 16, dtype=torch.int64)
    mask = torch.ones_like(ids)
    mask[1, 10:] = 0  # trace a padded row too
    axes = {0: "batch", 1: "tokens"}
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the tracer's notes on constant shapes are expected here
            torch.onnx.export(
                LastHidden().eval(),
                (ids, mask),
                str(path),
                input_names=["input_ids", "attention_mask"],
                output_names=["hidden"],
                dynamic_axes={"input_ids": axes, "attention_mask": axes, "hidden": axes},
                opset_version=OPSET,
                dynamo=False,
            )
    finally:
        _set_attention(model, previous)


def _set_attention(model: Any, implementation: str) -> None:
    if hasattr(model, "set_attn_implementation"):
        model.set_attn_implementation(implementation)
    else:  # transformers < 5
        model.config._attn_implementation = implementation


def quantize(source: Path, target: Path) -> None:
    """Dynamic int8 weights, one scale per output channel: cosine to fp32 stays near 0.99."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # quantize_dynamic logs an irrelevant pre-processing hint
    try:
        quantize_dynamic(source, target, per_channel=True, weight_type=QuantType.QInt8)
    finally:
        root.setLevel(level)


class RefinedBackend:
    """Int8 scores, with near ties re-scored by the fp32 export, so labels match the PyTorch path.

    Int8 moves embeddings by about 1% (cosine ~0.99), which only matters where the top two labels are
    close; those few sentences (under a tenth with the default model) are computed again at full
    precision, which keeps nearly all of int8's speed.
    """

    def __init__(self, fast: Backend, exact: Backend, margin: float) -> None:
        self._fast = fast
        self._exact = exact
        self._margin = margin
        self.card = fast.card
        self.default_labels = fast.default_labels

    def count_tokens(self, text: str) -> int:
        return self._fast.count_tokens(text)

    def predict(self, texts: Sequence[str], labels: LabelSet, multi_label: bool) -> list[Prediction]:
        rows = self._fast.predict(texts, labels, multi_label)
        close = [i for i, row in enumerate(rows) if _top_two_gap(row) < self._margin]
        if close:
            exact = self._exact.predict([texts[i] for i in close], labels, multi_label)
            for i, row in zip(close, exact, strict=True):
                rows[i] = row
        return rows


def _top_two_gap(prediction: Prediction) -> float:
    if len(prediction.scores) < 2:
        return 1.0
    first, second = sorted(prediction.scores, reverse=True)[:2]
    return first - second
