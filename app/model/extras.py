"""Optional extras: what needs PyTorch, and the one message that says how to get it."""

from __future__ import annotations

import importlib.util

from app.errors import ModelLoadError
from app.settings import Settings

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


def require_extras_for(settings: Settings) -> None:
    """Fail before starting when the configured backend or runtime needs PyTorch and it is missing."""
    if settings.backend == "nli":
        require_torch("the NLI backend (CLAIMSIFT_BACKEND=nli)")
    if settings.runtime == "torch":
        require_torch("CLAIMSIFT_RUNTIME=torch")
