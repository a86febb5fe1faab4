"""Build the configured backend from Settings; the only place that chooses an implementation."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from app.errors import ModelLoadError
from app.model.embedding import EmbeddingBackend
from app.model.encoder import DEFAULT_ENCODER_NAME, Encoder, default_encoder_path, encoder_version
from app.model.extras import require_torch
from app.model.torch_encoder import TorchEncoder
from app.model.types import Backend
from app.model.weights import DEFAULT_REFINE_MARGIN, pinned_bases
from app.settings import Settings

if TYPE_CHECKING:
    from app.model.onnx import Precision


def load_backend(settings: Settings) -> Backend:
    if settings.backend == "nli":
        from app.model.nli import NLIBackend

        require_torch("the NLI backend (CLAIMSIFT_BACKEND=nli)")
        assert settings.model is not None  # Settings refuses nli without a model
        return NLIBackend(settings.model, settings.max_length, settings.nli_hypothesis_template)
    if not use_onnx(settings):
        return _embedding_backend(settings, None)
    fast = _embedding_backend(settings, "int8")
    margin = refine_margin(settings)
    if not margin:
        return fast
    from app.model.onnx import RefinedBackend

    return RefinedBackend(fast, _embedding_backend(settings, "fp32"), margin)


def refine_margin(settings: Settings) -> float:
    """CLAIMSIFT_ONNX_REFINE_MARGIN, or else the margin of the base encoder the model runs on."""
    if settings.onnx_refine_margin is not None:
        return settings.onnx_refine_margin
    base = pinned_bases().get(base_encoder_name(settings))
    return base.int8.refine_margin if base is not None else DEFAULT_REFINE_MARGIN


def base_encoder_name(settings: Settings) -> str:
    """The pinned base encoder the configured model runs on (an adapted model's, from its manifest)."""
    if not settings.model and settings.adapted_model:
        from app.model.adapted import base_name, read_manifest, resolve_artifact

        return base_name(read_manifest(resolve_artifact(settings.models_dir, settings.adapted_model)))
    return Path(settings.model).name if settings.model else DEFAULT_ENCODER_NAME


def _embedding_backend(settings: Settings, precision: Precision | None) -> Backend:
    """The embedding backend on torch (``precision`` None) or on the ONNX export of that precision."""
    if not settings.model and settings.adapted_model:
        from app.model.adapted import load_adapted, resolve_artifact

        folder = resolve_artifact(settings.models_dir, settings.adapted_model)
        return load_adapted(
            folder,
            lambda name, overlay, base: load_encoder(settings, None, name, precision, overlay, base),
            settings.models_dir / "cache",
        )
    model_dir = Path(settings.model) if settings.model else None
    name = model_dir.name if model_dir else DEFAULT_ENCODER_NAME
    return EmbeddingBackend(load_encoder(settings, model_dir, name, precision))


def use_onnx(settings: Settings) -> bool:
    from app.model.onnx import onnxruntime_available

    if settings.runtime == "onnx" and not onnxruntime_available():
        raise ModelLoadError("CLAIMSIFT_RUNTIME=onnx needs `onnxruntime` installed")
    return settings.runtime == "onnx" or (settings.runtime == "auto" and onnxruntime_available())


def load_encoder(
    settings: Settings,
    model_dir: Path | None,
    name: str,
    precision: Precision | None,
    overlay: Path | None = None,
    base: str = DEFAULT_ENCODER_NAME,
) -> Encoder:
    """A TorchEncoder (``precision`` None), or its ONNX export (cached; built from the architecture's
    graph template, or by torch where there is none). ``model_dir`` None is the pinned base ``base``,
    whose files are fetched only when something has to be built from them."""
    cache_root = settings.models_dir / "cache"

    def load_torch() -> TorchEncoder:
        source = model_dir or default_encoder_path(cache_root, base)
        if precision is not None:  # only here when no graph template fits
            require_torch(f"building the ONNX model of {source} (no graph template for its architecture)")
        return TorchEncoder(source, settings.max_length, name=name, overlay=overlay)

    if precision is None:
        require_torch("CLAIMSIFT_RUNTIME=torch")
        return load_torch()
    from app.model.onnx import OnnxEncoder, export_folder, is_exported, onnx_encoder
    from app.model.onnx_build import template_writer

    version = encoder_version(model_dir, overlay, base)
    folder = export_folder(cache_root, version)
    if is_exported(folder):  # a prepared cache needs neither the base files nor torch
        return OnnxEncoder(folder, settings.max_length, name, settings.onnx_threads, precision)
    source = model_dir or default_encoder_path(cache_root, base)
    return onnx_encoder(
        version,
        source,
        load_torch,
        cache_root=cache_root,
        max_length=settings.max_length,
        name=name,
        threads=settings.onnx_threads,
        precision=precision,
        from_template=template_writer(source, overlay, cache_root),
    )
