"""`claimsift onnx-template`: write the weight-free ONNX graph template of a base encoder's architecture.

Run once per architecture where the [torch] extra is installed; the template is committed (app/model/
templates/) and `claimsift prepare` fills it from safetensors without torch (app/model/onnx_build.py).
The architecture is exported with distinct random weights, so each graph initializer equals exactly one
model tensor (or its transpose, where the exporter folded a Transpose into a MatMul weight); that
correspondence is stored in the template's metadata and the weights are dropped.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.model.export import export_graph
from app.model.onnx_build import ARCHITECTURE_KEY, MAPPING_KEY, read_architecture, template_path


def write_template(model_dir: Path, target: Path | None = None) -> Path:
    """Export ``model_dir``'s architecture (its weights are not read) and write the template."""
    import onnx
    import torch
    from transformers import AutoConfig, AutoModel

    arch = read_architecture(model_dir)
    target = target or template_path(arch)
    model = AutoModel.from_config(AutoConfig.from_pretrained(str(model_dir))).eval()  # type: ignore[no-untyped-call]
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator))
    tensors = {name: p.detach().numpy() for name, p in model.named_parameters()}
    with tempfile.TemporaryDirectory() as scratch:
        graph_file = Path(scratch) / "graph.onnx"
        export_graph(model, graph_file)
        graph = onnx.load_model(str(graph_file))
    mapping = map_initializers(graph, tensors)
    for initializer in graph.graph.initializer:
        if initializer.name in mapping:
            initializer.ClearField("raw_data")
    _set_metadata(
        graph, {ARCHITECTURE_KEY: json.dumps(arch, sort_keys=True), MAPPING_KEY: json.dumps(mapping)}
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(graph, str(target))
    return target


def map_initializers(graph: Any, tensors: dict[str, NDArray[Any]]) -> dict[str, dict[str, Any]]:
    """Initializer name -> {"tensor": model tensor name, "transpose": bool}; the rest are graph constants."""
    from onnx import numpy_helper

    mapping: dict[str, dict[str, Any]] = {}
    for initializer in graph.graph.initializer:
        value = numpy_helper.to_array(initializer)
        matches = [
            {"tensor": name, "transpose": transpose}
            for name, tensor in tensors.items()
            for transpose in ((False, True) if tensor.ndim == 2 else (False,))
            if (tensor.T if transpose else tensor).shape == value.shape
            and np.array_equal(tensor.T if transpose else tensor, value)
        ]
        if len(matches) > 1:
            raise ValueError(f"initializer {initializer.name} matches several tensors: {matches}")
        if matches:
            mapping[initializer.name] = matches[0]
        elif value.nbytes > 1 << 16:  # a large unmatched constant would be weights baked into the graph
            raise ValueError(f"initializer {initializer.name} {value.shape} matches no model tensor")
    return mapping


def _set_metadata(graph: Any, values: dict[str, str]) -> None:
    del graph.metadata_props[:]
    for key, value in values.items():
        entry = graph.metadata_props.add()
        entry.key, entry.value = key, value
