"""`claimsift prepare`: build the generated artifacts the configured model needs (its ONNX exports)."""

from __future__ import annotations

import time

from app.settings import Settings


def run(settings: Settings) -> int:
    from app.model.loader import load_backend

    if settings.backend == "nli" or settings.runtime == "torch":
        print(f"claimsift prepare: nothing to build for {settings.backend} on {settings.runtime}")
        return 0
    started = time.perf_counter()
    backend = load_backend(settings.model_copy(update={"runtime": "onnx"}))
    card = backend.card
    cache = settings.models_dir / "cache"
    elapsed = time.perf_counter() - started
    print(f"{card.name} {card.version}: ONNX exports (int8, fp32) under {cache} ({elapsed:.1f} s)")
    return 0
