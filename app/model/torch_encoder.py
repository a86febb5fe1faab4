"""The PyTorch encoder: a BERT-style model on the CPU, optionally with fine-tuned layers laid over it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.errors import ModelLoadError
from app.model.encoder import TokenizerWindow, encoder_version, mean_pool
from app.model.types import Tokens


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


def model_inputs(model: Any, input_ids: Any, attention_mask: Any) -> dict[str, Any]:
    """What the encoder is called with: ids, mask, and all-zero token types where it has them (BERT;
    MPNet has none)."""
    import torch

    inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
    if getattr(model.config, "type_vocab_size", None):
        inputs["token_type_ids"] = torch.zeros_like(input_ids)
    return inputs


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
        if overlay is not None:
            apply_overlay(self._model, overlay)
        self.version = encoder_version(model_dir, overlay)

    def tokenize(self, texts: Sequence[str]) -> list[Tokens]:
        return self._window.tokenize(texts)

    def encode(self, tokens: Sequence[Tokens]) -> NDArray[np.float32]:
        ids, mask = self._window.pad(tokens)
        torch = self._torch
        with torch.inference_mode():
            output = self._model(**model_inputs(self._model, torch.from_numpy(ids), torch.from_numpy(mask)))
        hidden = output.last_hidden_state.float().numpy()
        return mean_pool(hidden, mask)
