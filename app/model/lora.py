"""LoRA adapters: a small low-rank delta per weight matrix, merged into the base weights before use.

An adapted model trained with LoRA ships ``encoder-lora.safetensors``: for each adapted matrix ``W`` of
the base encoder, ``<W's name>.lora_A`` (rank x in) and ``<W's name>.lora_B`` (out x rank, the LoRA scale
already folded in), in fp16. ``merge`` is the one place where they become weights, ``W + B @ A`` in fp32;
training calls it on the trained adapters and loading writes its result once into ``models/cache/merged/``
as an ordinary overlay (the replaced tensors), which the torch encoder and the ONNX build then read like
any other overlay. A few megabytes committed instead of the full layers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from app.errors import ModelLoadError
from app.model.encoder import file_digest

LORA_FILE = "encoder-lora.safetensors"
A_SUFFIX = ".lora_A"
B_SUFFIX = ".lora_B"

Tensors = Mapping[str, NDArray[np.floating]]


def adapted_names(lora: Tensors) -> list[str]:
    """The base tensors the adapters change, e.g. ``encoder.layer.11.attention.attn.q.weight``."""
    return sorted(key.removesuffix(A_SUFFIX) for key in lora if key.endswith(A_SUFFIX))


def merge(base: Tensors, lora: Tensors) -> dict[str, NDArray[np.float32]]:
    """``W + B @ A`` in fp32 for every adapted ``W``: the replaced tensors (an overlay)."""
    merged: dict[str, NDArray[np.float32]] = {}
    for name in adapted_names(lora):
        if name not in base or name + B_SUFFIX not in lora:
            raise ModelLoadError(f"the LoRA adapter of {name} does not fit the base encoder")
        a = lora[name + A_SUFFIX].astype(np.float32)
        b = lora[name + B_SUFFIX].astype(np.float32)
        weight = base[name].astype(np.float32)
        if (b.shape[0], a.shape[1]) != weight.shape or a.shape[0] != b.shape[1]:
            shapes = f"{a.shape}, {b.shape}"
            raise ModelLoadError(f"the LoRA adapter of {name} has shapes {shapes}, not {weight.shape}")
        merged[name] = (weight + b @ a).astype(np.float32)
    return merged


def read_base(base_dir: Path, names: list[str]) -> dict[str, NDArray[np.floating]]:
    """Only the named tensors of the base encoder's safetensors (a large base is not read whole)."""
    from safetensors import safe_open

    found: dict[str, NDArray[np.floating]] = {}
    for path in sorted(base_dir.glob("*.safetensors")):
        with safe_open(str(path), framework="np") as handle:
            for name in set(names) & set(handle.keys()):
                found[name] = handle.get_tensor(name)
    return found


def merged_overlay(lora_file: Path, base: str, cache_root: Path) -> Path:
    """The overlay of ``lora_file`` merged into the pinned base encoder ``base``, written once to the cache.

    Named by the adapters' digest and the base's pinned weight digest, so it follows both and is found
    without reading the base; written atomically, so concurrent starts never read half a file.
    """
    from safetensors.numpy import load_file, save_file

    from app.model.encoder import default_encoder_path
    from app.model.weights import pinned_base

    base_digest = pinned_base(base).weights_sha256[:12]
    target = cache_root / "merged" / f"{base_digest}-{file_digest(lora_file)[:12]}.safetensors"
    if target.is_file():
        return target
    try:
        lora = load_file(str(lora_file))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot read the LoRA adapters {lora_file}: {exc}") from exc
    base_dir = default_encoder_path(cache_root, base)
    merged = merge(read_base(base_dir, adapted_names(lora)), lora)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name(f".{target.name}.{os.getpid()}")
    save_file(merged, str(scratch))
    os.replace(scratch, target)
    return target
