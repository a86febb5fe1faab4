"""Export a torch encoder to ONNX (fp32, and int8 by dynamic quantization) into its cache folder.

Only a cache miss runs this, and it is the only code that needs torch and the ONNX quantizer.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

from app.model.onnx import META_FILE, MODEL_FILES, OPSET, TOKENIZER_FILE, is_exported
from app.model.torch_encoder import TorchEncoder

log = logging.getLogger(__name__)


def export(encoder: TorchEncoder, tokenizer_dir: Path, folder: Path) -> None:
    """Export ``encoder`` to ``folder`` atomically: concurrent starts never see half an export."""
    log.info("exporting %s (%s) to ONNX int8 under %s", encoder.name, encoder.version, folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; a runtime image may run as another user
    try:
        fp32 = staging / MODEL_FILES["fp32"]
        _export_fp32(encoder, fp32)
        _quantize(fp32, staging / MODEL_FILES["int8"])
        shutil.copy(tokenizer_dir / TOKENIZER_FILE, staging / TOKENIZER_FILE)
        meta = {"name": encoder.name, "version": encoder.version, "opset": OPSET}
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
    import torch

    model = encoder._model
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


def _quantize(source: Path, target: Path) -> None:
    """Dynamic int8 weights, one scale per output channel: cosine to fp32 stays near 0.99."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # quantize_dynamic logs an irrelevant pre-processing hint
    try:
        quantize_dynamic(source, target, per_channel=True, weight_type=QuantType.QInt8)
    finally:
        root.setLevel(level)
