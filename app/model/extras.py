"""Optional extras: what needs PyTorch, and the one message that says how to get it."""

from __future__ import annotations

import importlib.util

from app.errors import ModelLoadError

TORCH_INSTALL = (
    "pip install 'claimsift[torch]' (on Linux first `pip install torch --index-url "
    "https://download.pytorch.org/whl/cpu`, or pip takes the multi-GB CUDA build)"
)


class ExtraMissing(ModelLoadError):
    """A feature was asked for whose optional dependencies are not installed."""


def torch_available() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("torch", "transformers"))


def require_torch(feature: str) -> None:
    """Raise one clear line, not an ImportError traceback, when ``feature`` cannot run here."""
    if not torch_available():
        raise ExtraMissing(f"{feature} needs PyTorch, which this install lacks: {TORCH_INSTALL}")
