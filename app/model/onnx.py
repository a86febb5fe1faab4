"""The ONNX Runtime encoder: a torch encoder exported once (``export``), cached by its version.

The export needs torch; loading a cached export needs only onnxruntime and tokenizers, so a runtime
image without torch starts from ``models/cache/<encoder version>/`` in about a second.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from app.errors import ModelLoadError
from app.model.encoder import TokenizerWindow, mean_pool
from app.model.torch_encoder import TorchEncoder
from app.model.types import Backend, BackendWrapper, LabelSet, Prediction, Tokens

if TYPE_CHECKING:
    from app.model.export import ModelWriter

log = logging.getLogger(__name__)

Precision = Literal["int8", "fp32"]
MODEL_FILES: dict[Precision, str] = {"int8": "encoder.int8.onnx", "fp32": "encoder.fp32.onnx"}
MODEL_FILE = MODEL_FILES["int8"]
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "encoder.json"
OPSET = 17
# Bump when the way exports are built changes, so that caches built the old way are rebuilt, not served
# (2: bases with `int8.fuse` in bases.json get their blocks fused before quantization).
EXPORT_RECIPE = 2


def export_folder(cache_root: Path, version: str) -> Path:
    return cache_root / version


def is_exported(folder: Path) -> bool:
    """A complete export, built by today's recipe."""
    if not all((folder / name).is_file() for name in (*MODEL_FILES.values(), TOKENIZER_FILE, META_FILE)):
        return False
    try:
        meta = json.loads((folder / META_FILE).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and meta.get("recipe") == EXPORT_RECIPE


def export_meta(name: str, version: str) -> dict[str, Any]:
    """What ``META_FILE`` holds."""
    return {"name": name, "version": version, "opset": OPSET, "recipe": EXPORT_RECIPE}


def onnxruntime_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


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

    def tokenize(self, texts: Sequence[str]) -> list[Tokens]:
        return self._window.tokenize(texts)

    def encode(self, tokens: Sequence[Tokens]) -> NDArray[np.float32]:
        ids, mask = self._window.pad(tokens)
        (hidden,) = self._session.run(["hidden"], {"input_ids": ids, "attention_mask": mask})
        return mean_pool(hidden, mask)


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
        from app.model.export import write_export

        write_export(from_template, name, version, tokenizer_dir, folder)
    if not is_exported(folder):
        encoder = load_torch()
        if encoder.version != version:  # the caller's guess drifted: file the export under the truth
            log.warning("encoder version %s, expected %s", encoder.version, version)
            folder = export_folder(cache_root, encoder.version)
        if not is_exported(folder):
            from app.model.export import export  # only a cache miss needs torch and the quantizer

            export(encoder, tokenizer_dir, folder)
    return OnnxEncoder(folder, max_length, name, threads, precision)


class RefinedBackend(BackendWrapper):
    """Int8 scores, with near ties re-scored by the fp32 export, so labels match the PyTorch path.

    Int8 moves embeddings by about 1% (cosine ~0.99), which only matters where the top two labels are
    close; those few sentences (under a tenth with the default model) are computed again at full
    precision, which keeps nearly all of int8's speed. Both exports share one tokenizer, so the exact
    pass reuses the tokens of the fast one.
    """

    def __init__(self, fast: Backend, exact: Backend, margin: float) -> None:
        super().__init__(fast)
        self._exact = exact
        self._margin = margin

    def predict(self, tokens: Sequence[Tokens], labels: LabelSet, multi_label: bool) -> list[Prediction]:
        rows = self.inner.predict(tokens, labels, multi_label)
        close = [i for i, row in enumerate(rows) if _top_two_gap(row) < self._margin]
        if close:
            exact = self._exact.predict([tokens[i] for i in close], labels, multi_label)
            for i, row in zip(close, exact, strict=True):
                rows[i] = row
        return rows


def _top_two_gap(prediction: Prediction) -> float:
    if len(prediction.scores) < 2:
        return 1.0
    first, second = sorted(prediction.scores, reverse=True)[:2]
    return first - second
