"""Build the configured backend from Settings; the only place that chooses an implementation."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from app.errors import ModelLoadError
from app.model.embedding import EmbeddingBackend
from app.model.encoder import DEFAULT_ENCODER_NAME, Encoder, default_encoder_path, encoder_version
from app.model.torch_encoder import TorchEncoder
from app.model.types import Backend
from app.settings import Settings

if TYPE_CHECKING:
    from app.model.onnx import Precision


def load_backend(settings: Settings) -> Backend:
    if settings.backend == "nli":
        from app.model.nli import NLIBackend

        assert settings.model is not None  # Settings refuses nli without a model
        return NLIBackend(settings.model, settings.max_length, settings.nli_hypothesis_template)
    if not use_onnx(settings):
        return _embedding_backend(settings, None)
    fast = _embedding_backend(settings, "int8")
    if not settings.onnx_refine_margin:
        return fast
    from app.model.onnx import RefinedBackend

    return RefinedBackend(fast, _embedding_backend(settings, "fp32"), settings.onnx_refine_margin)


def _embedding_backend(settings: Settings, precision: Precision | None) -> Backend:
    """The embedding backend on torch (``precision`` None) or on the ONNX export of that precision."""
    if not settings.model and settings.adapted_model:
        from app.model.adapted import load_adapted, resolve_artifact

        folder = resolve_artifact(settings.models_dir, settings.adapted_model)
        base_dir = default_encoder_path()
        return load_adapted(
            folder, lambda name, overlay: load_encoder(settings, base_dir, name, precision, overlay)
        )
    model_dir = Path(settings.model) if settings.model else default_encoder_path()
    name = model_dir.name if settings.model else DEFAULT_ENCODER_NAME
    return EmbeddingBackend(load_encoder(settings, model_dir, name, precision))


def use_onnx(settings: Settings) -> bool:
    from app.model.onnx import onnxruntime_available

    if settings.runtime == "onnx" and not onnxruntime_available():
        raise ModelLoadError("CLAIMSIFT_RUNTIME=onnx needs `onnxruntime` installed")
    return settings.runtime == "onnx" or (settings.runtime == "auto" and onnxruntime_available())


def load_encoder(
    settings: Settings, model_dir: Path, name: str, precision: Precision | None, overlay: Path | None = None
) -> Encoder:
    """A TorchEncoder (``precision`` None), or its ONNX export (cached; torch is loaded only to export)."""

    def load_torch() -> TorchEncoder:
        return TorchEncoder(model_dir, settings.max_length, name=name, overlay=overlay)

    if precision is None:
        return load_torch()
    from app.model.onnx import onnx_encoder

    return onnx_encoder(
        encoder_version(model_dir, overlay),
        model_dir,
        load_torch,
        cache_root=settings.models_dir / "cache",
        max_length=settings.max_length,
        name=name,
        threads=settings.onnx_threads,
        precision=precision,
    )
