"""An adapted model: fine-tuned encoder layers (an overlay on a pinned base encoder) + a linear head.

An artifact folder holds ``encoder-overlay.safetensors`` (fp16 transformer layers; the frozen word
embeddings stay in the base package) or ``encoder-lora.safetensors`` (fp16 LoRA adapters, merged into
the base at load time, ``app/model/lora.py``), ``head.safetensors`` (W, b, temperature) and
``manifest.json`` (the base encoder, checksums, training data, seeds, the command, metrics). The
default is ``claimsift-news`` on all-MiniLM-L6-v2; ``claimsift-news-large`` is all-mpnet-base-v2 + LoRA.
Custom label sets bypass the head: described in words only they are scored zero-shot by the untouched
base encoder; with examples, a head is fitted on them over the base encoder, the adapted encoder and
the sentence's punctuation (``app/model/custom.py``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.errors import ModelLoadError
from app.model.embedding import EmbeddingBackend
from app.model.encoder import DEFAULT_ENCODER_NAME, Encoder, default_encoder_path, file_digest
from app.model.lora import LORA_FILE, merged_overlay
from app.model.types import DEFAULT_LABELS, LabelSet, ModelCard, Prediction, Tokens

OVERLAY_FILE = "encoder-overlay.safetensors"
HEAD_FILE = "head.safetensors"
MANIFEST_FILE = "manifest.json"
ENCODER_FILES = (OVERLAY_FILE, LORA_FILE)  # an artifact has one of them


@dataclass(frozen=True, slots=True)
class LinearHead:
    """``softmax((W·embedding + b) / temperature)`` over the default labels, in numpy."""

    weight: NDArray[np.float32]  # (labels, dim)
    bias: NDArray[np.float32]  # (labels,)
    temperature: float

    def probabilities(self, vectors: NDArray[np.float32]) -> NDArray[np.float64]:
        logits = (
            vectors.astype(np.float64) @ self.weight.T.astype(np.float64) + self.bias
        ) / self.temperature
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities: NDArray[np.float64] = exp / exp.sum(axis=1, keepdims=True)
        return probabilities

    def save(self, path: Path) -> None:
        from safetensors.numpy import save_file

        save_file(
            {
                "weight": self.weight.astype(np.float32),
                "bias": self.bias.astype(np.float32),
                "temperature": np.array([self.temperature], dtype=np.float32),
            },
            str(path),
        )

    @classmethod
    def load(cls, path: Path) -> LinearHead:
        from safetensors.numpy import load_file

        try:
            tensors = load_file(str(path))
            return cls(tensors["weight"], tensors["bias"], float(tensors["temperature"][0]))
        except (OSError, ValueError, KeyError) as exc:
            raise ModelLoadError(f"cannot read the classification head {path}: {exc}") from exc


def resolve_artifact(models_dir: Path, name: str) -> Path:
    """``models_dir/name``; a relative models_dir is tried in the working directory, then the checkout."""
    candidates = [models_dir / name]
    if not models_dir.is_absolute():
        candidates.append(Path(__file__).resolve().parents[2] / models_dir / name)
    for folder in candidates:
        if (folder / MANIFEST_FILE).is_file():
            return folder
    raise ModelLoadError(f"no adapted model at {candidates[0]} (missing {MANIFEST_FILE})")


def read_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot read {folder / MANIFEST_FILE}: {exc}") from exc
    return manifest


def verify_artifact(folder: Path) -> dict[str, Any]:
    """The manifest, after checking that every artifact file matches its recorded sha256."""
    manifest = read_manifest(folder)
    encoder_file = next((name for name in ENCODER_FILES if (folder / name).is_file()), OVERLAY_FILE)
    for name in (encoder_file, HEAD_FILE):
        expected = manifest.get("artifacts", {}).get(name, {}).get("sha256")
        path = folder / name
        if not path.is_file():
            raise ModelLoadError(f"{path} is missing")
        if expected != file_digest(path):
            raise ModelLoadError(f"{path} does not match the sha256 in {folder / MANIFEST_FILE}")
    if manifest.get("labels") != DEFAULT_LABELS.names:
        raise ModelLoadError(f"{folder} was trained for labels {manifest.get('labels')}")
    return manifest


class AdaptedBackend:
    """The default labels through the trained head; any other label set zero-shot on the base encoder."""

    def __init__(
        self, adapted: Encoder, head: LinearHead, zero_shot: EmbeddingBackend, card: ModelCard
    ) -> None:
        self._adapted = adapted
        self._head = head
        self._zero_shot = zero_shot
        self.default_labels = DEFAULT_LABELS
        self.card = card

    def tokenize(self, texts: Sequence[str]) -> list[Tokens]:
        # The overlay changes layers, never the vocabulary: these tokens serve both encoders.
        return self._adapted.tokenize(texts)

    def predict(self, tokens: Sequence[Tokens], labels: LabelSet, multi_label: bool) -> list[Prediction]:
        if labels.key != DEFAULT_LABELS.key:
            return self._zero_shot.predict(tokens, labels, multi_label)
        # The head is calibrated as one distribution; with multi_label each score is still that label's
        # own probability (0..1), so the same numbers serve both modes.
        scores = self._head.probabilities(self._adapted.encode(tokens))
        return [
            Prediction(tuple(float(s) for s in row), row_tokens.truncated)
            for row, row_tokens in zip(scores, tokens, strict=True)
        ]


EncoderLoader = Callable[[str, Path | None, str], Encoder]
"""Builds an encoder on a pinned base's weights: (name, overlay file or None, base name) -> Encoder."""


def torch_encoders(cache_root: Path, max_length: int) -> EncoderLoader:
    from app.model.torch_encoder import TorchEncoder

    def load(name: str, overlay: Path | None, base: str) -> Encoder:
        return TorchEncoder(default_encoder_path(cache_root, base), max_length, name=name, overlay=overlay)

    return load


def base_name(manifest: dict[str, Any]) -> str:
    """The pinned base encoder an artifact was trained on (manifests before the large model: MiniLM)."""
    return str(manifest.get("base_model", {}).get("name", DEFAULT_ENCODER_NAME))


def encoder_overlay(folder: Path, base: str, cache_root: Path) -> Path:
    """The overlay file the adapted encoder loads: shipped as is, or merged from LoRA adapters once."""
    if (folder / LORA_FILE).is_file():
        return merged_overlay(folder / LORA_FILE, base, cache_root)
    return folder / OVERLAY_FILE


def load_adapted(
    folder: Path, load_encoder: EncoderLoader, cache_root: Path = Path("models/cache")
) -> AdaptedBackend:
    """The adapted backend; ``load_encoder`` decides the runtime (torch, or an ONNX export)."""
    manifest = verify_artifact(folder)
    name = str(manifest.get("name", folder.name))
    base_encoder = base_name(manifest)
    adapted = load_encoder(name, encoder_overlay(folder, base_encoder, cache_root), base_encoder)
    # Custom labels are scored on the untouched base, which shares the adapted encoder's vocabulary.
    base = load_encoder(base_encoder, None, base_encoder)
    # The reported version follows both the encoder weights and the head.
    version = hashlib.sha256(f"{adapted.version}:{file_digest(folder / HEAD_FILE)}".encode()).hexdigest()
    card = ModelCard(name=name, backend="embedding", version=version[:12])
    custom = EmbeddingBackend(base, claims=adapted)
    return AdaptedBackend(adapted, LinearHead.load(folder / HEAD_FILE), custom, card)
