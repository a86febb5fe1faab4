"""Write an encoder's ONNX models (fp32, and int8 by dynamic quantization) into its cache folder.

Only a cache miss runs this: from the committed graph template without torch (``onnx_build``), or by
exporting a torch encoder where no template fits. It is the only code that needs the ONNX quantizer.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.model.onnx import META_FILE, MODEL_FILES, OPSET, TOKENIZER_FILE, export_meta, is_exported
from app.model.torch_encoder import TorchEncoder, model_inputs

log = logging.getLogger(__name__)

ModelWriter = Callable[[Path], None]
"""Writes both MODEL_FILES (and any weight files they read) into a folder."""


@dataclass(frozen=True, slots=True)
class Fusion:
    """What ONNX Runtime's transformer optimizer needs to fuse a graph's blocks (it cannot read them)."""

    model_type: str  # e.g. `bert`
    num_heads: int
    hidden_size: int


def export(encoder: TorchEncoder, tokenizer_dir: Path, folder: Path) -> None:
    """Export a torch encoder: its fp32 graph from the torch exporter, quantized to int8."""

    def write_models(staging: Path) -> None:
        fp32 = staging / MODEL_FILES["fp32"]
        _export_fp32(encoder, fp32)
        quantize(fp32, staging / MODEL_FILES["int8"])

    write_export(write_models, encoder.name, encoder.version, tokenizer_dir, folder)


def write_export(
    write_models: ModelWriter, name: str, version: str, tokenizer_dir: Path, folder: Path
) -> None:
    """Write an export into ``folder`` atomically: concurrent starts never see half an export."""
    log.info("building the ONNX models of %s (%s) under %s", name, version, folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; a runtime image may run as another user
    try:
        write_models(staging)
        shutil.copy(tokenizer_dir / TOKENIZER_FILE, staging / TOKENIZER_FILE)
        meta = export_meta(name, version)
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
        """The call ``TorchEncoder.encode`` makes, with any token types fixed to zero inside the graph."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.model(**model_inputs(self.model, input_ids, attention_mask)).last_hidden_state

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


def quantize(
    source: Path,
    target: Path,
    reduce_range: bool = False,
    keep_fp32: Sequence[str] = (),
    fusion: Fusion | None = None,
) -> None:
    """Dynamic int8 weights, one scale per output channel: cosine to fp32 stays near 0.99.

    ``reduce_range`` and ``keep_fp32`` (node names) are for bases whose weights need them (bases.json).
    With ``fusion``, ONNX Runtime's transformer optimizer first fuses each block's attention, layer norms
    and GELU, so the int8 graph runs fused kernels (QAttention and friends)."""
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # quantize_dynamic logs an irrelevant pre-processing hint
    try:
        with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
            if fusion is not None:
                source = fuse_graph(source, Path(scratch) / "fused.onnx", fusion)
            quantize_dynamic(
                source,
                target,
                per_channel=True,
                reduce_range=reduce_range,
                weight_type=QuantType.QInt8,
                nodes_to_exclude=list(keep_fp32),
                # the fused ops are ONNX Runtime's own, whose outputs shape inference cannot type
                extra_options={"DefaultTensorType": TensorProto.FLOAT} if fusion is not None else {},
            )
    finally:
        root.setLevel(level)


def fuse_graph(source: Path, target: Path, fusion: Fusion) -> Path:
    """``source`` with its transformer blocks fused by ONNX Runtime's optimizer, written to ``target``."""
    import onnx
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    options = FusionOptions(fusion.model_type)
    # The optimizer's shape inference needs sympy (80 MB); onnx's own finds the casts its patterns skip.
    options.enable_shape_inference = False
    optimized = optimize_model(
        _without_useless_casts(onnx.load_model(str(source))),
        model_type=fusion.model_type,
        num_heads=fusion.num_heads,
        hidden_size=fusion.hidden_size,
        opt_level=0,  # the optimizer's own fusions only: its ONNX Runtime pass imports torch
        optimization_options=options,
    )
    if not optimized.get_fused_operator_statistics().get("Attention"):
        raise RuntimeError(f"ONNX Runtime fused no attention in {source} as a {fusion.model_type} model")
    optimized.save_model_to_file(str(target))
    return target


def _without_useless_casts(model: Any) -> Any:
    """``model`` without the Cast nodes whose input already has the target type (the exporter writes a
    few), which would stop the fusion patterns from matching."""
    from onnx import shape_inference

    graph = shape_inference.infer_shapes(model).graph
    types = {value.name: value.type.tensor_type.elem_type for value in (*graph.value_info, *graph.input)}
    types.update({initializer.name: initializer.data_type for initializer in graph.initializer})
    outputs = {output.name for output in model.graph.output}
    for node in [node for node in model.graph.node if node.op_type == "Cast"]:
        target_type = next(attribute.i for attribute in node.attribute if attribute.name == "to")
        if types.get(node.input[0]) != target_type or node.output[0] in outputs:
            continue
        for reader in model.graph.node:
            reader.input[:] = [node.input[0] if name == node.output[0] else name for name in reader.input]
        model.graph.node.remove(node)
    return model
