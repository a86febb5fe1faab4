"""Build the configured backend from Settings; the only place that chooses an implementation."""

from __future__ import annotations

from pathlib import Path

from app.classify.backend import Backend
from app.classify.embedding import EmbeddingBackend
from app.classify.encoder import TorchEncoder, default_encoder_path
from app.settings import Settings

DEFAULT_ENCODER_NAME = "all-MiniLM-L6-v2"


def load_backend(settings: Settings) -> Backend:
    if settings.backend == "nli":
        from app.classify.nli import NLIBackend

        assert settings.model is not None  # Settings refuses nli without a model
        return NLIBackend(settings.model, settings.max_length, settings.nli_hypothesis_template)
    model_dir = Path(settings.model) if settings.model else default_encoder_path()
    name = None if settings.model else DEFAULT_ENCODER_NAME
    return EmbeddingBackend(TorchEncoder(model_dir, settings.max_length, name=name))
