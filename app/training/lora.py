"""LoRA in training (needs torch): low-rank adapters on the top layers' linear maps, then merged.

Only the adapters train; the frozen base weight gets no gradient, so a step costs little more than the
forward and backward pass through the activations. After training the adapters are rounded to fp16 (as
shipped) and merged by ``app.model.lora.merge``, the same function that serving uses, so what training
scores and calibrates is exactly what is served.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.model.lora import A_SUFFIX, B_SUFFIX, merge


def _lora_linear_class() -> Any:
    import torch

    class LoraLinear(torch.nn.Module):
        """``base(x) + scale * B(A(x))``, ``base`` frozen; B starts at zero: training starts at the base."""

        def __init__(self, base: Any, rank: int, alpha: float, generator: Any) -> None:
            super().__init__()
            self.base = base
            self.base.requires_grad_(False)
            bound = 1.0 / math.sqrt(base.in_features)
            a = (torch.rand((rank, base.in_features), generator=generator) * 2 - 1) * bound
            self.lora_a = torch.nn.Parameter(a)
            self.lora_b = torch.nn.Parameter(torch.zeros((base.out_features, rank)))
            self.scale = alpha / rank

        def forward(self, x: Any) -> Any:
            return self.base(x) + (x @ self.lora_a.T @ self.lora_b.T) * self.scale

    return LoraLinear


def add_adapters(top: Any, rank: int, alpha: float, seed: int) -> None:
    """Wrap every linear map of the ``top`` layers (a ModuleList) in a LoRA adapter; freeze the rest."""
    import torch

    wrapper = _lora_linear_class()
    generator = torch.Generator().manual_seed(seed)
    top.requires_grad_(False)
    for layer in top:
        for name, module in list(layer.named_modules()):
            if isinstance(module, torch.nn.Linear):
                parent, _, attribute = name.rpartition(".")
                setattr(layer.get_submodule(parent), attribute, wrapper(module, rank, alpha, generator))


def adapter_tensors(top: Any, split: int) -> dict[str, NDArray[np.float16]]:
    """The adapters as shipped: fp16 A and B (scale folded into B), keyed by the base weight's name."""
    tensors: dict[str, NDArray[np.float16]] = {}
    for index, layer in enumerate(top):
        for name, module in layer.named_modules():
            if hasattr(module, "lora_a"):
                key = f"encoder.layer.{split + index}.{name}.weight"
                a = module.lora_a.detach().numpy()
                b = module.lora_b.detach().numpy() * module.scale
                tensors[key + A_SUFFIX] = a.astype(np.float16)
                tensors[key + B_SUFFIX] = b.astype(np.float16)
    return tensors


def merged_layers(top: Any, split: int, adapters: dict[str, NDArray[np.float16]]) -> Any:
    """``top`` with each adapted linear map replaced by a plain one holding the merged weight."""
    import torch

    with torch.no_grad():
        for index, layer in enumerate(top):
            for name, module in list(layer.named_modules()):
                if not hasattr(module, "lora_a"):
                    continue
                key = f"encoder.layer.{split + index}.{name}.weight"
                base = {key: module.base.weight.detach().numpy()}
                lora = {key + A_SUFFIX: adapters[key + A_SUFFIX], key + B_SUFFIX: adapters[key + B_SUFFIX]}
                module.base.weight.copy_(torch.from_numpy(merge(base, lora)[key]))
                parent, _, attribute = name.rpartition(".")
                setattr(layer.get_submodule(parent), attribute, module.base)
    return top
